/**
 * Captures of one engine's `/metrics`, coalesced across concurrent requests: at most one capture
 * in flight and one queued behind it, whatever the number of requests. A request never waits on
 * a capture before it is sent: its "before" is the most recent capture completed before its
 * dispatch; its "after" the first capture started after its last token (the one in flight when
 * it started late enough, else the queued one, shared by every request that ends meanwhile).
 * Captures start at least 50 ms apart, so a burst costs at most 20 scrapes a second per engine.
 */
import { httpGet } from '../engines/http-get.js';
import { engineUrl } from '../engines/backend-state.js';
import { now } from '../util/clock.js';
import { snapshotTotals, type SnapshotTotals } from './snapshot-delta.js';

/** One capture of the engine's metrics. */
export interface Capture {
  readonly seq: number;
  /** Epoch ms: the request for it was sent, and its body had arrived. */
  readonly startedAt: number;
  readonly completedAt: number;
  readonly text: string;
  readonly totals: SnapshotTotals;
  /** Its file on disk once written (the others that share it link to it). */
  file?: string;
}

/** Captures of one engine start at least this far apart: a burst shares them. */
export const MIN_CAPTURE_GAP_MS = 50;
/** Completed captures kept to serve as a later request's "before". */
const HISTORY = 16;
const MAX_BODY = 16 * 1024 * 1024;

export class EngineCaptures {
  /** Scrapes sent so far. */
  scrapes = 0;
  private readonly _history: Capture[] = [];
  private _inFlight: { startedAt: number; done: Promise<Capture | undefined> } | undefined;
  private _queued: Promise<Capture | undefined> | undefined;
  private _seq = 0;
  private _lastStart = -Infinity;
  private readonly _url: string;

  /** @param onError hears of a capture that failed (the engine down, a timeout). */
  constructor(readonly origin: string, baseUrl: string, private readonly _timeoutMs: number, private readonly _onError: (err: unknown) => void) {
    this._url = engineUrl(baseUrl, '/metrics');
  }

  /** The latest capture completed at or before `t`, if any. */
  before(t: number): Capture | undefined {
    for (let i = this._history.length - 1; i >= 0; i--) {
      const c = this._history[i] as Capture;
      if (c.completedAt <= t) return c;
    }
    return undefined;
  }

  /** A capture now, or the one in flight. */
  capture(): Promise<Capture | undefined> {
    return this._inFlight?.done ?? this._start();
  }

  /**
   * The first capture started at or after `t`: the one in flight if it did, else the one queued
   * (behind the one in flight, and no sooner than 50 ms after the last start).
   */
  after(t: number): Promise<Capture | undefined> {
    const current = this._inFlight;
    if (current !== undefined && current.startedAt >= t) return current.done;
    if (this._queued !== undefined) return this._queued;
    const queued = Promise.resolve(current?.done)
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, this._lastStart + MIN_CAPTURE_GAP_MS - now())).unref()))
      .then(() => {
        if (this._queued === queued) this._queued = undefined;
        return this._inFlight?.done ?? this._start();
      });
    this._queued = queued;
    return queued;
  }

  private _start(): Promise<Capture | undefined> {
    const startedAt = now();
    this._lastStart = startedAt;
    this.scrapes++;
    const done = httpGet(this._url, Date.now() + this._timeoutMs, MAX_BODY, this._timeoutMs).then(
      ({ status, body }) => {
        if (status !== 200) throw new Error(`/metrics answered ${status}`);
        const capture: Capture = { seq: ++this._seq, startedAt, completedAt: now(), text: body, totals: snapshotTotals(body) };
        this._history.push(capture);
        if (this._history.length > HISTORY) this._history.shift();
        return capture;
      },
).catch((err: unknown) => {
      this._onError(err);
      return undefined;
    }).finally(() => {
      if (this._inFlight?.done === done) this._inFlight = undefined;
    });
    this._inFlight = { startedAt, done };
    return done;
  }
}
