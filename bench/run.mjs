// npm run bench: the cost of agentic-otel on the request path, measured side by side in one run.
//
// 2,000 streamed completions of 256 chunks at concurrency 32 against a local SSE server (its own
// process), through Node's global fetch (what the openai client uses) and through undici.request:
// bare, with our instrumentation (traces and metrics), with spans but no meter provider, with
// neither (the API's no-op tracer and meter: our own work without the SDK), and with
// @opentelemetry/instrumentation-undici. Modes are interleaved over several rounds, their order
// rotating: each mode's median throughput and this process's CPU time per completion, and the
// median of its per-round ratios to bare. The server shares the 2 cores, so CPU per completion is
// the steadier measure of what a mode adds. Every instrumentation records into the providers
// NodeSDK sets up (otel-providers.mjs: the batch span processor, a periodic metric reader), whose
// exporters count, then discard: spans and histogram records per completion are printed, so a
// dropped span, or a mode that records nothing, shows. bench/clients.mjs compares the same at the
// level of the `openai` client, against the openai instrumentations a user would pick instead.
//
// BASELINE=<git ref> adds that revision of agentic-otel as one more mode of the same run: the ref
// is exported with `git archive` into a temporary directory, built there against this checkout's
// node_modules, and its rounds interleave with ours, so a change is measured against its
// predecessor under the same load. BENCH_CHUNKS=64,256 runs every client at both lengths and
// splits what each mode adds into a cost per chunk and a cost per completion. Time to first byte
// (the client's first body chunk) is printed beside CPU: what holding back a partial event could
// add shows there.
// (Earlier versions configured the processor to hold 4,096 spans per batch: spans then live long
// enough to reach V8's old generation, and in one run that took ours from 0.88 to 0.72 of bare
// throughput with nothing else changed. That measured the SDK's configuration, not ours.)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { ceilingOf, stepTemplateOf } from './ceiling.mjs';
import { passThroughHook } from './floor.mjs';
import { median, otelProviders } from './otel-providers.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
// BENCH_CHUNKS=64,256: every client at both lengths, and what a mode adds per completion and per
// chunk ((added at the longer − added at the shorter) / the chunks between them, round by round).
const CHUNK_COUNTS = (process.env.BENCH_CHUNKS ?? '256').split(',').map(Number);
if (CHUNK_COUNTS.some((n) => !Number.isInteger(n) || n < 1) || CHUNK_COUNTS.length > 2) throw new Error(`BENCH_CHUNKS: one or two chunk counts, as 64,256 (got ${process.env.BENCH_CHUNKS})`);

// Let Node create the dispatcher its fetch uses before the undici package is loaded (loading it
// installs an Agent of its own when none is set): `bare` is then what an application gets.
await fetch('data:,');
const { request } = await import('undici');

