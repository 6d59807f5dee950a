// Memory of program state: 100,000 programs of 3 steps each through the real request hook
// (an in-process dispatcher answers, so no network is involved), with profiling on and the CSV
// written. With eviction (programIdleTimeoutMs) the heap stays bounded; without it, it grows
// with every program. Prints heapUsed after a full GC, sampled every 10,000 programs.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';

const PROGRAMS = Number(process.env.BENCH_PROGRAMS ?? 100_000);
const body = Buffer.from('data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\n\ndata: {"id":"x","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":1,"total_tokens":101,"prompt_tokens_details":{"cached_tokens":64}}}\n\ndata: [DONE]\n\n');
const engine = (_opts, handler) => {
  handler.onRequestStart?.({}, {});
  handler.onResponseStart?.({}, 200, { 'content-type': 'text/event-stream' }, 'OK');
  handler.onResponseData?.({}, body);
  handler.onResponseEnd?.({}, {});
  return true;
};
const handler = { onRequestStart() {}, onResponseStart() {}, onResponseData() {}, onResponseEnd() {}, onResponseError() {} };
const payload = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'step' }] });
const opts = { origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: payload };

async function run(label, idleTimeoutMs) {
  const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-mem-'));
  const inst = new AgenticInstrumentation({ installGlobalDispatcher: false, profile: { dir }, programIdleTimeoutMs: idleTimeoutMs });
  const dispatch = inst.interceptor()(engine);
  globalThis.gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const t0 = performance.now();
  for (let p = 0; p < PROGRAMS; p++) {
    withProgram(`program-${p}`, () => { for (let s = 0; s < 3; s++) dispatch(opts, handler); });
    if ((p + 1) % 10_000 === 0) {
      await inst.profiles.flush();
      await new Promise((r) => setTimeout(r, 50)); // programs of this batch go idle
      globalThis.gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
  }
  await inst.shutdown();
  globalThis.gc();
  const final = process.memoryUsage().heapUsed - base;
  const live = Object.keys(inst.profiles.programs()).length;
  const csvMb = statSync(join(dir, 'step_profiles.csv')).size / 1e6;
  console.log(`${label.padEnd(34)} peak heap +${(peak / 1e6).toFixed(1)} MB, final +${(final / 1e6).toFixed(1)} MB, programs in memory ${live}, CSV ${csvMb.toFixed(1)} MB, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  inst.disable();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nprogram memory: ${PROGRAMS} programs × 3 steps through the request hook, profiling on`);
await run('eviction on (idle timeout 20 ms)', 20);
await run('eviction off (idle timeout 1 day)', 86_400_000);
