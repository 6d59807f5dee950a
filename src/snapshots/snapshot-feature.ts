/**
 * Per-request engine snapshots (`snapshots` option): the engine's own timings of each successful
 * request, from captures of its `/metrics` before and after it, on the request's `chat` span as
 * `agentic.engine.*`, and the raw captures on disk with `dir`. The request never waits: "before"
 * is the latest capture completed before its dispatch, "after" the first started after its last
 * token (coalesced across requests, one in flight and one queued per engine); only the span's end
 * waits for "after", within `maxWaitMs`. A delta is exact when no other request to that engine
 * started or finished between the two captures; otherwise it is an upper bound, and says so.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Feature, StepStart } from '../feature.js';
import type { BackendConfig } from '../engines/backend-state.js';
import * as sc from '../semconv.js';
import type { StepRecord } from '../types.js';
import { log } from '../util/log.js';
import { now } from '../util/clock.js';
import { EngineCaptures, type Capture } from './engine-captures.js';
import { snapshotDelta } from './snapshot-delta.js';
import { SnapshotWriter } from './snapshot-writer.js';

/** The `snapshots` option, resolved. */
export interface SnapshotsConfig {
  readonly dir: string | undefined;
  /** Names or URLs of the configured backends to capture (all when undefined). */
  readonly backends: readonly string[] | undefined;
  readonly maxFiles: number;
  readonly maxAgeMs: number;
  readonly maxWaitMs: number;
}

/** Start and end events kept per engine, to tell an exact delta from an upper bound. */
const MAX_EVENTS = 20_000;
const EVENT_AGE_MS = 10 * 60_000;

export class SnapshotFeature implements Feature {
  readonly name = 'engine snapshots';
  private readonly _engines = new Map<string, EngineCaptures>();
  /** Per origin, flat `[time, step, …]`: when each request to it arrived and ended. */
  private readonly _events = new Map<string, number[]>();
  private readonly _stepIds = new WeakMap<StepStart, number>();
  private readonly _pending = new Set<() => void>();
  private readonly _warned = new Set<string>();
  private readonly _writer: SnapshotWriter | undefined;
  private _nextStep = 0;

  constructor(private readonly _config: SnapshotsConfig, backends: readonly BackendConfig[], timeoutMs: number) {
    const chosen = backends.filter((b) => _config.backends === undefined || _config.backends.some((x) => x === b.url || x === b.name));
    for (const b of chosen) {
      const origin = originOf(b.url);
      if (origin === undefined || this._engines.has(origin)) continue;
      this._engines.set(origin, new EngineCaptures(origin, b.url, timeoutMs, (err) => this._warnOnce(`capture ${origin}`, `engine snapshots: /metrics of ${b.url} could not be read`, err)));
    }
    if (this._engines.size === 0) log.warn('snapshots: none of the configured backends is captured (snapshots need `backends`)');
    this._writer = _config.dir === undefined ? undefined : new SnapshotWriter(_config.dir, _config.maxFiles, _config.maxAgeMs);
  }

  /** A first capture of every engine, so that the first request has a "before". */
  enable(): void {
    for (const e of this._engines.values()) void e.capture();
  }

  /** Ends every span still waiting for its "after" (marked missing), and lets a prune finish. */
  async shutdown(): Promise<void> {
    for (const release of [...this._pending]) release();
    await this._writer?.flush();
  }

  /** Scrapes sent per engine (origin) so far. */
  scrapes(): Record<string, number> {
    return Object.fromEntries([...this._engines].map(([origin, e]) => [origin, e.scrapes]));
  }

  onStepStart(step: StepStart): void {
    const origin = step.backend === undefined ? undefined : originOf(step.backend);
    if (origin === undefined) return;
    if (!this._engines.has(origin)) {
      this._warnOnce(`unpolled ${origin}`, `engine snapshots: requests go to ${origin}, which is not among the captured backends`);
      return;
    }
    const id = ++this._nextStep;
    this._stepIds.set(step, id);
    this._event(origin, now(), id);
  }

  onStepEnd(record: StepRecord, step: StepStart): void {
    const id = this._stepIds.get(step);
    const origin = step.backend === undefined ? undefined : originOf(step.backend);
    if (id !== undefined && origin !== undefined) this._event(origin, record.endTime, id);
  }

