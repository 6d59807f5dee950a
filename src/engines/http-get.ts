/**
 * GET with one deadline (headers and body) and a body cap, on node:http (not fetch: no other hook
 * sees the engine's `/metrics` being read). A failure that never reached the engine (refused,
 * reset, timed out) carries `unreachable: true`.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpGetResult {
  status: number;
  body: string;
  contentType: string;
}

export function httpGet(url: string, deadline: number, maxBody: number, timeoutMs: number): Promise<HttpGetResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const auth = u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined;
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', headers: { accept: 'text/plain, application/json' }, ...(auth !== undefined && { auth }) }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          req.destroy(Object.assign(new Error(`body larger than ${maxBody} bytes`), { unreachable: false }));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    timer.unref();
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err: Error & { unreachable?: boolean }) => {
      err.unreachable ??= true; // refused, reset, timed out: the engine cannot be reached
      reject(err);
    });
    req.end();
  });
}
