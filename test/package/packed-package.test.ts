/**
 * The package as a user installs it: `npm pack`, unpacked into a fresh node_modules, imported
 * from ES modules and required from CommonJS, and both at once in one process (the dual-package
 * case: `withProgram` from one copy must reach the other copy's hook). The bin runs.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, REPO_ROOT } from '../utils/build.js';

const repo = REPO_ROOT;
let dir: string;
let tarball: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'agentic-otel-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  tarball = join(dir, (JSON.parse(out) as { filename: string }[])[0]!.filename);
  const pkgDir = join(dir, 'node_modules/agentic-otel');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  // Its one required peer, as the application would have it. No `undici` package: the hook
  // must run on the undici that Node bundles for `fetch`.
  mkdirSync(join(dir, 'node_modules/@opentelemetry'), { recursive: true });
  symlinkSync(join(repo, 'node_modules/@opentelemetry/api'), join(dir, 'node_modules/@opentelemetry/api'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USE = `
  const slot = Symbol.for('undici.globalDispatcher.1');
  const untouched = globalThis[slot] === undefined; // loading the package installs nothing
  const sim = await startSimulator();
  const inst = new AgenticInstrumentation();
  const steps = [];
  inst.onStepEnd((r) => steps.push(r));
  await withProgram('packed', () => fetch(sim.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: sim.model, messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 3 }) }).then((r) => r.text()));
  inst.disable();
  await sim.close();
  console.log(JSON.stringify({ untouched, programId: steps[0].programId, outputTokens: steps[0].outputTokens, spanName: semconv.SPAN_AGENT_STEP, version: PACKAGE_VERSION }));
`;

function run(file: string, source: string): { untouched: boolean; programId: string; outputTokens: number; spanName: string; version: string } {
  writeFileSync(join(dir, file), source);
  const out = execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

test('ES module consumers', () => {
  const got = run('esm.mjs', `import { AgenticInstrumentation, withProgram, semconv, PACKAGE_VERSION } from 'agentic-otel';\nimport { startSimulator } from 'agentic-otel/simulator';\n${USE}`);
  expect(got).toEqual({ untouched: true, programId: 'packed', outputTokens: 3, spanName: 'agent.step', version });
});

test('CommonJS consumers', () => {
  const got = run('cjs.cjs', `const { AgenticInstrumentation, withProgram, semconv, PACKAGE_VERSION } = require('agentic-otel');\nconst { startSimulator } = require('agentic-otel/simulator');\n(async () => {${USE}})();`);
  expect(got).toEqual({ untouched: true, programId: 'packed', outputTokens: 3, spanName: 'agent.step', version });
});

test('both builds in one process share the program scope', () => {
  const got = run('mixed.mjs', `import { createRequire } from 'node:module';\nimport { AgenticInstrumentation, semconv, PACKAGE_VERSION } from 'agentic-otel';\nimport { startSimulator } from 'agentic-otel/simulator';\nconst { withProgram } = createRequire(import.meta.url)('agentic-otel');\n${USE}`);
  expect(got.programId).toBe('packed');
});

test('the bin prints its usage', () => {
  const out = execFileSync(process.execPath, [join(dir, 'node_modules/agentic-otel/dist/esm/cli/main.js'), '--help'], { encoding: 'utf8' });
  expect(out).toContain('agentic-otel simulator');
});

test('PACKAGE_VERSION is the version in package.json', async () => {
  const { PACKAGE_VERSION } = await import('../../src/version.js');
  expect(PACKAGE_VERSION).toBe(version);
});

test.each(['node10', 'node16', 'bundler'] as const)('every subpath resolves for TypeScript consumers in %s resolution', (mode) => {
  const sub = join(dir, `ts-${mode}`);
  mkdirSync(sub, { recursive: true });
  symlinkSync(join(dir, 'node_modules'), join(sub, 'node_modules'));
  writeFileSync(join(sub, 'consumer.ts'), [
    "import { AgenticInstrumentation, type BackendState, type AgenticMetrics } from 'agentic-otel';",
    "import { startSimulator } from 'agentic-otel/simulator';",
    "import { formatSummary, OmniSummaryAggregator } from 'agentic-otel/omni';",
    'const i: AgenticInstrumentation | undefined = undefined;',
    'const s: BackendState[] = [];',
    'const m: AgenticMetrics | undefined = undefined;',
    'void [i, s, m, startSimulator, formatSummary, OmniSummaryAggregator];',
    '',
  ].join('\n'));
  const module = mode === 'node16' ? 'node16' : mode === 'bundler' ? 'esnext' : 'commonjs';
  writeFileSync(join(sub, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module, moduleResolution: mode, types: [], lib: ['ES2022', 'DOM'] }, files: ['consumer.ts'] }));
  mkdirSync(join(sub, 'node_modules/@types'), { recursive: true });
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: sub, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    output = String((err as { stdout?: string }).stdout);
  }
  // Only the resolution of our entry points matters here (an unresolved one is TS2307 on
  // 'agentic-otel…'); what our declarations import themselves is the packaging issue's.
  expect(output.split('\n').filter((l) => l.includes('TS2307') && l.includes("'agentic-otel"))).toEqual([]);
  expect(output).not.toContain("'agentic-otel/omni'");
}, 60_000);

/** A strict TypeScript consumer of the packed package, with @types/node and maybe undici beside it. */
function strictConsumer(name: string, source: string, withUndici: boolean): string[] {
  const sub = join(dir, name);
  mkdirSync(join(sub, 'node_modules/@types'), { recursive: true });
  mkdirSync(join(sub, 'node_modules/@opentelemetry'), { recursive: true });
  symlinkSync(join(dir, 'node_modules/agentic-otel'), join(sub, 'node_modules/agentic-otel'));
  symlinkSync(join(repo, 'node_modules/@opentelemetry/api'), join(sub, 'node_modules/@opentelemetry/api'));
  symlinkSync(join(repo, 'node_modules/@types/node'), join(sub, 'node_modules/@types/node'));
  if (withUndici) symlinkSync(join(repo, 'node_modules/undici'), join(sub, 'node_modules/undici'));
  writeFileSync(join(sub, 'consumer.ts'), source);
  writeFileSync(join(sub, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], lib: ['ES2022'], exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true }, files: ['consumer.ts'] }));
  try {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: sub, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (err) {
    return String((err as { stdout?: string }).stdout).split('\n').filter((l) => l.includes('error TS'));
  }
}

