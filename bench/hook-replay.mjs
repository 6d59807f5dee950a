// The lab of docs/performance.md (seventh session): our interceptor and handler alone, in front of
// a dispatch that replays a CHUNKS-chunk completion synchronously, every chunk a buffer of its own
// (as a paced engine's socket reads arrive), REPS completions; the API's no-op tracer and meter, so
// only our own work runs. MODE=bare replays without the hook. The replay always ends with the
// usage-only event (an engine sends it when asked, and our hook asks): ours takes it back out. Count it with callgrind at two REPS
// and two CHUNKS, per chunk = (per completion at 256 − at 64) / 192:
//   for c in 64 256; do for r in 2000 4000; do
//     CHUNKS=$c REPS=$r valgrind --tool=callgrind --callgrind-out-file=hook.$c.$r node bench/hook-replay.mjs
//   done; done
// (split by function with `callgrind_annotate` and `node --perf-basic-prof` to leave out V8's compilers).
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
const dispatch = process.env.MODE === 'bare' ? replay : ours.interceptor()(replay);
const body = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages: [{ role: 'user', content: 'Run the benchmark task.' }] });
const app = { onConnect() {}, onHeaders: () => true, onData: (c) => ((received += c.length), true), onComplete() {}, onError(e) { throw e; } };
await withProgram('bench', async () => {
  for (let i = 0; i < REPS; i++) {
    dispatch({ origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: ['content-type', 'application/json'], body }, app);
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
});
ours.disable();
console.log(`bytes received per completion: ${received / REPS}`);
