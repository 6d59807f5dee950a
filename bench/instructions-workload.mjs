// One workload of bench/instructions.mjs, run under callgrind: N streamed completions of CHUNKS
// chunks through Node's global fetch at concurrency 32, against the bench's SSE server (its own
// process, not counted). MODE: `bare`; `ours` (our hook under the API's no-op tracer and meter:
// our own work only); `ours+sdk` (with the providers NodeSDK sets up, otel-providers.mjs).
import { spawn } from 'node:child_process';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AgenticInstrumentation, withProgram } from '../dist/esm/index.js';
import { otelProviders } from './otel-providers.mjs';

const MODE = process.env.MODE ?? 'bare';
const N = Number(process.env.N ?? 200);
const CHUNKS = Number(process.env.CHUNKS ?? 256);

await fetch('data:,'); // Node's own dispatcher first, as an application gets it
const otel = MODE === 'ours+sdk' ? otelProviders() : undefined;
if (otel === undefined) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const ours = new AgenticInstrumentation({ enabled: false });
if (otel !== undefined) {
  ours.setTracerProvider(otel.tracerProvider);
  ours.setMeterProvider(otel.meterProvider);
}
if (MODE !== 'bare') ours.enable();

const server = spawn(process.execPath, [new URL('./sse-server.mjs', import.meta.url).pathname], { env: { ...process.env, CHUNKS: String(CHUNKS) }, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
const payload = JSON.stringify({ model: 'bench', stream: true, max_tokens: CHUNKS, messages: [{ role: 'user', content: 'Run the benchmark task.' }] });

let next = 0;
let bytes = 0;
await Promise.all(Array.from({ length: 32 }, (_, w) => withProgram(`bench-${w}`, async () => {
  while (next++ < N) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
  }
})));
await otel?.shutdown();
server.kill('SIGTERM');
if (bytes === 0) throw new Error('no bytes read');
