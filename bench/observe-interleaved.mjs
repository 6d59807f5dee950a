// What observing costs when steps interleave, with the network still taken out: the real
// `undici.request` client, 32 programs in flight, against a dispatcher that replays the
// benchmark's 256-chunk response in four reads on separate turns (as the real server's responses
// arrive over a socket) instead of a socket. Bare, ours with an SDK tracer, ours under the no-op
// tracer, and an interceptor that only passes requests on; CPU µs per completion, medians of
// interleaved rounds.
//
// bench/observe-cost.mjs replays one completion at a time in one turn, so its state stays in
// cache and dies young; here the same work costs several times more CPU time, as over real
// sockets in bench/run.mjs. Counted with callgrind (marginal per completion, no-op tracer) this
// run executes ~0.29 M instructions more than bare, ~0.19 M of them framing the SSE stream, and a
// pass-through interceptor ~0.01 M: the extra time is mostly each instruction costing more
// (state cold in cache with 32 streams in flight), not more instructions.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Dispatcher, request } from 'undici';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { completionEvents, readOf } from './completion-stream.mjs';

const CHUNKS = 256;
const READS = 4;
const REQUESTS = 2000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const discard = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] });

const events = completionEvents(CHUNKS);
const perRead = Math.ceil(events.length / READS);
/** The response's reads: each a fresh buffer (as a socket read is), its chunks views into it. */
function socketReads() {
  const reads = [];
  for (let r = 0; r < READS; r++) reads.push(readOf(events.slice(r * perRead, (r + 1) * perRead)));
  return reads;
}
const rawHeaders = [Buffer.from('content-type'), Buffer.from('text/event-stream; charset=utf-8')];
const headerObject = { 'content-type': 'text/event-stream; charset=utf-8' };

async function drain(body) {
  if (body != null && typeof body[Symbol.asyncIterator] === 'function') for await (const _ of body);
}

/** Answers every request with the replayed response, in whichever handler API it is given. */
class ReplayDispatcher extends Dispatcher {
  dispatch(opts, handler) {
    const legacy = typeof handler.onRequestStart !== 'function';
    const controller = { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} };
    drain(opts.body).then(() => setImmediate(() => {
      if (legacy) {
        handler.onConnect?.(() => {});
        handler.onHeaders(200, rawHeaders, () => {}, 'OK');
      } else {
        handler.onRequestStart?.(controller, {});
        handler.onResponseStart(controller, 200, headerObject, 'OK');
      }
      const reads = socketReads();
      let i = 0;
      const nextRead = () => {
        for (const chunk of reads[i]) {
          if (legacy) handler.onData(chunk);
          else handler.onResponseData(controller, chunk);
        }
        if (++i < reads.length) setImmediate(nextRead);
        else if (legacy) handler.onComplete([]);
        else handler.onResponseEnd(controller, {});
      };
      setImmediate(nextRead);
    }));
    return true;
  }
}

const replay = new ReplayDispatcher();
const withSdk = new AgenticInstrumentation({ enabled: false });
withSdk.setTracerProvider(provider);
const withNoop = new AgenticInstrumentation({ enabled: false });
const modes = {
  bare: { dispatcher: replay },
  sdk: { instrumentation: withSdk, dispatcher: replay.compose(withSdk.interceptor()) },
  noop: { instrumentation: withNoop, dispatcher: replay.compose(withNoop.interceptor()) },
  // An interceptor that does nothing: what composing any interceptor costs (undici 7 wraps the
  // application's handler in its new API and unwraps it again below, parsing headers on the way).
  pass: { dispatcher: replay.compose((dispatch) => (opts, handler) => dispatch(opts, handler)) },
};

const url = 'http://127.0.0.1:8000/v1/chat/completions';
const payload = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages: [{ role: 'system', content: 'You are an agent.' }, { role: 'user', content: 'Run the benchmark task.' }] });
const headers = { 'content-type': 'application/json' };
// undici.request only: Node 20's own fetch (its bundled undici 6) driven through this replaying
// dispatcher gave numbers that swung by a factor of two from run to run, bare included, so they
// are not printed; bench/run.mjs measures fetch over real sockets.
const clients = {
  'undici.request': async (dispatcher) => {
    const res = await request(url, { method: 'POST', headers, body: payload, dispatcher });
    for await (const _ of res.body);
  },
};

async function runOnce(client, dispatcher) {
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: 32 }, (_, w) => withProgram(`bench-${w}`, async () => {
    while (next < REQUESTS) {
      next++;
      await client(dispatcher);
    }
  })));
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / REQUESTS;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const names = Object.keys(modes);
const lines = [];
for (const [clientName, client] of Object.entries(clients)) {
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -1; round < ROUNDS; round++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + Math.max(round, 0)) % names.length];
      const mode = modes[name];
      mode.instrumentation?.enable();
      globalThis.gc?.();
      const us = await runOnce(client, mode.dispatcher);
      mode.instrumentation?.disable();
      await provider.forceFlush();
      if (round >= 0) samples[name].push(us); // round -1 warms up
    }
  }
  const m = Object.fromEntries(names.map((n) => [n, median(samples[n])]));
  lines.push(`${clientName.padEnd(15)} bare ${m.bare.toFixed(0)} µs; ours with an SDK tracer +${(m.sdk - m.bare).toFixed(0)} µs, with the no-op tracer +${(m.noop - m.bare).toFixed(0)} µs; a pass-through interceptor +${(m.pass - m.bare).toFixed(0)} µs`);
}
console.log(`\nObserving with 32 steps interleaved, each response in ${READS} reads, network taken out (CPU µs per completion, medians of ${ROUNDS} rounds):`);
for (const line of lines) console.log(line);
await provider.shutdown();
