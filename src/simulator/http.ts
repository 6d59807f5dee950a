/** The simulator's HTTP helpers: JSON answers, vLLM's error body, a request's body. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** vLLM's error body (`ErrorResponse`). */
export function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { object: 'error', message, type, param: null, code: status });
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
