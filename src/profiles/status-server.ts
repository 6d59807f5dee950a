/**
 * The optional status server: ThunderAgent's JSON views over HTTP. `GET /profiles`,
 * `GET /profiles/{program_id}`, `GET /programs`, `GET /health`; the engine-poller feature adds
 * `GET /metrics` through {@link StatusServer.route}. Off by default; binds 127.0.0.1 unless told.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { log } from '../util/log.js';

/** A route's answer: a status and a JSON body. */
export interface RouteResult {
  status: number;
  body: unknown;
}

/** Answers GET requests for one path (`params` holds the URL-decoded rest for prefix routes). */
export type RouteHandler = (rest: string | undefined) => RouteResult;

export class StatusServer {
  private readonly _exact = new Map<string, RouteHandler>();
  private readonly _prefix = new Map<string, RouteHandler>();
  private _server: Server | undefined;

  /** Adds a route: `/path` exactly, or `/path/` + one URL-decoded segment. */
  route(path: string, handler: RouteHandler, options: { prefix?: boolean } = {}): void {
    (options.prefix ? this._prefix : this._exact).set(path, handler);
  }

  /** Starts listening; resolves with the bound port. */
  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => this._handle(req, res));
    this._server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log.error('status server error', err));
    server.unref(); // a status page never keeps the application's process alive
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  }

  /** The bound port, while listening. */
  get port(): number | undefined {
    const address = this._server?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  async close(): Promise<void> {
    const server = this._server;
    this._server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private _handle(req: IncomingMessage, res: ServerResponse): void {
    let result: RouteResult;
    try {
      result = this._resolve(req);
    } catch (err) {
      log.error('status server route failed', err);
      result = { status: 500, body: { error: 'internal error' } };
    }
    const text = JSON.stringify(result.body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    if (result.status === 405) headers['allow'] = 'GET';
    res.writeHead(result.status, headers).end(text);
  }

  private _resolve(req: IncomingMessage): RouteResult {
    const path = (req.url ?? '/').split('?')[0] as string;
    const exact = this._exact.get(path);
    let handler: (() => RouteResult) | undefined = exact === undefined ? undefined : () => exact(undefined);
    if (handler === undefined) {
      const slash = path.indexOf('/', 1);
      const prefix = slash === -1 ? undefined : this._prefix.get(path.slice(0, slash));
      const rest = slash === -1 ? '' : path.slice(slash + 1);
      if (prefix !== undefined && rest.length > 0 && !rest.includes('/')) {
        let decoded: string;
        try {
          decoded = decodeURIComponent(rest);
        } catch {
          return { status: 400, body: { error: 'malformed program id in path' } };
        }
        handler = () => prefix(decoded);
      }
    }
    if (handler === undefined) return { status: 404, body: { error: `no route for ${path}` } };
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, body: { error: `method ${req.method ?? ''} not allowed` } };
    return handler();
  }
}
