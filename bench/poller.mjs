// CPU time per backend per poll: the poller reading a real vLLM V1 capture (a full scrape, 45 KB)
// from a local server, 500 polls; the CPU of this process only (fetch, parse, map, history).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { BackendPoller } from '../dist/esm/engines/backend-poller.js';
import { fixturePath } from './fixtures-dir.mjs';

const body = readFileSync(fixturePath('prometheus/vllm-v1-idle.prom'));
const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const poller = new BackendPoller([{ url: `http://127.0.0.1:${server.address().port}` }], { pollIntervalMs: 60_000 });
const [backend] = poller.backends;
for (let i = 0; i < 50; i++) await poller.poll(backend); // warm-up
const POLLS = 500;
const cpu = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < POLLS; i++) await poller.poll(backend);
const used = process.cpuUsage(cpu);
console.log(`\npoller: ${((used.user + used.system) / POLLS).toFixed(0)} µs CPU per backend per poll (${(body.length / 1024).toFixed(0)} KiB vLLM scrape, ${((performance.now() - t0) / POLLS).toFixed(2)} ms wall, up=${backend.up})`);
server.close();
