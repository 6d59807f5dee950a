// A local SSE server for the benchmark: every completion request is answered at once with
// CHUNKS vLLM-shaped chunks, a usage chunk and [DONE]. It runs in its own process so that the
// client under test has its event loop to itself.
import { createServer } from 'node:http';

const CHUNKS = Number(process.env.CHUNKS ?? 256);
const head = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1770000000,"model":"bench","choices":[{"index":0,"delta":{"content":"';
const tail = '"},"logprobs":null,"finish_reason":null}]}';
const body = [];
for (let i = 0; i < CHUNKS; i++) body.push(`data: ${head} tok${i}${tail}\n\n`);
body[CHUNKS - 1] = body[CHUNKS - 1].replace('"finish_reason":null', '"finish_reason":"length"');
const usage = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1770000000,"model":"bench","choices":[],"usage":{"prompt_tokens":64,"total_tokens":${64 + CHUNKS},"completion_tokens":${CHUNKS},"prompt_tokens_details":{"cached_tokens":48}}}\n\ndata: [DONE]\n\n`;

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
