// npm run bench (client level): agentic-otel against the openai instrumentations a user would
// pick instead, through the real `openai` client, in the configuration users run (a tracer
// provider with the batch span processor and a meter provider with a periodic reader: see
// otel-providers.mjs).
//
// The peers and the `openai` release they patch live in a nested package (peers.mjs).
//
// Three cases: 256 chunks with a short body, 64 chunks with a short body, 64 chunks with an
// agent's ~96 KiB body (a long conversation). Concurrency 32, modes interleaved over rounds with
// their order rotating; per mode the median over rounds of bare CPU / mode CPU in the same round
// (higher is better; the lowest and highest in brackets) and the CPU it adds per completion.
// Our marginal CPU per streamed chunk = (added at 256 chunks − added at 64 chunks, short body) / 192.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import OwnOpenAI from 'openai';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { ceilingOf, histogramTemplateOf, stepTemplateOf } from './ceiling.mjs';
import { median, otelProviders } from './otel-providers.mjs';
import { agentMessages } from './agent-body.mjs';
import { passThroughHook } from './floor.mjs';
import { ensurePeers, PEER_MODULES, peersOpenaiVersion, requirePeer } from './peers.mjs';

const REQUESTS = Number(process.env.BENCH_CLIENT_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
// V8 is still optimizing a mode's code thousands of completions in (--trace-opt, 64 chunks: ours
// 656, 240, 114, 54, 26 functions optimized per 1,000 completions; bare 462, 182, 76, 52, 30):
// each mode first runs this many completions, before the first case's rounds.
const WARMUP = Number(process.env.BENCH_CLIENT_WARMUP ?? 3000);

ensurePeers();

/** One of our exported steps and our histograms: what the ceiling mode emits (ceiling.mjs). */
let stepTemplate;
let histogramTemplate;
const otel = otelProviders({
  onSpans: (spans) => { stepTemplate ??= stepTemplateOf(spans); },
  onMetrics: (metrics) => { histogramTemplate ??= histogramTemplateOf(metrics, 'agentic-otel'); },
});
const { tracerProvider, meterProvider, counts } = otel;

// The peers register their require hooks when enabled, before `openai` is loaded; constructed
// enabled, then disabled until their rounds (disable() unpatches the loaded module, enable()
// patches it again).
const peers = Object.fromEntries(Object.entries(PEER_MODULES).map(([name, module]) => [name, new (requirePeer(module).OpenAIInstrumentation)()]));
for (const p of Object.values(peers)) {
  p.setTracerProvider(tracerProvider);
  p.setMeterProvider(meterProvider);
}
const { default: OpenAI } = requirePeer('openai');
const openaiVersion = peersOpenaiVersion();
for (const p of Object.values(peers)) p.disable();

function ours(config = {}, { meter = true } = {}) {
  const i = new AgenticInstrumentation({ enabled: false, ...config });
  i.setTracerProvider(tracerProvider);
  if (meter) i.setMeterProvider(meterProvider);
  return i;
}
const oursDefault = ours();
const perChunk = ours({ timePerOutputChunk: 'perChunk' });
const oursNoMeter = ours({}, { meter: false });
const floor = passThroughHook();
const both = (...xs) => ({ on: () => xs.forEach((x) => x.enable()), off: () => xs.forEach((x) => x.disable()) });

const modes = {
  bare: both(),
  'agentic-otel (default)': both(oursDefault),
  'agentic-otel, no meter': both(oursNoMeter),
  'agentic-otel, perChunk': both(perChunk),
  'contrib instrumentation-openai': both(peers.contrib),
  'Traceloop instrumentation-openai': both(peers.traceloop),
  'OpenInference instrumentation-openai': both(peers.openinference),
  'agentic-otel + contrib': both(oursDefault, peers.contrib),
  // The bare client plus our step's spans and histogram records, nothing observed: no
  // implementation of what we emit can cost less (ceiling.mjs).
  'ceiling: our telemetry only': { ...both(), wrap: ceilingOf(tracerProvider, meterProvider, () => ({ spans: stepTemplate, histograms: histogramTemplate })) },
  // The same telemetry with a hook at our place that reads the request body and passes the
  // response through, nothing else (floor.mjs): the least what we emit can cost from there.
  'floor: pass-through + our telemetry': { on: () => floor.on(), off: () => floor.off(), wrap: ceilingOf(tracerProvider, meterProvider, () => ({ spans: stepTemplate, histograms: histogramTemplate })) },
};
const only = process.env.BENCH_MODES?.split(',');
const allNames = Object.keys(modes).filter((m) => m === 'bare' || only === undefined || only.some((o) => m.includes(o)));

const server = spawn(process.execPath, [new URL('./sse-server.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'bench', maxRetries: 0 });
// The project's own release (openai 7), which the peers do not patch: bare and ours only.
const ownClient = new OwnOpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'bench', maxRetries: 0 });
const ownVersion = JSON.parse(readFileSync(new URL('../node_modules/openai/package.json', import.meta.url), 'utf8')).version;

const short = [{ role: 'system', content: 'You are an agent.' }, { role: 'user', content: 'Run the benchmark task.' }];
const ours3 = ['bare', 'agentic-otel (default)', 'agentic-otel, no meter'];
const cases = {
  '256 chunks, short body': { chunks: 256, messages: short },
  '64 chunks, short body': { chunks: 64, messages: short },
  '64 chunks, 96 KiB body': { chunks: 64, messages: agentMessages() },
  [`256 chunks, openai ${ownVersion}`]: { chunks: 256, messages: short, client: ownClient, modes: ours3 },
  [`64 chunks, openai ${ownVersion}`]: { chunks: 64, messages: short, client: ownClient, modes: ours3 },
};

async function completion({ chunks, messages, client: c = client }) {
  const stream = await c.chat.completions.create({ model: 'bench', stream: true, max_tokens: chunks, messages });
  let n = 0;
  for await (const chunk of stream) n += chunk.choices.length;
  if (n !== chunks) throw new Error(`expected ${chunks} chunks, got ${n}`);
}

async function runOnce(c, mode, requests = REQUESTS) {
  const one = mode.wrap === undefined ? completion : mode.wrap(completion);
  let next = 0;
  await otel.flush();
  const before = { ...counts };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => withProgram(`bench-${w}`, async () => {
    while (next < requests) {
      next++;
      await one(c);
    }
  })));
  const used = process.cpuUsage(cpu);
  await otel.flush();
  return { cpuUs: (used.user + used.system) / requests, spans: (counts.spans - before.spans) / requests, records: (counts.histogramRecords - before.histogramRecords) / requests };
}

