// npm run bench: the cost of agentic-otel on the request path, measured side by side in one run.
//
// 2,000 streamed completions of 256 chunks at concurrency 32 against a local SSE server (its own
// process), through Node's global fetch (what the openai client uses) and through undici.request:
// bare, with our instrumentation, with our instrumentation under the API's no-op tracer (our own
// work without the SDK's five spans per step), and with @opentelemetry/instrumentation-undici. Modes are
// interleaved over several rounds, their order rotating: each mode's median throughput and this
// process's CPU time per completion, and the median of its per-round ratios to bare. The server
// shares the 2 cores, so CPU per completion is the steadier measure of what a mode adds. Both
// instrumentations record into a real SDK tracer provider with the batch span processor NodeSDK
// sets up (its defaults: batches of 512, a queue of 2,048) and an exporter that counts, then
// discards; the spans exported per completion are printed, so a dropped span would show.
// (Earlier versions configured the processor to hold 4,096 spans per batch: spans then live long
// enough to reach V8's old generation, and in one run that took ours from 0.88 to 0.72 of bare
// throughput with nothing else changed. That measured the SDK's configuration, not ours.)
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CHUNKS = 256;

// Let Node create the dispatcher its fetch uses before the undici package is loaded (loading it
// installs an Agent of its own when none is set): `bare` is then what an application gets.
await fetch('data:,');
const { request } = await import('undici');

const server = spawn(process.execPath, [new URL('./sse-server.mjs', import.meta.url).pathname], { env: { ...process.env, CHUNKS: String(CHUNKS) }, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const url = `http://127.0.0.1:${port}/v1/chat/completions`;

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
let exported = 0;
const discard = {
  export: (spans, done) => {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => {},
};
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] });

const ours = new AgenticInstrumentation({ enabled: false });
ours.setTracerProvider(provider);
// The same hook with no tracer provider (the API's no-op tracer): our own work without the SDK's spans.
const oursUntraced = new AgenticInstrumentation({ enabled: false });
// Constructed enabled, then disabled until its rounds: instrumentation-undici constructed with
// `{ enabled: false }` keeps ignoring every request after `enable()` (it reads its config's flag
// per request), which made it a no-op in earlier versions of this bench.
const theirs = new UndiciInstrumentation();
theirs.disable();
theirs.setTracerProvider(provider);

const payload = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages: [{ role: 'system', content: 'You are an agent.' }, { role: 'user', content: 'Run the benchmark task.' }] });
const headers = { 'content-type': 'application/json' };

const clients = {
  fetch: async () => {
    const res = await fetch(url, { method: 'POST', headers, body: payload });
    const reader = res.body.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return bytes;
      bytes += value.byteLength;
    }
  },
  'undici.request': async () => {
    const res = await request(url, { method: 'POST', headers, body: payload });
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.byteLength;
    return bytes;
  },
};

const modes = {
  bare: { on() {}, off() {} },
  'agentic-otel': { on: () => ours.enable(), off: () => ours.disable() },
  'agentic-otel, no-op tracer': { on: () => oursUntraced.enable(), off: () => oursUntraced.disable() },
  'instrumentation-undici': { on: () => theirs.enable(), off: () => theirs.disable() },
};

async function runOnce(client) {
  let next = 0;
  let bytes = 0;
  const exportedBefore = exported;
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
  await provider.forceFlush();
  return { rps: REQUESTS / seconds, cpuUs: (used.user + used.system) / REQUESTS, bytes, spansFlushed: exported - exportedBefore };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`agentic-otel bench: ${REQUESTS} streamed completions × ${CHUNKS} chunks, concurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds, node ${process.version}`);
const results = {};
const names = Object.keys(modes);
for (const [clientName, client] of Object.entries(clients)) {
  for (const mode of Object.values(modes)) { mode.on(); await runOnce(client); mode.off(); } // warm-up
  const rps = Object.fromEntries(names.map((m) => [m, []]));
  const cpu = Object.fromEntries(names.map((m) => [m, []]));
  const spans = Object.fromEntries(names.map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + round) % names.length];
      const mode = modes[name];
      mode.on();
      globalThis.gc?.();
      const r = await runOnce(client);
      mode.off();
      rps[name].push(r.rps);
      cpu[name].push(r.cpuUs);
      spans[name].push(r.spansFlushed / REQUESTS);
      await sleep(50);
    }
  }
  // Each round's ratio to the bare run of the same round, so that drift across rounds (the
  // machine's other load, its clock) cancels; the median of those, and their spread.
  const paired = (xs, m, f) => xs[m].map((x, r) => f(x, xs.bare[r]));
  results[clientName] = Object.fromEntries(names.map((m) => {
    const rpsRatios = paired(rps, m, (x, b) => x / b);
    const cpuRatios = paired(cpu, m, (x, b) => b / x);
    return [m, { rps: median(rps[m]), cpuUs: median(cpu[m]), rpsRatio: median(rpsRatios), rpsSpread: [Math.min(...rpsRatios), Math.max(...rpsRatios)], cpuRatio: median(cpuRatios), spans: Math.min(...spans[m]) }];
  }));
}

console.log('\nclient           mode                         completions/s  ratio  (rounds)        client CPU µs/completion  ratio   spans/completion');
for (const [clientName, byMode] of Object.entries(results)) {
  for (const [mode, r] of Object.entries(byMode)) {
    const spread = `${r.rpsSpread[0].toFixed(2)}–${r.rpsSpread[1].toFixed(2)}`;
    console.log(`${clientName.padEnd(16)} ${mode.padEnd(28)} ${r.rps.toFixed(0).padStart(13)}  ${r.rpsRatio.toFixed(3)}  (${spread})  ${r.cpuUs.toFixed(0).padStart(22)}  ${r.cpuRatio.toFixed(3)}   ${r.spans.toFixed(3).padStart(16)}`);
  }
}
console.log('ratio: median over rounds of the mode\'s throughput / bare throughput in the same round (rounds: the lowest and highest),');
console.log('       and of bare CPU / mode CPU (1.000 = costs nothing; higher is better)');
console.log('spans/completion: the fewest exported in any round (ours: 5 per step, 4 on a program\'s first step; the peer: 1 per request)');
await provider.shutdown();
server.kill('SIGTERM');