const server = spawn(process.execPath, [new URL('./sse-server.mjs', import.meta.url).pathname], { env: { ...process.env, CHUNKS: String(CHUNK_COUNTS[0]) }, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const url = `http://127.0.0.1:${port}/v1/chat/completions`;

/** One step of ours as exported (names, kinds, attributes, parents): the template of `span tree only`. */
let stepTemplate;
const otel = otelProviders({ onSpans: (spans) => { stepTemplate ??= stepTemplateOf(spans); } });
const { tracerProvider: provider, meterProvider, counts } = otel;

// Every mode records into the real providers, as NodeSDK sets them up (otel-providers.mjs).
const ours = new AgenticInstrumentation({ enabled: false });
ours.setTracerProvider(provider);
ours.setMeterProvider(meterProvider);
// The same hook with spans but no meter provider, and with neither (the API's no-op tracer and
// meter: our own work without the SDK's five spans per step).
const oursNoMeter = new AgenticInstrumentation({ enabled: false });
oursNoMeter.setTracerProvider(provider);
const oursUntraced = new AgenticInstrumentation({ enabled: false });
// Constructed enabled, then disabled until its rounds: instrumentation-undici constructed with
// `{ enabled: false }` keeps ignoring every request after `enable()` (it reads its config's flag
// per request), which made it a no-op in earlier versions of this bench.
const theirs = new UndiciInstrumentation();
theirs.disable();
theirs.setTracerProvider(provider);
theirs.setMeterProvider(meterProvider);

/** BASELINE=<ref>: that revision, built in a temporary directory, as one more mode. */
async function loadBaseline(ref) {
  const root = resolve(new URL('..', import.meta.url).pathname);
  const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-baseline-'));
  const archive = execFileSync('git', ['-C', root, 'archive', '--format=tar', ref], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit' });
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', ref]).toString().trim();
  const module = await import(join(dir, 'dist/esm/index.js'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { commit, module };
}
const baseline = process.env.BASELINE ? await loadBaseline(process.env.BASELINE) : undefined;
const theirsBaseline = baseline === undefined ? undefined : new baseline.module.AgenticInstrumentation({ enabled: false });
theirsBaseline?.setTracerProvider(provider);
theirsBaseline?.setMeterProvider(meterProvider);

/** The request of a completion of `chunks` chunks (the server answers `max_tokens` chunks). */
const payloadOf = (chunks) => JSON.stringify({ model: 'bench', stream: true, max_tokens: chunks, messages: [{ role: 'system', content: 'You are an agent.' }, { role: 'user', content: 'Run the benchmark task.' }] });
const headers = { 'content-type': 'application/json' };

/** Times to first byte of the completions of the current run, µs. */
let ttfbs = [];
const clientsOf = (payload) => ({
  fetch: async () => {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body: payload });
    const reader = res.body.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return bytes;
      if (bytes === 0) ttfbs.push((performance.now() - t0) * 1000);
      bytes += value.byteLength;
    }
  },
  'undici.request': async () => {
    const t0 = performance.now();
    const res = await request(url, { method: 'POST', headers, body: payload });
    let bytes = 0;
    for await (const chunk of res.body) {
      if (bytes === 0) ttfbs.push((performance.now() - t0) * 1000);
      bytes += chunk.byteLength;
    }
    return bytes;
  },
});
/** Each client at each chunk count: its rows are named `fetch` (one count) or `fetch ×64`. */
const clients = Object.fromEntries(Object.keys(clientsOf('')).map((name) => [name, CHUNK_COUNTS.map((chunks) => ({ row: CHUNK_COUNTS.length === 1 ? name : `${name} ×${chunks}`, fn: clientsOf(payloadOf(chunks))[name] }))]));

// The span tree the issue asks for, made through the same SDK provider around the bare client,
// with nothing observed (ceiling.mjs): no implementation that emits that tree through the SDK can
// cost less than this mode, so its ratio is the ceiling for ours.
const spanTreeOnly = ceilingOf(provider, undefined, () => ({ spans: stepTemplate }));
// The same tree around the client, with a hook at our place that reads the request body and
// passes the response through, and does nothing else (floor.mjs): ours without a meter cannot
// cost less than this; what it costs above it is our own observing.
const floor = passThroughHook();

const modes = {
  bare: { on() {}, off() {} },
  'agentic-otel': { on: () => ours.enable(), off: () => ours.disable() },
  'agentic-otel, no meter': { on: () => oursNoMeter.enable(), off: () => oursNoMeter.disable() },
  'agentic-otel, no-op tracer': { on: () => oursUntraced.enable(), off: () => oursUntraced.disable() },
  'instrumentation-undici': { on: () => theirs.enable(), off: () => theirs.disable() },
  'span tree only (ceiling)': { on() {}, off() {}, wrap: spanTreeOnly },
  'pass-through hook + span tree': { on: () => floor.on(), off: () => floor.off(), wrap: spanTreeOnly },
};
if (theirsBaseline !== undefined) modes[`agentic-otel @${baseline.commit}`] = { on: () => theirsBaseline.enable(), off: () => theirsBaseline.disable() };

async function runOnce(client, mode) {
  if (mode?.wrap) client = mode.wrap(client);
  let next = 0;
  let bytes = 0;
  await otel.flush();
  const before = { ...counts };
  ttfbs = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => withProgram(`bench-${w}`, async () => {
    while (next < REQUESTS) {
      next++;
      bytes += await client();
    }
  })));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await otel.flush();
  return { rps: REQUESTS / seconds, cpuUs: (used.user + used.system) / REQUESTS, bytes, spans: (counts.spans - before.spans) / REQUESTS, records: (counts.histogramRecords - before.histogramRecords) / REQUESTS, ttfbUs: median(ttfbs) };
}

