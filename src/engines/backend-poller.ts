/**
 * Polls each engine's own stats on an unref'd timer and keeps, per backend, the latest good
 * snapshot and the last 12 samples (as ThunderAgent does). Observable callbacks only read this
 * state: nothing waits on the network during a collection.
 *
 * A failed poll (refused, timed out, non-200, a body over the cap, nothing readable) marks the
 * backend down and is reported once through `diag` until it recovers; polling goes on. The last
 * good snapshot is kept for the JSON view (as ThunderAgent keeps it); the gauges report only
 * `up = 0` while a backend is down, so Prometheus shows no stale values.
 */
import * as sc from '../semconv.js';
import { httpGet, type HttpGetResult } from './http-get.js';
import { parsePrometheusText } from '../prometheus/parse-prometheus-text.js';
import { mapSglang, mapSkyrl, mapVllm, type EngineSnapshot } from './engine-snapshot.js';
import { engineUrl, HISTORY_SIZE, safeUrl, type BackendConfig, type BackendState } from './backend-state.js';
import { log } from '../util/log.js';

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface PollerOptions {
  pollIntervalMs?: number;
  /** @default min(pollIntervalMs, 10000) */
  pollTimeoutMs?: number;
  /** Larger responses are cut off and the poll fails. @default 8 MiB */
  maxBodyBytes?: number;
  /**
   * Called after every poll of a backend. `unreachable` when the poll failed at the connection
   * level (refused, reset, no answer in time), not on an answer we could not read.
   */
  onPoll?: (backend: BackendState, ok: boolean, unreachable: boolean) => void;
}

export class BackendPoller {
  readonly backends: BackendState[];
  private _timer: NodeJS.Timeout | undefined;
  /** The poll of each backend in flight: never started twice, awaited by whoever asks meanwhile. */
  private readonly _inFlight = new Map<BackendState, Promise<void>>();
  private readonly _reported = new WeakMap<BackendState, Set<string>>();
  private readonly _interval: number;
  private readonly _timeout: number;
  private readonly _maxBody: number;

  constructor(configs: BackendConfig[], private readonly _options: PollerOptions = {}) {
    this._interval = _options.pollIntervalMs ?? 5000;
    if (!(this._interval > 0)) throw new RangeError('pollIntervalMs must be positive');
    this._timeout = _options.pollTimeoutMs ?? Math.min(this._interval, 10_000);
    this._maxBody = _options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.backends = configs.map((config) => {
      new URL(config.url); // a clear error for a bad URL, from the constructor
      return { config, url: safeUrl(config.url), name: config.name ?? safeUrl(config.url), kind: config.kind, up: false, polled: false, last: undefined, history: [], lastError: undefined, serverInfo: undefined };
    });
  }

  /** Polls now, then every interval. */
  start(): void {
    if (this._timer !== undefined) return;
    void this.pollAll();
    this._timer = setInterval(() => void this.pollAll(), this._interval);
    this._timer.unref();
  }

  stop(): void {
    if (this._timer !== undefined) clearInterval(this._timer);
    this._timer = undefined;
  }

  /** Polls every backend once; resolves when each has completed a poll (one in flight is awaited, not doubled). */
  async pollAll(): Promise<void> {
    await Promise.all(this.backends.map((b) => this.poll(b)));
  }

  /** Polls one backend (or joins its poll in flight); never throws. */
  poll(b: BackendState): Promise<void> {
    let running = this._inFlight.get(b);
    if (running === undefined) {
      running = this._poll(b).finally(() => this._inFlight.delete(b));
      this._inFlight.set(b, running);
    }
    return running;
  }

  private async _poll(b: BackendState): Promise<void> {
    try {
      // One deadline for the whole poll (every request, headers and body): an engine that drips
      // a byte at a time is as down as one that does not answer.
      const snapshot = await this._read(b, Date.now() + this._timeout);
      for (const problem of snapshot.problems ?? []) this._reportOnce(b, problem);
      const now = Date.now();
      b.last = { at: now, snapshot };
      b.history.push(b.last);
      if (b.history.length > HISTORY_SIZE) b.history.shift();
      if (!b.up && b.polled) log.info(`backend ${b.url} is reachable again`);
      b.up = true;
      b.lastError = undefined;
      this._options.onPoll?.(b, true, false);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (b.up || !b.polled) log.warn(`backend ${b.url} cannot be polled (${message}); polling goes on`);
      b.up = false;
      b.lastError = message;
      this._options.onPoll?.(b, false, (err as { unreachable?: unknown } | null)?.unreachable === true);
    } finally {
      b.polled = true;
    }
  }

  private async _read(b: BackendState, deadline: number): Promise<EngineSnapshot> {
    const { status, body, contentType } = await this._get(engineUrl(b.config.url, '/metrics'), deadline);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    const looksJson = contentType.includes('json') || body.trimStart().startsWith('{');
    // The kind is what the response says, every time: an engine replaced behind the same URL is
    // read as what it now is (a configured kind only decides between formats that both match).
    if (looksJson && b.config.kind !== 'vllm' && b.config.kind !== 'sglang') {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new Error('the JSON body cannot be read');
      }
      const snapshot = mapSkyrl(json);
      if (snapshot.engines === 0) throw new Error('no engine without an error in the SkyRL response');
      b.kind = 'skyrl';
      return snapshot;
    }
    const parsed = parsePrometheusText(body);
    const kind = parsed.families.has(sc.ENGINE_VLLM_NUM_REQUESTS_RUNNING) ? 'vllm' : parsed.families.has(sc.ENGINE_SGLANG_NUM_RUNNING_REQS) ? 'sglang' : undefined;
    if (kind === undefined) throw new Error('no vLLM or SGLang series in the response');
    if (kind !== b.kind) b.serverInfo = undefined;
    let snapshot: EngineSnapshot;
    if (kind === 'sglang') {
      if (b.serverInfo === undefined) b.serverInfo = await this._serverInfo(b, deadline);
      snapshot = mapSglang(parsed, b.serverInfo);
    } else {
      snapshot = kind === 'vllm' ? mapVllm(parsed) : mapSglang(parsed);
    }
    if (![snapshot.running, snapshot.kvCacheUsage, snapshot.promptTokens].some((v) => v !== undefined && Number.isFinite(v))) {
      throw new Error('no readable value in the response');
    }
    b.kind = kind;
    return snapshot;
  }

  /**
   * SGLang's server arguments (capacity, page size, max running requests), or null when the
   * endpoint answers with anything but JSON: its `/metrics` are read all the same.
   */
  private async _serverInfo(b: BackendState, deadline: number): Promise<unknown> {
    try {
      const r = await this._get(engineUrl(b.config.url, '/get_server_info'), deadline);
      return r.status === 200 ? (JSON.parse(r.body) as unknown) : null;
    } catch (err) {
      this._reportOnce(b, `/get_server_info cannot be read (${err instanceof Error ? err.message : String(err)}); capacity unknown`);
      return null;
    }
  }

  /** Reports a problem of a backend once (until the poller is made again). */
  private _reportOnce(b: BackendState, problem: string): void {
    let seen = this._reported.get(b);
    if (seen === undefined) this._reported.set(b, (seen = new Set()));
    if (seen.has(problem) || seen.size > 100) return;
    seen.add(problem);
    log.warn(`backend ${b.url}: ${problem}`);
  }

  private _get(url: string, deadline: number): Promise<HttpGetResult> {
    return httpGet(url, deadline, this._maxBody, this._timeout);
  }
}