console.log(`agentic-otel client bench: openai ${openaiVersion}, ${REQUESTS} completions per run, concurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds, node ${process.version}`);
const results = {};
// BENCH_CASES=<part|…> runs only the cases whose names contain one of the parts.
const onlyCases = process.env.BENCH_CASES?.split('|');
const selected = Object.entries(cases).filter(([name]) => onlyCases === undefined || onlyCases.some((o) => name.includes(o)));
for (const [caseName, c] of selected) {
  const names = allNames.filter((m) => c.modes === undefined || c.modes.includes(m));
  // Warm-up (ours before the ceiling: it copies our telemetry); long before the first case's rounds.
  const warmup = caseName === selected[0][0] ? WARMUP : REQUESTS;
  for (const m of names) { modes[m].on(); await runOnce(c, modes[m], warmup); modes[m].off(); }
  const cpu = Object.fromEntries(names.map((m) => [m, []]));
  const shape = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + round) % names.length];
      modes[name].on();
      globalThis.gc?.();
      const r = await runOnce(c, modes[name]);
      modes[name].off();
      cpu[name].push(r.cpuUs);
      shape[name] = r;
      await sleep(20);
    }
  }
  results[caseName] = Object.fromEntries(names.map((m) => {
    const ratios = cpu[m].map((x, r) => cpu.bare[r] / x);
    const added = cpu[m].map((x, r) => x - cpu.bare[r]);
    return [m, { cpuUs: median(cpu[m]), ratio: median(ratios), spread: [Math.min(...ratios), Math.max(...ratios)], addedUs: median(added), added, spans: shape[m].spans, records: shape[m].records }];
  }));
}

console.log('\ncase                    mode                                   CPU µs/completion  ratio to bare (rounds)   added µs  spans  histogram records');
for (const [caseName, byMode] of Object.entries(results)) {
  for (const [m, r] of Object.entries(byMode)) {
    console.log(`${caseName.padEnd(23)} ${m.padEnd(38)} ${r.cpuUs.toFixed(0).padStart(17)}  ${r.ratio.toFixed(3)} (${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)})  ${r.addedUs.toFixed(0).padStart(9)}  ${r.spans.toFixed(2).padStart(5)}  ${r.records.toFixed(1).padStart(17)}`);
  }
}
const long = results['256 chunks, short body'];
const shortCase = results['64 chunks, short body'];
if (long !== undefined && shortCase !== undefined) {
  console.log('\nmarginal CPU per streamed chunk, metrics on: (added at 256 chunks − added at 64 chunks, short body) / 192, median of the rounds\' pairs [lowest–highest]');
  for (const m of allNames.filter((n) => n !== 'bare')) {
    const perChunk = long[m].added.map((a, r) => (a - shortCase[m].added[r]) / 192);
    console.log(`  ${m.padEnd(38)} ${median(perChunk).toFixed(2).padStart(6)} µs  [${Math.min(...perChunk).toFixed(2)}–${Math.max(...perChunk).toFixed(2)}]`);
  }
}
console.log('spans, histogram records: per completion, in the last round (what the mode emitted; a peer that patched nothing shows 0 spans)');
await otel.shutdown();
server.kill('SIGTERM');
