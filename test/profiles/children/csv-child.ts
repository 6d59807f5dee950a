/**
 * A process that records steps with `profile` on and then ends the way argv[3] says, without
 * calling shutdown(): the CSV durability tests run it. Prints `step <program> <id>` for each
 * finished step (pipes are synchronous on Linux, so a line printed is a step finished), then
 * `ready` once it has made its steps.
 *
 *   csv-child.ts <dir> natural|exit|sigterm|sigterm-handler|stream [steps] [waiting]
 *
 * `waiting`: the last request fails (500) and its step waits for a retry that never comes.
 */
import { request } from 'undici';
import { AgenticInstrumentation } from '../../../src/index.js';
import { startSimulator } from '../../../src/simulator/index.js';

const [dir, mode, stepsArg, waiting] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
const steps = Number(stepsArg ?? 5);

const instrumentation = new AgenticInstrumentation({ profile: { dir } });
instrumentation.onStepEnd((r) => process.stdout.write(`step ${r.programId} ${r.stepId}\n`));
const sim = await startSimulator({ decodeMsPerToken: 0.2, prefillBaseMs: 0.5, defaultMaxTokens: 4 });

async function step(program: string, fault?: string): Promise<void> {
  const res = await request(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-program-id': program, ...(fault !== undefined && { 'x-sim-fault': fault }) },
    body: JSON.stringify({ model: sim.model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.body.text();
}

if (mode === 'stream') {
  // Steps without end, eight programs at once, until killed.
  await Promise.all(Array.from({ length: 8 }, async (_, p) => {
    for (;;) await step(`kill-${p}`);
  }));
}

for (let i = 0; i < steps; i++) await step(`${mode}-prog`);
if (waiting === 'waiting') await step(`${mode}-prog`, 'http_500');

if (mode === 'sigterm-handler') {
  process.on('SIGTERM', () => {
    process.stdout.write('application handler\n');
    setTimeout(() => process.exit(0), 20);
  });
}
process.stdout.write('ready\n');
if (mode === 'natural') {
  await sim.close();
} else if (mode === 'exit') {
  process.exit(0);
} else {
  setInterval(() => {}, 1000); // alive until signalled
}
