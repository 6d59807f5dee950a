// A local SSE server for the benchmark: every completion request is answered at once with
// CHUNKS vLLM-shaped chunks, a usage chunk and [DONE]. It runs in its own process so that the
// client under test has its event loop to itself.
import { createServer } from 'node:http';
import { completionEvents } from './completion-stream.mjs';

const events = completionEvents(Number(process.env.CHUNKS ?? 256));
const usage = events.pop();
const body = events;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    for (const chunk of body) res.write(chunk);
    res.end(usage);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
