// One workload of bench/instructions.mjs, run under callgrind: N streamed completions of CHUNKS
// chunks at concurrency 32, against the bench's SSE server (its own process, not counted).
// CLIENT `fetch` (Node's global fetch, reading the body), `openai` (the peers' openai release,
// iterating the stream: peers.mjs) or `paced` (a replay in this process, one event per socket
// read: pacedCompletion). MODE: `bare`; `ours` (our hook under the API's no-op tracer and meter:
// our own work only); `ours+sdk` (with the providers NodeSDK sets up, otel-providers.mjs);
// `contrib`, `traceloop`, `openinference` (a peer, with the same providers; openai only);
// `ceiling` (openai only: the bare client plus a copy of one of our steps' telemetry, its span tree
// and histogram records, nothing observed (ceiling.mjs); ours runs CEILING_SOURCE completions
// first, in both runs of a window, to be copied).
// BODY `agent`: the request carries an agent's ~96 KiB conversation. PROFILE: see below.
import { spawn } from 'node:child_process';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { agentMessages } from './agent-body.mjs';
import { ceilingOf, histogramTemplateOf, stepTemplateOf } from './ceiling.mjs';
import { completionEvents } from './completion-stream.mjs';
import { otelProviders } from './otel-providers.mjs';
import { PEER_MODULES, requirePeer } from './peers.mjs';

const MODE = process.env.MODE ?? 'bare';
const CLIENT = process.env.CLIENT ?? 'fetch';
const N = Number(process.env.N ?? 200);
const CHUNKS = Number(process.env.CHUNKS ?? 256);

await fetch('data:,'); // Node's own dispatcher first, as an application gets it
const sdk = MODE !== 'ours' && (MODE !== 'bare' || CLIENT === 'openai');
const templates = { spans: undefined, histograms: undefined };
const otel = sdk
  ? otelProviders({
      onSpans: (spans) => void (templates.spans ??= stepTemplateOf(spans)),
      onMetrics: (metrics) => void (templates.histograms ??= histogramTemplateOf(metrics, 'agentic-otel')),
    })
  : undefined;
if (otel === undefined) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const ours = new AgenticInstrumentation({ enabled: false });
if (otel !== undefined) {
  ours.setTracerProvider(otel.tracerProvider);
  ours.setMeterProvider(otel.meterProvider);
}
if (MODE === 'ours' || MODE === 'ours+sdk' || MODE === 'ceiling') ours.enable();
if (PEER_MODULES[MODE] !== undefined) {
  const peer = new (requirePeer(PEER_MODULES[MODE]).OpenAIInstrumentation)(); // enabled: patches openai when it loads
  peer.setTracerProvider(otel.tracerProvider);
  peer.setMeterProvider(otel.meterProvider);
}

// The paced client replays in this process: no server.
const server = CLIENT === 'paced' ? undefined : spawn(process.execPath, [new URL('./sse-server.mjs', import.meta.url).pathname], { env: { ...process.env, CHUNKS: String(CHUNKS) }, stdio: ['ignore', 'pipe', 'inherit'] });
const port = server === undefined ? undefined : await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const messages = process.env.BODY === 'agent' ? agentMessages() : [{ role: 'user', content: 'Run the benchmark task.' }];

let completion;
let received = 0;
if (CLIENT === 'openai') {
  const { default: OpenAI } = requirePeer('openai');
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'bench', maxRetries: 0 });
  completion = async () => {
    const stream = await client.chat.completions.create({ model: 'bench', stream: true, max_tokens: CHUNKS, messages });
    for await (const chunk of stream) received += chunk.choices.length;
  };
} else if (CLIENT === 'paced') {
  completion = pacedCompletion();
} else {
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  const payload = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages });
  completion = async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
  };
}

/**
 * CLIENT `paced`: an engine streaming tokens at its own pace, every event a socket read of its
 * own (a fresh buffer, as Node reads a socket) in a turn of its own, replayed in this process in
 * front of our interceptor (or bare), the network taken out; the usage event only when asked for.
 */
function pacedCompletion() {
  const events = completionEvents(CHUNKS);
  const [usage, done] = events.pop().split(/(?<=\n\n)/);
  const rawHeaders = [Buffer.from('content-type'), Buffer.from('text/event-stream; charset=utf-8')];
  const read = (text) => {
    const b = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    b.write(text);
    return b;
  };
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const replay = (opts, handler) => {
    const body = Array.isArray(opts.body) ? Buffer.concat(opts.body) : opts.body;
    const asked = String(body).includes('"include_usage":true');
    (async () => {
      handler.onConnect?.(() => {});
      await turn();
      handler.onHeaders(200, rawHeaders, () => {}, 'OK');
      for (const e of events) {
        await turn();
        handler.onData(read(e));
      }
      await turn();
      if (asked) handler.onData(read(usage));
      handler.onData(read(done));
      handler.onComplete([]);
    })();
    return true;
  };
  const dispatch = MODE === 'bare' ? replay : ours.interceptor()(replay);
  const body = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages });
  return () => new Promise((resolve, reject) => {
    dispatch({ origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: ['content-type', 'application/json'], body }, {
      onConnect() {},
      onHeaders: () => true,
      onData: (chunk) => {
        received += chunk.length;
        return true;
      },
      onComplete: resolve,
      onError: reject,
    });
  });
}

/** `count` completions, 32 at a time. */
async function run(count) {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, (_, w) => withProgram(`bench-${w}`, async () => {
    while (next++ < count) await completion();
  })));
}
if (MODE === 'ceiling') {
  if (CLIENT !== 'openai') throw new Error('ceiling: openai client only');
  await run(Number(process.env.CEILING_SOURCE ?? 600));
  await otel.flush();
  ours.disable();
  if (templates.spans === undefined || templates.histograms === undefined) throw new Error('ceiling: none of our steps was exported to copy');
  const fixed = templates;
  completion = ceilingOf(otel.tracerProvider, otel.meterProvider, () => fixed)(completion);
}
// PROFILE=<file>: PROFILE_WARM completions first (V8 optimises our per-completion functions only
// after 1,000–3,000), then V8's sampling profiler (50 µs) over the N measured ones, written to <file>
// (a .cpuprofile: Chrome's DevTools or a script reads it).
if (process.env.PROFILE) {
  await run(Number(process.env.PROFILE_WARM ?? 4000));
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, v) => (err ? reject(err) : resolve(v))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 50 });
  await post('Profiler.start');
  await run(N);
  const { profile } = await post('Profiler.stop');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.PROFILE, JSON.stringify(profile));
  session.disconnect();
} else {
  await run(N);
}
await otel?.shutdown();
server?.kill('SIGTERM');
if (received === 0) throw new Error('nothing received');
// A mode that exported nothing measured nothing (a peer that did not patch the client).
if (otel !== undefined && MODE !== 'bare' && otel.counts.spans === 0) throw new Error(`${MODE}: no spans exported`);
if (process.env.VERBOSE) console.log(`${MODE}: ${(otel?.counts.spans ?? 0) / N} spans, ${received / N} received per completion`);
