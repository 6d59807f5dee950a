/**
 * Local servers on port 0 for tests: a replay server that sends given bytes as an SSE (or JSON)
 * response in small pieces, so that events and multi-byte characters split across reads.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ReplayServer {
  url: string;
  /** Bodies received, in order. */
  bodies: string[];
  headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

export interface ReplayOptions {
  contentType?: string;
  status?: number;
  /** Bytes per write. */
  pieceSize?: number;
}

/** Serves `body` to every request. */
export async function startReplayServer(body: string | Buffer, options: ReplayOptions = {}): Promise<ReplayServer> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const bodies: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      headers.push(req.headers);
      res.writeHead(options.status ?? 200, { 'content-type': options.contentType ?? 'text/event-stream; charset=utf-8' });
      const size = options.pieceSize ?? 13;
      for (let i = 0; i < bytes.length; i += size) {
        res.write(bytes.subarray(i, i + size));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    headers,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A loopback port that was free a moment ago (for servers started by other processes). */
export async function freePort(): Promise<number> {
  const { createServer: createNetServer } = await import('node:net');
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
