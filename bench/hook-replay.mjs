// The lab of docs/performance.md (seventh session): our interceptor and handler alone, in front of
// a dispatch that replays a CHUNKS-chunk completion synchronously, every chunk a buffer of its own
// (as a paced engine's socket reads arrive), REPS completions; the API's no-op tracer and meter, so
// only our own work runs. MODE=bare replays without the hook. The replay always ends with the
// usage-only event (an engine sends it when asked, and our hook asks): ours takes it back out.
// Count it with callgrind at two REPS and two CHUNKS, per chunk = (per completion at 256 − at 64) / 192:
//   for c in 64 256; do for r in 2000 4000; do
//     CHUNKS=$c REPS=$r valgrind --tool=callgrind --callgrind-out-file=hook.$c.$r node bench/hook-replay.mjs
//   done; done
// (split by function with `callgrind_annotate` and `node --perf-basic-prof` to leave out V8's compilers).
// TIMED=1 times it instead, warm and with caches flushed between completions:
//   for c in 64 256; do CHUNKS=$c TIMED=1 node bench/hook-replay.mjs; done
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { completionEvents, replayOf } from './completion-stream.mjs';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const CHUNKS = Number(process.env.CHUNKS ?? 64);
const REPS = Number(process.env.REPS ?? 1000);
const ours = new AgenticInstrumentation({ enabled: false });
if (process.env.MODE !== 'bare') ours.enable();
const reads = completionEvents(CHUNKS).map((e) => {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(e));
  b.write(e);
  return b;
});
let received = 0;
const replay = replayOf(reads);
const hooked = ours.interceptor()(replay);
const dispatch = process.env.MODE === 'bare' ? replay : hooked;
const body = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages: [{ role: 'user', content: 'Run the benchmark task.' }] });
const app = { onConnect() {}, onHeaders: () => true, onData: (c) => ((received += c.length), true), onComplete() {}, onError(e) { throw e; } };
const opts = { origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: ['content-type', 'application/json'], body };

// TIMED=1: CPU µs per completion, ours and bare alternating (5 rounds, medians), with warm caches
// and with 8 MiB walked between completions (what else runs between two completions on a real
// path evicts their code and state; the walk itself is not timed).
const junk = new Float64Array(1 << 20);
let walked = 0; // read once at the end, so that the walk is not optimised away
const evict = () => {
  for (let i = 0; i < junk.length; i += 8) walked += junk[i]++;
};
async function timed(d, n, cold) {
  let us = 0;
  for (let i = 0; i < n; i++) {
    if (cold) evict();
    const t = process.cpuUsage();
    d(opts, app);
    const u = process.cpuUsage(t);
    us += u.user + u.system;
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return us / n;
}

await withProgram('bench', async () => {
  if (process.env.TIMED) {
    ours.enable();
    for (let w = 0; w < 3; w++) for (const d of [hooked, replay]) await timed(d, 3000, false); // past V8's tiering
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    for (const cold of [false, true]) {
      const r = { ours: [], bare: [] };
      for (let round = 0; round < 5; round++) {
        r.ours.push(await timed(hooked, cold ? 1500 : 6000, cold));
        r.bare.push(await timed(replay, cold ? 1500 : 6000, cold));
      }
      console.log(`${CHUNKS} chunks, ${cold ? 'caches flushed' : 'warm'}: ours ${median(r.ours).toFixed(1)} µs, bare ${median(r.bare).toFixed(1)} µs, added ${(median(r.ours) - median(r.bare)).toFixed(1)} µs per completion${walked < 0 ? '.' : ''}`);
    }
    return;
  }
  for (let i = 0; i < REPS; i++) {
    dispatch(opts, app);
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
});
ours.disable();
if (!process.env.TIMED) console.log(`bytes received per completion: ${received / REPS}`);
