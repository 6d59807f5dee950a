// npm run bench: what we add to a streamed completion in instructions, not seconds. On a shared
// 2-core machine two timed runs of the same code differ by more than one optimisation saves;
// `valgrind --tool=callgrind` counts the instructions the client process executes (the SSE
// server is its own process, not counted), repeatable within a few per cent. Each workload
// (instructions-workload.mjs) runs with 200 and with 800 completions, two at a time; the
// difference over 600 is the count per completion with start-up and shutdown taken out. Printed:
// per completion, bare and what `ours` (our own work: the API's no-op tracer and meter) and
// `ours+sdk` (NodeSDK's providers) add, at 256 and 64 chunks, and per chunk,
// (added at 256 − added at 64) / 192. Skipped when valgrind is not installed.
import { execFile, execFileSync } from 'node:child_process';

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.log('bench/instructions.mjs: valgrind is not installed, skipped');
  process.exit(0);
}

const workload = new URL('./instructions-workload.mjs', import.meta.url).pathname;
const [SMALL, LARGE] = [200, 800];

function collected(mode, chunks, n) {
  return new Promise((resolve, reject) => {
    const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, workload];
    execFile('valgrind', args, { env: { ...process.env, MODE: mode, CHUNKS: String(chunks), N: String(n) }, maxBuffer: 16 * 1024 * 1024 }, (err, _out, stderr) => {
      const m = /Collected : (\d+)/.exec(stderr);
      if (err !== null || m === null) reject(err ?? new Error(`no instruction count:\n${stderr.slice(-2000)}`));
      else resolve(Number(m[1]));
    });
  });
}

async function perCompletion(mode, chunks) {
  const [small, large] = await Promise.all([collected(mode, chunks, SMALL), collected(mode, chunks, LARGE)]);
  return (large - small) / (LARGE - SMALL);
}

console.log(`agentic-otel instruction counts: fetch, concurrency 32, (${LARGE} − ${SMALL} completions) / ${LARGE - SMALL}, node ${process.version}`);
const result = {};
for (const chunks of [256, 64]) {
  for (const mode of ['bare', 'ours', 'ours+sdk']) {
    result[`${mode}@${chunks}`] = await perCompletion(mode, chunks);
    const added = mode === 'bare' ? '' : `  added ${((result[`${mode}@${chunks}`] - result[`bare@${chunks}`]) / 1e6).toFixed(2)} M`;
    console.log(`${String(chunks).padStart(3)} chunks  ${mode.padEnd(9)} ${(result[`${mode}@${chunks}`] / 1e6).toFixed(2)} M instructions per completion${added}`);
  }
}
for (const mode of ['ours', 'ours+sdk']) {
  const added = (chunks) => result[`${mode}@${chunks}`] - result[`bare@${chunks}`];
  console.log(`per chunk, ${mode}: ${((added(256) - added(64)) / 192).toFixed(0)} instructions (counts vary by ~±0.2 M per completion run to run: ±1,500 per chunk)`);
}