test('a strict TypeScript consumer without undici installed compiles (skipLibCheck off)', () => {
  const errors = strictConsumer('strict-no-undici', [
    "import { AgenticInstrumentation, withProgram, type StepRecord } from 'agentic-otel';",
    "import { startSimulator } from 'agentic-otel/simulator';",
    'const instrumentation = new AgenticInstrumentation({ profile: { extended: true }, backends: [{ url: "http://127.0.0.1:8000" }] });',
    'instrumentation.onStepEnd((r: StepRecord) => void r.phases.prefillS);',
    'void withProgram("p", async () => undefined);',
    'void startSimulator;',
    '',
  ].join('\n'), false);
  expect(errors).toEqual([]);
}, 60_000);

test("a strict consumer with undici 7 compiles the README's compose snippet", () => {
  const errors = strictConsumer('strict-undici', [
    "import { Agent, request } from 'undici';",
    "import { AgenticInstrumentation } from 'agentic-otel';",
    'const instrumentation = new AgenticInstrumentation({ installGlobalDispatcher: false });',
    'const dispatcher = new Agent({ connections: 16 }).compose(instrumentation.interceptor());',
    "void request('http://127.0.0.1:8000/v1/chat/completions', { dispatcher, method: 'POST', body: '{}' });",
    '',
  ].join('\n'), true);
  expect(errors).toEqual([]);
}, 60_000);

test('the packed tarball passes @arethetypeswrong/cli (every entry point, every resolution mode) and publint', () => {
  const attw = execFileSync(process.execPath, [join(repo, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], { encoding: 'utf8' });
  const report = JSON.parse(attw) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
  expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(['.', './omni', './package.json', './simulator']);
  expect(report.analysis.problems).toEqual([]);
  const lint = execFileSync(process.execPath, [join(repo, 'node_modules/publint/src/cli.js'), join(dir, 'node_modules/agentic-otel')], { encoding: 'utf8' });
  expect(lint).toContain('All good');
}, 120_000);
