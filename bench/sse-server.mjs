// A local SSE server for the benchmark: every completion request is answered at once with
// CHUNKS vLLM-shaped chunks, then, as engines do, the usage-only chunk when the request asked for
// it (`stream_options.include_usage`), and [DONE]. It runs in its own process so that the client
// under test has its event loop to itself.
import { createServer } from 'node:http';
import { completionEvents } from './completion-stream.mjs';

const events = completionEvents(Number(process.env.CHUNKS ?? 256));
const last = events.pop(); // the usage event and [DONE], one write
const done = 'data: [DONE]\n\n';
const usage = last.slice(0, last.length - done.length);
const body = events;
const ASKED = Buffer.from('"include_usage":true');

const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const asked = Buffer.concat(parts).includes(ASKED);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    for (const chunk of body) res.write(chunk);
    if (asked) res.write(usage);
    res.end(done);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
