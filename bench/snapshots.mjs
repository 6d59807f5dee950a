// Engine snapshots add no latency to requests: 100 concurrent streamed requests against the
// simulator (its own process: `agentic-otel simulator`), with our instrumentation and with the same
// plus `snapshots: { dir }` on that engine, interleaved over rounds. Per mode: the median request
// latency (call to last byte) and the scrapes the engine received; the ratio of latencies
// (snapshots / none) per round, and its spread.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { AgenticInstrumentation } from '../dist/esm/index.js';
import { median, otelProviders } from './otel-providers.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONCURRENT = 100;
const otel = otelProviders();
const sim = spawn(process.execPath, [new URL('../dist/esm/cli/main.js', import.meta.url).pathname, 'simulator', '--port', '0', '--decode-ms', '2', '--max-running', '128'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [model, url] = await new Promise((resolve) => sim.stdout.on('data', (d) => { const m = /serving (\S+) at (http:\/\/\S+)\/v1/.exec(String(d)); if (m) resolve([m[1], m[2]]); }));
const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-bench-snapshots-'));
const make = (snapshots) => {
  const i = new AgenticInstrumentation({ enabled: false, backends: [{ url }], pollIntervalMs: 600_000, ...(snapshots && { snapshots: { dir } }) });
  i.setTracerProvider(otel.tracerProvider);
  i.setMeterProvider(otel.meterProvider);
  return i;
};
const modes = { 'no snapshots': make(false), snapshots: make(true) };
const body = (i) => JSON.stringify({ model, stream: true, max_tokens: 16, messages: [{ role: 'user', content: `request ${i}` }] });

async function burst() {
  const latencies = await Promise.all(Array.from({ length: CONCURRENT }, async (_, i) => {
    const t0 = performance.now();
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(i) });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`the simulator answered ${res.statusCode}`);
    return performance.now() - t0;
  }));
  return median(latencies);
}

const lat = { 'no snapshots': [], snapshots: [] };
const scrapes = [];
for (let r = -1; r < ROUNDS; r++) {
  for (const name of r % 2 === 0 ? ['no snapshots', 'snapshots'] : ['snapshots', 'no snapshots']) {
    const inst = modes[name];
    inst.enable();
    const before = Object.values(inst.snapshots.scrapes())[0] ?? 0;
    const ms = await burst();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the last "after" captures
    if (name === 'snapshots' && r >= 0) scrapes.push((Object.values(inst.snapshots.scrapes())[0] ?? 0) - before);
    inst.disable();
    if (r >= 0) lat[name].push(ms);
  }
}
const ratios = lat.snapshots.map((x, i) => x / lat['no snapshots'][i]);
console.log(`\nengine snapshots, ${CONCURRENT} concurrent streamed requests, ${ROUNDS} interleaved rounds: median request latency ` +
  `${median(lat['no snapshots']).toFixed(1)} ms without, ${median(lat.snapshots).toFixed(1)} ms with snapshots: ratio ${median(ratios).toFixed(3)} ` +
  `[${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}]; scrapes per burst of ${CONCURRENT}: median ${median(scrapes)}, at most ${Math.max(...scrapes)}`);
await otel.shutdown();
sim.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
