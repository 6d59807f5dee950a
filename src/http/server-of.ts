/** `server.address` / `server.port` of a request's origin. */

/** host and port by request origin; an application talks to a handful of engines. */
const servers = new Map<string, { address: string; port: number } | undefined>();
const MAX_CACHED_SERVERS = 256;

export function serverOf(origin: string | undefined): { address: string; port: number } | undefined {
  if (origin === undefined) return undefined;
  if (servers.has(origin)) return servers.get(origin);
  let server: { address: string; port: number } | undefined;
  try {
    const url = new URL(origin);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    server = { address: url.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    server = undefined;
  }
  if (servers.size >= MAX_CACHED_SERVERS) servers.clear();
  servers.set(origin, server);
  return server;
}

/** `host:port` of an origin, the key of its circuit breaker. */
export function backendOf(origin: string | undefined): string | undefined {
  const server = serverOf(origin);
  return server === undefined ? undefined : `${server.address}:${server.port}`;
}
