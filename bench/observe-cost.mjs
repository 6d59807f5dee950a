// What observing one completion costs us, with the network taken out: our interceptor and
// handler in front of a dispatch that replays the benchmark's 256-chunk SSE response at once
// through the handler API Node 20's fetch uses. CPU µs per completion (median of 7 rounds), with
// a real SDK tracer provider (five spans per step, exported to nowhere) and with the API's no-op
// tracer, so that our own work and the SDK's span cost can be told apart. Compare with the bare
// client's CPU per completion printed by bench/run.mjs.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { completionEvents, readOf, replayOf } from './completion-stream.mjs';

const CHUNKS = 256;
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const discard = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] });

const events = completionEvents(CHUNKS);
// One socket read holding every chunk, as undici hands them over: views into it.
const chunks = readOf(events);
const replay = replayOf(chunks);
/** A request body: the benchmark's two messages, or an agent's context of `turns` tool rounds. */
function requestBody(turns) {
  const messages = [{ role: 'system', content: 'You are an agent.' }, { role: 'user', content: 'Run the benchmark task.' }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'run_shell', arguments: JSON.stringify({ command: `grep -rn "pattern_${i}" src/ | head -50` }) } }] });
    messages.push({ role: 'tool', tool_call_id: `call_${i}`, content: `src/module_${i}.ts:${i}: ${'const value = compute(input, options); // matched line\n'.repeat(40)}` });
  }
  return Buffer.from(JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages }));
}
const handler = { onConnect() {}, onHeaders: () => true, onData: () => true, onComplete() {}, onError: (e) => { throw e; } };

const N = 1000;
/** CPU µs per completion over N completions. */
function round(dispatch, opts) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < N; i++) dispatch(opts, handler);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / N;
}

const withSdk = new AgenticInstrumentation({ enabled: false });
withSdk.setTracerProvider(provider);
const withNoop = new AgenticInstrumentation({ enabled: false });
const modes = {
  bare: { dispatch: replay },
  sdk: { instrumentation: withSdk, dispatch: withSdk.interceptor()(replay) },
  noop: { instrumentation: withNoop, dispatch: withNoop.interceptor()(replay) },
};
const names = Object.keys(modes);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians of 9 interleaved rounds (after one warm-up) for one request body. */
async function measure(payload) {
  const opts = { origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: ['content-type', 'application/json', 'content-length', String(payload.length)], body: payload };
  const samples = { bare: [], sdk: [], noop: [] };
  await withProgram('bench', async () => {
    for (let r = -1; r < 9; r++) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(j + Math.max(r, 0)) % names.length];
        const mode = modes[name];
        mode.instrumentation?.enable();
        const us = round(mode.dispatch, opts);
        mode.instrumentation?.disable();
        if (r >= 0) samples[name].push(us); // round -1 warms up
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  });
  return { bare: median(samples.bare), sdk: median(samples.sdk), noop: median(samples.noop) };
}

const short = requestBody(0);
const agent = requestBody(40);
const a = await measure(short);
console.log(
  `\nObserving one ${CHUNKS}-chunk completion, network taken out (CPU µs per completion, medians of 9 interleaved rounds): ` +
    `with an SDK tracer ${(a.sdk - a.bare).toFixed(1)} µs, with the no-op tracer ${(a.noop - a.bare).toFixed(1)} µs (the five SDK spans: ~${(a.sdk - a.noop).toFixed(1)} µs); the replay alone ${a.bare.toFixed(1)} µs`,
);
// The request hook reads the body (program id, model, stream options) and asks for usage: with an
// agent's context (40 tool rounds), that reading is most of the cost.
const b = await measure(agent);
console.log(
  `The same with an agent's request body (${(agent.length / 1024).toFixed(0)} KiB, 40 tool rounds): ` +
    `with an SDK tracer ${(b.sdk - b.bare).toFixed(1)} µs, with the no-op tracer ${(b.noop - b.bare).toFixed(1)} µs`,
);
await provider.shutdown();