  holdSpans(record: StepRecord, step: StepStart, chatSpanId: string): Promise<Attributes> | undefined {
    const origin = step.backend === undefined ? undefined : originOf(step.backend);
    const engine = origin === undefined ? undefined : this._engines.get(origin);
    const id = this._stepIds.get(step);
    if (engine === undefined || id === undefined || record.errorType !== undefined) return undefined;
    const before = engine.before(record.startTime);
    const requestId = record.responseId ?? chatSpanId;
    return new Promise<Attributes>((resolve) => {
      let done = false;
      const finish = (attributes: Attributes): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this._pending.delete(release);
        resolve(attributes);
      };
      const release = (): void => finish({ [sc.ATTR_AGENTIC_ENGINE_SNAPSHOT]: sc.SNAPSHOT_STATUS_MISSING });
      const timer = setTimeout(release, this._config.maxWaitMs);
      timer.unref();
      this._pending.add(release);
      if (before === undefined) {
        void engine.capture(); // a "before" for the next request
        return release();
      }
      void engine.after(record.endTime).then((after) => {
        if (after === undefined) return release();
        finish(this._attributes(origin as string, id, before, after));
        void this._save(requestId, before, after);
      });
    });
  }

  private _attributes(origin: string, id: number, before: Capture, after: Capture): Attributes {
    const d = snapshotDelta(before.totals, after.totals);
    const a: Attributes = {
      [sc.ATTR_AGENTIC_ENGINE_SNAPSHOT]: d.resets.length > 0 ? sc.SNAPSHOT_STATUS_RESET : sc.SNAPSHOT_STATUS_OK,
      [sc.ATTR_AGENTIC_ENGINE_EXACT]: d.requests === 1 && d.resets.length === 0 && !this._othersBetween(origin, id, before.startedAt, after.completedAt),
    };
    if (d.requests !== undefined) a[sc.ATTR_AGENTIC_ENGINE_REQUESTS] = d.requests;
    const s = d.seconds;
    if (s.queue !== undefined) a[sc.ATTR_AGENTIC_ENGINE_QUEUE_S] = s.queue;
    if (s.prefill !== undefined) a[sc.ATTR_AGENTIC_ENGINE_PREFILL_S] = s.prefill;
    if (s.decode !== undefined) a[sc.ATTR_AGENTIC_ENGINE_DECODE_S] = s.decode;
    if (s.inference !== undefined) a[sc.ATTR_AGENTIC_ENGINE_INFERENCE_S] = s.inference;
    if (s.ttft !== undefined) a[sc.ATTR_AGENTIC_ENGINE_TTFT_S] = s.ttft;
    if (s.e2e !== undefined) a[sc.ATTR_AGENTIC_ENGINE_E2E_S] = s.e2e;
    if (d.promptTokens !== undefined) a[sc.ATTR_AGENTIC_ENGINE_PROMPT_TOKENS] = d.promptTokens;
    if (d.generationTokens !== undefined) a[sc.ATTR_AGENTIC_ENGINE_GENERATION_TOKENS] = d.generationTokens;
    return a;
  }

  /** Whether a request other than `id` arrived at or ended on `origin` within `[from, to]`. */
  private _othersBetween(origin: string, id: number, from: number, to: number): boolean {
    const xs = this._events.get(origin) ?? [];
    for (let i = 0; i < xs.length; i += 2) {
      const t = xs[i] as number;
      if (t >= from && t <= to && xs[i + 1] !== id) return true;
    }
    return false;
  }

  private _event(origin: string, t: number, id: number): void {
    let xs = this._events.get(origin);
    if (xs === undefined) this._events.set(origin, (xs = []));
    xs.push(t, id);
    if (xs.length > MAX_EVENTS * 2) {
      const cutoff = t - EVENT_AGE_MS;
      let keep = 0;
      while (keep < xs.length - MAX_EVENTS && (xs[keep] as number) < cutoff) keep += 2;
      xs.splice(0, Math.max(keep, xs.length - MAX_EVENTS * 2));
    }
  }

  private async _save(requestId: string, before: Capture, after: Capture): Promise<void> {
    if (this._writer === undefined) return;
    await this._writer.save(requestId, 'before', before);
    await this._writer.save(requestId, 'after', after);
  }

  private _warnOnce(key: string, message: string, err?: unknown): void {
    if (this._warned.has(key) || this._warned.size > 100) return;
    this._warned.add(key);
    log.warn(message, err);
  }
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
