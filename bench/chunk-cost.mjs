// Our marginal CPU per streamed chunk, network taken out, for each `timePerOutputChunk`
// granularity: our interceptor and handler in front of a dispatch that replays a 256-chunk and a
// 64-chunk SSE response (an event per read, as Node's fetch hands them over), with the providers
// users run (otel-providers.mjs: batch span processor, periodic metric reader). Per mode, CPU µs
// per completion at 256 and at 64 chunks (medians of 9 interleaved rounds), and
// (cost at 256 − cost at 64) / 192: what one more chunk costs. `no meter` is the same hook with no
// meter provider (every record goes to the API's no-op meter); `bare` is the replay alone.
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { completionEvents, readOf, replayOf } from './completion-stream.mjs';
import { median, otelProviders } from './otel-providers.mjs';

const otel = otelProviders();
const replays = { 256: replayOf(readOf(completionEvents(256))), 64: replayOf(readOf(completionEvents(64))) };
const handler = { onConnect() {}, onHeaders: () => true, onData: () => true, onComplete() {}, onError: (e) => { throw e; } };

function ours(config, meter = true) {
  const i = new AgenticInstrumentation({ enabled: false, ...config });
  i.setTracerProvider(otel.tracerProvider);
  if (meter) i.setMeterProvider(otel.meterProvider);
  return i;
}
const modes = {
  bare: undefined,
  'perStream (default)': ours({ timePerOutputChunk: 'perStream' }),
  perChunk: ours({ timePerOutputChunk: 'perChunk' }),
  off: ours({ timePerOutputChunk: 'off' }),
  'no meter': ours({}, false),
};
const names = Object.keys(modes);
const N = 1000;

function round(instrumentation, chunks, opts) {
  const dispatch = instrumentation === undefined ? replays[chunks] : instrumentation.interceptor()(replays[chunks]);
  instrumentation?.enable();
  const cpu = process.cpuUsage();
  for (let i = 0; i < N; i++) dispatch(opts, handler);
  const used = process.cpuUsage(cpu);
  instrumentation?.disable();
  return (used.user + used.system) / N;
}

const payload = (chunks) => Buffer.from(JSON.stringify({ model: 'bench', stream: true, max_tokens: chunks, messages: [{ role: 'user', content: 'Run the benchmark task.' }] }));
const samples = Object.fromEntries(names.map((n) => [n, { 256: [], 64: [] }]));
await withProgram('bench', async () => {
  for (let r = -1; r < 9; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + Math.max(r, 0)) % names.length];
      for (const chunks of [256, 64]) {
        const body = payload(chunks);
        const opts = { origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: ['content-type', 'application/json', 'content-length', String(body.length)], body };
        const us = round(modes[name], chunks, opts);
        if (r >= 0) samples[name][chunks].push(us);
      }
      await otel.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
});
const bare = samples.bare;
console.log('\nmarginal CPU per streamed chunk, network taken out (medians of 9 rounds; ours less the bare replay)');
console.log('mode                   µs/completion @256  @64    µs per chunk [rounds: lowest–highest]');
for (const name of names.filter((n) => n !== 'bare')) {
  const s = samples[name];
  const per = s[256].map((x, r) => ((x - bare[256][r]) - (s[64][r] - bare[64][r])) / 192);
  console.log(`${name.padEnd(22)} ${(median(s[256]) - median(bare[256])).toFixed(1).padStart(18)} ${(median(s[64]) - median(bare[64])).toFixed(1).padStart(6)}   ${median(per).toFixed(3)} [${Math.min(...per).toFixed(3)}–${Math.max(...per).toFixed(3)}]`);
}
await otel.shutdown();
