/**
 * The README's first command runs examples/node-sdk.ts: it must work on a fresh machine, and
 * what it sends over OTLP/HTTP must be the span tree we document.
 */
import { beforeAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ensureBuilt, REPO_ROOT } from '../utils/build.js';
import { freePort } from '../utils/servers.js';

const repo = REPO_ROOT;

// The example imports the package by name, as a user would: that resolves to the build.
beforeAll(ensureBuilt, 120_000);


test('examples/node-sdk.ts runs three programs and exports their steps over OTLP', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PROMETHEUS_PORT: String(await freePort()) };
  delete env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  delete env['OPENAI_BASE_URL'];
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/node-sdk.ts'], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });
  for (const program of ['fix-bug', 'write-docs', 'refactor']) {
    expect(out).toMatch(new RegExp(`^${program}\\s+1\\s+0\\.0000\\s`, 'm')); // first step: no tool time
    expect(out).toMatch(new RegExp(`^${program}\\s+2\\s+0\\.[01]\\d{3}\\s`, 'm')); // second: 50–150 ms of tool
  }
  expect(out).toMatch(/agent\.step\s+6\n/);
  expect(out).toMatch(/agent\.tool_call\s+3\n/);
  expect(out).toMatch(/chat sim-llama-3-8b\s+6\n/);
  expect(out).toMatch(/llm\.prefill\s+6\n/);
  expect(out).toMatch(/llm\.decode\s+6\n/);
}, 90_000);
