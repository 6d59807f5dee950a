// A local SSE server for the benchmark: every completion request is answered at once with
// `max_tokens` vLLM-shaped chunks (CHUNKS when the request names none), then, as engines do, the
// usage-only chunk when the request asked for it (`stream_options.include_usage`), and [DONE].
// It runs in its own process so that the client under test has its event loop to itself.
import { createServer } from 'node:http';
import { completionEvents } from './completion-stream.mjs';

const done = 'data: [DONE]\n\n';
const streams = new Map();
function streamOf(chunks) {
  let s = streams.get(chunks);
  if (s === undefined) {
    const events = completionEvents(chunks);
    const last = events.pop(); // the usage event and [DONE], one write
    s = { body: events, usage: last.slice(0, last.length - done.length) };
    streams.set(chunks, s);
  }
  return s;
}
const DEFAULT_CHUNKS = Number(process.env.CHUNKS ?? 256);
const ASKED = Buffer.from('"include_usage":true');
const MAX_TOKENS = Buffer.from('"max_tokens":');

const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const request = Buffer.concat(parts);
    const asked = request.includes(ASKED);
    const at = request.indexOf(MAX_TOKENS);
    const named = at < 0 ? NaN : parseInt(request.subarray(at + MAX_TOKENS.length, at + MAX_TOKENS.length + 12).toString(), 10);
    const { body, usage } = streamOf(Number.isInteger(named) && named > 0 ? named : DEFAULT_CHUNKS);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    for (const chunk of body) res.write(chunk);
    if (asked) res.write(usage);
    res.end(done);
  });
});
// Under callgrind with other runs beside it, a client can leave a kept-alive connection idle for
// over a minute (32 completions in flight, each ~100x slower than natively); with a shorter
// timeout the server closes it as the client reuses it, and the run fails with `other side closed`.
server.keepAliveTimeout = 600_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
