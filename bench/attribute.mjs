// Where a workload's instructions go, by JavaScript function: one run of instructions-workload.mjs
// under callgrind with `node --perf-basic-prof`, which writes where V8 put each compiled
// function (/tmp/perf-<pid>.map), so callgrind's anonymous `???:0x…` entries are looked up by
// address. Counts are exact (not sampled) but include start-up and warm-up: read them as shares,
// and bench/instructions.mjs for totals. Not part of `npm run bench`.
//
//   CLIENT=openai MODE=ours+sdk CHUNKS=64 N=1500 node bench/attribute.mjs [top] [part]
//
// Prints instructions per completion by part (our code, the SDK, the client, V8's compilers and
// collector, …) and the top functions (default 40), of one part when named (`agentic-otel`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionCounts, isCompiler } from './callgrind.mjs';

const workload = new URL('./instructions-workload.mjs', import.meta.url).pathname;
const N = Number(process.env.N ?? 1500);
const top = Number(process.argv[2] ?? 40);
const onlyPart = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-attribute-'));
const out = join(dir, 'callgrind.out');

try {
  // In the temporary directory: with --perf-basic-prof, V8 also writes an isolate-*.log to the working directory.
  const run = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--perf-basic-prof', workload], { cwd: dir, env: { ...process.env, N: String(N) }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const stderr = run.stderr.toString();
  if (run.status !== 0) throw new Error(`the workload failed:\n${stderr.slice(-2000)}`);
  const pid = /==(\d+)==/.exec(stderr)?.[1];
  const map = readPerfMap(`/tmp/perf-${pid}.map`);
  const byFunction = new Map();
  const byPart = new Map();
  for (const [raw, count] of functionCounts(out)) {
    const address = /^\?\?\?:0x([0-9a-f]+)/.exec(raw);
    const name = address !== null ? (map.lookup(parseInt(address[1], 16)) ?? 'JIT code, unmapped') : raw.replace(/\s*\[.*\]$/, '').replace(/^[^:]*:/, '');
    const part = partOf(name, address !== null);
    byPart.set(part, (byPart.get(part) ?? 0) + count);
    if (onlyPart === undefined || part.includes(onlyPart)) byFunction.set(name, (byFunction.get(name) ?? 0) + count);
  }
  const K = (x) => `${(x / N / 1e3).toFixed(1).padStart(9)} K`;
  console.log(`instructions per completion (${N} completions, start-up and warm-up included): ${process.env.CLIENT ?? 'fetch'} ${process.env.MODE ?? 'bare'} ${process.env.CHUNKS ?? 256} chunks`);
  for (const [part, count] of [...byPart].sort((a, b) => b[1] - a[1])) console.log(`${K(count)}  ${part}`);
  console.log(`\ntop ${top} functions${onlyPart === undefined ? '' : ` of ${onlyPart}`}`);
  for (const [name, count] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${K(count)}  ${name.slice(0, 140)}`);
  rmSync(`/tmp/perf-${pid}.map`, { force: true });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The perf map: `start size name` per line, looked up by address (later entries win). */
function readPerfMap(file) {
  const entries = readFileSync(file, 'utf8').split('\n').map((l) => l.split(' ')).filter((p) => p.length >= 3).map(([s, n, ...name]) => [parseInt(s, 16), parseInt(n, 16), name.join(' ')]);
  entries.sort((a, b) => a[0] - b[0]);
  return {
    lookup(address) {
      let lo = 0;
      let hi = entries.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (entries[mid][0] <= address) lo = mid;
        else hi = mid - 1;
      }
      for (let i = lo; i >= 0 && i > lo - 50; i--) if (entries[i][0] <= address && address < entries[i][0] + entries[i][1]) return entries[i][2];
      return undefined;
    },
  };
}

function partOf(name, jit) {
  if (jit) {
    if (/\/dist\/esm\//.test(name)) return 'agentic-otel';
    if (/sdk-metrics|sdk-trace|@opentelemetry\/(api|core|context)/.test(name)) return 'OpenTelemetry SDK and API';
    if (/instrumentation-openai|openinference/.test(name)) return 'a peer instrumentation';
    if (/node_modules\/openai\//.test(name)) return 'the openai client';
    if (/undici/.test(name)) return "Node's undici";
    if (/ node:/.test(name)) return "Node's JavaScript";
    return 'other JIT code (builtins, stubs)';
  }
  if (isCompiler(name)) return "V8's compilers";
  if (/Scaveng|Mark|Sweep|Heap|heap::|Evacuat|Concurrent|Minor|Promot|RememberedSet|SlotSet/.test(name)) return "V8's collector";
  if (/Builtins_/.test(name)) return "V8's builtins";
  return 'native (V8 runtime, Node, libc)';
}
