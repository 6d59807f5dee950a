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
    // Second step: the tool sleeps 50–150 ms; a loaded machine may only make it later.
    const second = new RegExp(`^${program}\\s+2\\s+(\\d+\\.\\d{4})\\s`, 'm').exec(out);
    expect(second).not.toBeNull();
    expect(Number(second![1])).toBeGreaterThanOrEqual(0.049);
    expect(Number(second![1])).toBeLessThan(10);
  }
  expect(out).toMatch(/agent\.step\s+6\n/);
  expect(out).toMatch(/agent\.tool_call\s+3\n/);
  expect(out).toMatch(/chat sim-llama-3-8b\s+6\n/);
  expect(out).toMatch(/llm\.prefill\s+6\n/);
  expect(out).toMatch(/llm\.decode\s+6\n/);
}, 90_000);
