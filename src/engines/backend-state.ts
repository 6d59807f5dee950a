/**
 * What the poller knows of each backend, and the pure helpers over it (URL sanitising, the
 * window hit rate): no I/O, no OpenTelemetry, so the readings and views that read this state
 * stay pure too. The poller (I/O) imports this module, never the reverse.
 */
import type { EngineKind, EngineSnapshot } from './engine-snapshot.js';

/** History kept per backend (ThunderAgent: 12). */
export const HISTORY_SIZE = 12;

/** One engine to poll. */
export interface BackendConfig {
  url: string;
  /** Detected from the first response when absent. */
  kind?: EngineKind;
  name?: string;
  /** Request slots (max concurrent sequences), for the Dynamo-style aggregate when known. */
  slots?: number;
}

/** A snapshot with when it was taken. */
export interface TimedSnapshot {
  at: number;
  snapshot: EngineSnapshot;
}

/** What we know of one backend. */
export interface BackendState {
  readonly config: BackendConfig;
  /** The URL with any credentials removed: safe as a label. */
  readonly url: string;
  readonly name: string;
  kind: EngineKind | undefined;
  up: boolean;
  /** Whether any poll has completed yet. */
  polled: boolean;
  last: TimedSnapshot | undefined;
  history: TimedSnapshot[];
  lastError: string | undefined;
  serverInfo: unknown;
}

/** The URL without user:password, query or fragment. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '')}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** Prefix-cache hit rate over the history window, from counter deltas; undefined without traffic. */
export function windowHitRate(history: readonly TimedSnapshot[]): number | undefined {
  const withCounters = history.filter((h) => h.snapshot.prefixCacheQueries !== undefined && h.snapshot.prefixCacheHits !== undefined);
  if (withCounters.length < 2) return undefined;
  const a = (withCounters[0] as TimedSnapshot).snapshot;
  const b = (withCounters[withCounters.length - 1] as TimedSnapshot).snapshot;
  const dq = (b.prefixCacheQueries as number) - (a.prefixCacheQueries as number);
  const dh = (b.prefixCacheHits as number) - (a.prefixCacheHits as number);
  return dq > 0 && dh >= 0 ? dh / dq : undefined;
}


/**
 * The URL of an engine endpoint (`/metrics`, `/get_server_info`) under a backend's URL, with
 * `new URL` semantics: the backend's own path is kept as a prefix, its query and credentials
 * stay (`http://h:8000/?token=X` → `http://h:8000/metrics?token=X`).
 */
export function engineUrl(base: string, path: string): string {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/$/, '') + path;
  u.hash = '';
  return u.toString();
}
