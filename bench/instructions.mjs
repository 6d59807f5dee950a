// npm run bench: what a completion costs in instructions, not seconds. On a shared 2-core machine
// two timed runs of the same code differ by more than one optimisation saves (bare CPU per
// completion moved by 30 % between identical runs); `valgrind --tool=callgrind` counts the
// instructions the client process executes (the SSE server is its own process, not counted).
//
// Each workload (instructions-workload.mjs) runs with N1 and with N2 completions, two at a time;
// (count at N2 − count at N1) / (N2 − N1) is the count per completion with start-up and shutdown
// taken out. V8 is still optimising thousands of completions in (64 chunks, functions optimised
// per 1,000 completions: ours 656, 240, 114, 54; bare 462, 182, 76, 52), and compiling is counted
// too: the window starts at 1,000 completions, and each count is also printed without the
// instructions spent in V8's compilers (callgrind_annotate, by function), which a long-running
// process pays once.
//
// Printed: through Node's fetch, bare and what `ours` (our own work: the API's no-op tracer and
// meter) and `ours+sdk` (NodeSDK's providers) add at 256 and 64 chunks, and per chunk,
// (added at 256 − added at 64) / 192; through the `openai` client the peers patch (peers.mjs), at
// 64 chunks, bare and what ours, the ceiling (our telemetry, nothing observed) and each peer add,
// with the same providers; and a paced stream
// (every event its own socket read, in a turn of its own, as an engine streams tokens; replayed
// in-process, network taken out), 64 chunks, bare and what ours and ours+sdk add.
// BENCH_INSTRUCTIONS=fetch, =openai or =paced runs one part; BENCH_INSTRUCTIONS_N=N1,N2 sets the window;
// BENCH_INSTRUCTIONS_MODES=bare,ceiling,… the openai part's modes (bare first).
// Run it on an idle machine: the counts are exact, but what the client does depends on time (the
// server beside it, the batch span processor's 5 s timer, V8 compiling on other threads). With
// other jobs beside it, through the client without V8's compilers, bare counted 0.35 M more
// per completion than idle, contrib the same, ours 1.21 M more (docs/performance.md, sixth session).
// Skipped when valgrind is not installed.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionCounts, isCompiler } from './callgrind.mjs';
import { ensurePeers } from './peers.mjs';

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.log('bench/instructions.mjs: valgrind is not installed, skipped');
  process.exit(0);
}

const workload = new URL('./instructions-workload.mjs', import.meta.url).pathname;
const [N1, N2] = (process.env.BENCH_INSTRUCTIONS_N ?? '1000,2000').split(',').map(Number);
const parts = (process.env.BENCH_INSTRUCTIONS ?? 'fetch,openai,paced').split(',');
const dir = mkdtempSync(join(tmpdir(), 'agentic-otel-instructions-'));

/** Instructions of V8's compilers in a callgrind output file. */
function compileInstructions(file) {
  return functionCounts(file).reduce((sum, [name, count]) => (isCompiler(name) ? sum + count : sum), 0);
}

function collected(env, n) {
  const file = join(dir, `${Object.values(env).join('-')}-${n}.out`);
  return new Promise((resolve, reject) => {
    const args = ['--tool=callgrind', `--callgrind-out-file=${file}`, process.execPath, workload];
    execFile('valgrind', args, { env: { ...process.env, ...env, N: String(n) }, maxBuffer: 16 * 1024 * 1024 }, (err, _out, stderr) => {
      const m = /Collected : (\d+)/.exec(stderr);
      if (err !== null || m === null) return reject(err ?? new Error(`no instruction count:\n${stderr.slice(-2000)}`));
      const total = Number(m[1]);
      const compile = compileInstructions(file);
      rmSync(file, { force: true });
      resolve({ total, run: total - compile });
    });
  });
}

/** Per completion: all instructions, and those outside V8's compilers. */
async function perCompletion(env) {
  const [a, b] = await Promise.all([collected(env, N1), collected(env, N2)]);
  return { total: (b.total - a.total) / (N2 - N1), run: (b.run - a.run) / (N2 - N1) };
}

const M = (x) => `${(x / 1e6).toFixed(2)} M`;
const line = (label, r, bare) => {
  const added = bare === undefined ? '' : `   added ${M(r.total - bare.total)} (${M(r.run - bare.run)})`;
  console.log(`${label}  ${M(r.total)} (${M(r.run)})${added}`);
};

console.log(`agentic-otel instruction counts: concurrency 32, (${N2} − ${N1} completions) / ${N2 - N1}, node ${process.version}; per completion, all (without V8's compilers)`);
try {
  if (parts.includes('fetch')) {
    const result = {};
    for (const chunks of [256, 64]) {
      for (const mode of ['bare', 'ours', 'ours+sdk']) {
        result[`${mode}@${chunks}`] = await perCompletion({ CLIENT: 'fetch', MODE: mode, CHUNKS: String(chunks) });
        line(`fetch   ${String(chunks).padStart(3)} chunks  ${mode.padEnd(14)}`, result[`${mode}@${chunks}`], mode === 'bare' ? undefined : result[`bare@${chunks}`]);
      }
    }
    for (const mode of ['ours', 'ours+sdk']) {
      const added = (chunks, k) => result[`${mode}@${chunks}`][k] - result[`bare@${chunks}`][k];
      console.log(`fetch, per chunk, ${mode}: ${((added(256, 'total') - added(64, 'total')) / 192).toFixed(0)} instructions (${((added(256, 'run') - added(64, 'run')) / 192).toFixed(0)} without the compilers)`);
    }
  }
  if (parts.includes('openai')) {
    ensurePeers();
    const result = {};
    const modes = process.env.BENCH_INSTRUCTIONS_MODES?.split(',') ?? ['bare', 'ours+sdk', 'ceiling', 'contrib', 'traceloop', 'openinference'];
    for (const mode of modes) {
      result[mode] = await perCompletion({ CLIENT: 'openai', MODE: mode, CHUNKS: '64' });
      line(`openai   64 chunks  ${mode.padEnd(14)}`, result[mode], mode === 'bare' ? undefined : result.bare);
    }
  }
  if (parts.includes('paced')) {
    const result = {};
    for (const mode of ['bare', 'ours', 'ours+sdk']) {
      result[mode] = await perCompletion({ CLIENT: 'paced', MODE: mode, CHUNKS: '64' });
      line(`paced    64 chunks  ${mode.padEnd(14)}`, result[mode], mode === 'bare' ? undefined : result.bare);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
