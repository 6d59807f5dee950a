// Prometheus text parsing throughput on the real captures: ours against
// parse-prometheus-text-format, side by side in one run (target: ≥ 3×). The two parsers take
// turns over several rounds (order alternating) and each round's throughput is measured in this
// process's CPU time, so that a neighbour taking the core in one moment does not decide the
// ratio; the medians are reported.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parsePrometheusText } from '../dist/esm/prometheus/parse-prometheus-text.js';
import { fixturePath } from './fixtures-dir.mjs';

const require = createRequire(import.meta.url);
const parsePeer = require('parse-prometheus-text-format');
const dir = fixturePath('prometheus');
const texts = readdirSync(dir).filter((f) => f.endsWith('.prom')).map((f) => readFileSync(join(dir, f), 'utf8'));
const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);
const ROUNDS = Number(process.env.BENCH_PARSER_ROUNDS ?? 41);

/** MB parsed per CPU second over ~`ms` of parsing. */
function mbPerCpuSecond(parse, ms) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (const t of texts) parse(t);
    n++;
  }
  const used = process.cpuUsage(cpu);
  return (n * bytes) / 1e6 / ((used.user + used.system) / 1e6);
}

for (let i = 0; i < 100; i++) {
  for (const t of texts) {
    parsePrometheusText(t);
    parsePeer(t);
  }
} // warm-up
const ours = [];
const peer = [];
const ratios = [];
for (let round = 0; round < ROUNDS; round++) {
  globalThis.gc?.();
  const a = round % 2 === 0 ? mbPerCpuSecond(parsePrometheusText, 60) : undefined;
  const b = mbPerCpuSecond(parsePeer, 60);
  const o = a ?? mbPerCpuSecond(parsePrometheusText, 60);
  ours.push(o);
  peer.push(b);
  ratios.push(o / b);
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(
  `\nPrometheus text parsing on the ${texts.length} captures (${(bytes / 1024).toFixed(0)} KiB), ${ROUNDS} alternating rounds, medians of CPU-time throughput: ` +
    `agentic-otel ${median(ours).toFixed(1)} MB/s, parse-prometheus-text-format ${median(peer).toFixed(1)} MB/s, ratio ${median(ratios).toFixed(2)}× (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
);