console.log(`agentic-otel bench: ${REQUESTS} streamed completions × ${CHUNK_COUNTS.join(' and ')} chunks, concurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds, node ${process.version}`);
const results = {};
const names = Object.keys(modes);
for (const lengths of Object.values(clients)) {
  // warm-up (ours first: it gives the span tree's template)
  for (const mode of Object.values(modes)) for (const { fn } of lengths) { mode.on(); await runOnce(fn, mode); mode.off(); }
  const series = () => Object.fromEntries(lengths.map(({ row }) => [row, Object.fromEntries(names.map((m) => [m, []]))]));
  const rps = series();
  const cpu = series();
  const spans = series();
  const records = series();
  const ttfb = series();
  // Every length in every round: a round's rows at 64 and at 256 chunks ran under the same load.
  for (let round = 0; round < ROUNDS; round++) {
    for (const { row, fn } of lengths) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(j + round) % names.length];
        const mode = modes[name];
        mode.on();
        globalThis.gc?.();
        const r = await runOnce(fn, mode);
        mode.off();
        rps[row][name].push(r.rps);
        cpu[row][name].push(r.cpuUs);
        spans[row][name].push(r.spans);
        records[row][name].push(r.records);
        ttfb[row][name].push(r.ttfbUs);
        await sleep(50);
      }
    }
  }
  // Each round's ratio to the bare run of the same round, so that drift across rounds (the
  // machine's other load, its clock) cancels; the median of those, and their spread.
  for (const { row } of lengths) {
    const paired = (xs, m, f) => xs[row][m].map((x, r) => f(x, xs[row].bare[r]));
    results[row] = Object.fromEntries(names.map((m) => {
      const rpsRatios = paired(rps, m, (x, b) => x / b);
      const cpuRatios = paired(cpu, m, (x, b) => b / x);
      return [m, { cpuRounds: cpu[row][m], rps: median(rps[row][m]), cpuUs: median(cpu[row][m]), rpsRatio: median(rpsRatios), rpsSpread: [Math.min(...rpsRatios), Math.max(...rpsRatios)], cpuRatio: median(cpuRatios), spans: Math.min(...spans[row][m]), records: Math.min(...records[row][m]), ttfbUs: median(ttfb[row][m]) }];
    }));
  }
}

console.log('\nclient           mode                         completions/s  ratio  (rounds)        client CPU µs/completion  ratio   spans/completion  records/completion  TTFB µs');
for (const [clientName, byMode] of Object.entries(results)) {
  for (const [mode, r] of Object.entries(byMode)) {
    const spread = `${r.rpsSpread[0].toFixed(2)}–${r.rpsSpread[1].toFixed(2)}`;
    console.log(`${clientName.padEnd(16)} ${mode.padEnd(28)} ${r.rps.toFixed(0).padStart(13)}  ${r.rpsRatio.toFixed(3)}  (${spread})  ${r.cpuUs.toFixed(0).padStart(22)}  ${r.cpuRatio.toFixed(3)}   ${r.spans.toFixed(3).padStart(16)}  ${r.records.toFixed(1).padStart(18)}  ${r.ttfbUs.toFixed(0).padStart(7)}`);
  }
}
console.log('ratio: median over rounds of the mode\'s throughput / bare throughput in the same round (rounds: the lowest and highest),');
console.log('       and of bare CPU / mode CPU (1.000 = costs nothing; higher is better)');
console.log('TTFB: median time from the call to the first body chunk the application receives, over every completion of every round\'s median');
console.log('spans/completion: the fewest exported in any round (ours: 5 per step, 4 on a program\'s first step; the peer: 1 per request)');
console.log('records/completion: histogram records per completion (every mode has the real meter provider; the no-meter modes record none)');
console.log('span tree only: the bare client plus the SDK spans of one of our steps (same names, kinds, attributes, parents), nothing');
console.log('       observed: what the issue\'s span tree costs by itself, so the highest ratio any implementation of it can reach');
if (CHUNK_COUNTS.length === 2) {
  // Round i at the shorter length with round i at the longer (each against the bare run of its
  // own length in that round): what one more chunk costs, and what is left per completion.
  const [lo, hi] = [...CHUNK_COUNTS].sort((a, b) => a - b);
  const range = (xs, digits) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
  console.log(`\nwhat a mode adds to bare CPU, per chunk and per completion (round by round from ${lo} and ${hi} chunks: median, lowest–highest)`);
  console.log('client           mode                                     per chunk µs         per completion µs');
  for (const name of Object.keys(clients)) {
    const short = results[`${name} ×${lo}`];
    const long = results[`${name} ×${hi}`];
    const added = (r, m) => r[m].cpuRounds.map((x, i) => x - r.bare.cpuRounds[i]);
    for (const m of names.filter((n) => n !== 'bare')) {
      const a = added(short, m);
      const b = added(long, m);
      const perChunk = b.map((x, i) => (x - a[i]) / (hi - lo));
      const perCompletion = a.map((x, i) => x - lo * perChunk[i]);
      console.log(`${name.padEnd(16)} ${m.padEnd(28)} ${range(perChunk, 3).padStart(24)}  ${range(perCompletion, 0).padStart(24)}`);
    }
  }
}
await otel.shutdown();
server.kill('SIGTERM');
