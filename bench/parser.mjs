// Prometheus text parsing throughput on the real captures: ours against
// parse-prometheus-text-format, side by side in one run (target: ≥ 3×).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePrometheusText } from '../dist/esm/prometheus/parse-prometheus-text.js';

const require = createRequire(import.meta.url);
const parsePeer = require('parse-prometheus-text-format');
const here = dirname(fileURLToPath(import.meta.url));
const dir = [process.env.AGENTIC_OTEL_SHARED_DIR, resolve(here, '../../shared')].filter(Boolean).map((d) => join(d, 'fixtures/prometheus'))[0];
const texts = readdirSync(dir).filter((f) => f.endsWith('.prom')).map((f) => readFileSync(join(dir, f), 'utf8'));
const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);

function mbPerSecond(parse) {
  for (let i = 0; i < 50; i++) for (const t of texts) parse(t); // warm-up
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 400) {
      for (const t of texts) parse(t);
      n++;
    }
    best = Math.max(best, (n * bytes) / 1e6 / ((performance.now() - t0) / 1000));
  }
  return best;
}
const ours = mbPerSecond(parsePrometheusText);
const peer = mbPerSecond(parsePeer);
console.log(`\nPrometheus text parsing on the ${texts.length} captures (${(bytes / 1024).toFixed(0)} KiB): agentic-otel ${ours.toFixed(1)} MB/s, parse-prometheus-text-format ${peer.toFixed(1)} MB/s, ratio ${(ours / peer).toFixed(2)}×`);
