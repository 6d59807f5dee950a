// vLLM-omni at production scale, in bounded memory:
// 1. `omni ingest --json` on a generated log of OMNI_LOG_MB (default 200) MB of [OmniTiming]
//    lines, in a child process: its peak RSS (target: under 200 MB) and time;
// 2. the omni recorder fed 200,000 requests: heapUsed after a full GC every 50,000 (flat: the
//    tables keep the latest 1,000, the summary aggregates incrementally).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metrics, trace } from '@opentelemetry/api';
import { OmniRecorder } from '../dist/esm/omni/omni-recorder.js';
import { parseTimingLine } from '../dist/esm/omni/omni-log-reader.js';

const MB = Number(process.env.OMNI_LOG_MB ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-omni-scale-'));
const file = join(dir, 'omni.log');
const line = (i) => `INFO 12-01 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} [OmniTiming] req=chatcmpl-${i.toString(16).padStart(12, '0')} total=32.99s preprocess=2.80s engine=30.19s stages=[0:ar=16.23s,1:diffusion=13.96s] transfers=[0->1=0.780ms]\n`;
const out = createWriteStream(file);
let bytes = 0;
for (let i = 0; bytes < MB * 1024 * 1024; i++) {
  const l = line(i);
  bytes += l.length;
  if (!out.write(l)) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
const script = `import('${new URL('../dist/esm/cli/omni-ingest.js', import.meta.url).pathname}').then((m) => m.omniIngest(process.argv[1], { json: true, otlpEndpoint: undefined })).then(() => process.stderr.write(String(process.resourceUsage().maxRSS)))`;
const t0 = Date.now();
const r = spawnSync(process.execPath, ['-e', script, file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 20 });
const seconds = (Date.now() - t0) / 1000;
console.log(`omni ingest --json, ${(statSync(file).size / 1024 / 1024).toFixed(0)} MB log: peak RSS ${(Number(r.stderr.trim().split('\n').at(-1)) / 1024).toFixed(0)} MB, ${seconds.toFixed(1)} s (exit ${r.status})`);
rmSync(dir, { recursive: true, force: true });

const recorder = new OmniRecorder(() => trace.getTracer('bench'), metrics.getMeter('bench'));
const heap = () => {
  globalThis.gc?.();
  return (process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1);
};
const samples = [`0: ${heap()} MB`];
for (let i = 1; i <= 200_000; i++) {
  recorder.recordParsed(parseTimingLine(line(i).slice(line(i).indexOf('[OmniTiming]') + 12)));
  if (i % 50_000 === 0) samples.push(`${i}: ${heap()} MB`);
}
console.log(`omni recorder heapUsed after a full GC, by requests recorded: ${samples.join(', ')}`);
