/**
 * Undici handlers that pass every callback to the application's handler unchanged and, beside
 * it, feed the response to the step. The application's handler runs first for data, so it gets
 * its bytes no later than without us; our work is caught and reported through `diag`, never
 * thrown into the request.
 *
 * Undici has two handler APIs: the one of undici 7 (`onRequestStart`, `onResponseStart`, …)
 * and the legacy one (`onConnect`, `onHeaders`, `onData`, `onComplete`, `onError`), which
 * Node 20's bundled undici 6 still speaks when its own Agent is the global dispatcher. We
 * answer in the API of the handler we were given, so the dispatcher below sees what it expects.
 */
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentStep } from '../steps/agent-step.js';
import type { EarlyConnection } from './early-connection.js';
import { isOneDataEvent } from '../sse/sse-parser.js';
import { UsageEventFilter, type FilteredSink } from '../sse/usage-event-filter.js';
import { now } from '../util/clock.js';
import { log } from '../util/log.js';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/**
 * Set when we asked the engine for usage on the application's behalf: the usage-only event
 * that adds is then taken out of what the application receives.
 */
export interface UsageInjected {
  /** The response came back content-encoded, so it could not be filtered. */
  onCompressed(): void;
}

/**
 * Wraps `inner` in the observing handler of its own API. With `early`, `inner` was told it is
 * connected already: the dispatcher's connect goes to `early`, not to `inner` a second time.
 */
export function observingHandler(inner: Handler, step: AgentStep, injected?: UsageInjected, early?: EarlyConnection): Handler & { fail(error: unknown): void } {
  return typeof inner.onRequestStart === 'function' ? new ObservingHandler(inner, step, injected, early) : new LegacyObservingHandler(inner, step, injected, early);
}

/**
 * The filter for a response to a request we asked usage for: a successful event stream that is
 * not content-encoded. An encoded one cannot be filtered without decoding it, which the
 * application (undici.request hands it the encoded bytes) would see: it passes unchanged, and
 * the host stops asking that engine for usage.
 */
function filterFor(injected: UsageInjected | undefined, statusCode: number, type: string | undefined, encoding: string | undefined, sink: FilteredSink): UsageEventFilter | undefined {
  if (injected === undefined || statusCode < 200 || statusCode >= 300 || type === undefined || !type.includes('text/event-stream')) return undefined;
  if (encoding !== undefined && encoding !== 'identity') {
    injected.onCompressed();
    return undefined;
  }
  return new UsageEventFilter(sink);
}

/** Tells a handler of either API that its request failed before undici took it. */
export function failHandler(handler: Handler, error: Error): void {
  if (typeof handler.onRequestStart === 'function' || typeof handler.onResponseError === 'function') {
    handler.onResponseError?.(detachedController(), error);
  } else {
    handler.onError?.(error);
  }
}

/** For the new handler API. */
export class ObservingHandler implements Handler {
  private _filter: UsageEventFilter | undefined;
  /** The step is done with this attempt (a redirect being followed): pass through only. */
  private _detached = false;

  constructor(
    private readonly _inner: Handler,
    private readonly _step: AgentStep,
    private readonly _injected?: UsageInjected,
    private readonly _early?: EarlyConnection,
  ) {}

  /** The request failed before undici took it: end the step. */
  fail(error: unknown): void {
    const t = now();
    guard(() => this._step.onError(error, t));
  }

  onRequestStart(controller: Controller, context: unknown): void {
    const t = now(); // undici starts the request on a connection: a wait in its pool ends here
    try {
      if (this._early !== undefined) this._early.takeRequestStart(controller);
      else this._inner.onRequestStart?.(controller, context);
    } finally {
      if (!this._detached) guard(() => this._step.onConnected(t));
    }
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this._inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode >= 200) {
      const t = now();
      guard(() => {
        this._detached = this._step.onResponseStart(statusCode, headers, t);
      });
      if (this._injected !== undefined) {
        guard(() => {
          this._filter = filterFor(this._injected, statusCode, headerText(headers['content-type']), headerText(headers['content-encoding']), (part) => this._inner.onResponseData?.(controller, part));
        });
      }
    }
    this._inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const t = now();
    // Whether the chunk is one SSE event, worked out once for the filter and the step (undefined:
    // the step's reader works it out, when it reads an event stream).
    let one: boolean | undefined;
    try {
      if (this._filter === undefined || this._filter.passesWhole(chunk, (one = isOneDataEvent(chunk)))) this._inner.onResponseData?.(controller, chunk);
      else this._filter.push(chunk);
    } finally {
      try {
        if (!this._detached) this._step.onResponseData(chunk, t, one);
      } catch (err) {
        dataFailed(err);
      }
    }
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const t = now();
    try {
      this._filter?.end();
      this._inner.onResponseEnd?.(controller, trailers);
    } finally {
      if (!this._detached) guard(() => this._step.onResponseEnd(t));
    }
  }

  onResponseError(controller: Controller, error: Error): void {
    const t = now();
    try {
      // What was held of a partial event reaches the application before the error, as it would have.
      this._filter?.end();
      this._inner.onResponseError?.(controller, error);
    } finally {
      if (!this._detached) guard(() => this._step.onError(error, t));
    }
  }
}

/** For the legacy handler API; return values carry back-pressure and are passed back as given. */
export class LegacyObservingHandler implements Handler {
  private _filter: UsageEventFilter | undefined;
  /** What the application's onData returned for the parts of the current chunk (back-pressure). */
  private _more = true;
  /** The step is done with this attempt (a redirect being followed): pass through only. */
  private _detached = false;

  constructor(
    private readonly _inner: Handler,
    private readonly _step: AgentStep,
    private readonly _injected?: UsageInjected,
    private readonly _early?: EarlyConnection,
  ) {}

  fail(error: unknown): void {
    const t = now();
    guard(() => this._step.onError(error, t));
  }

  onConnect(abort: (err?: Error) => void, context?: unknown): void {
    const t = now(); // undici starts the request on a connection: a wait in its pool ends here
    try {
      if (this._early !== undefined) this._early.takeConnect(abort);
      else (this._inner.onConnect as ((abort: (err?: Error) => void, context?: unknown) => void) | undefined)?.call(this._inner, abort, context);
    } finally {
      if (!this._detached) guard(() => this._step.onConnected(t));
    }
  }

  onResponseStarted(): void {
    this._inner.onResponseStarted?.();
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this._inner.onUpgrade?.(statusCode, headers, socket);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this._inner.onBodySent?.(chunkSize, totalBytesSent);
  }

  onRequestSent(): void {
    (this._inner as { onRequestSent?: () => void }).onRequestSent?.();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode >= 200) {
      const t = now();
      guard(() => {
        const headers = parseRawHeaders(rawHeaders);
        this._detached = this._step.onResponseStart(statusCode, headers, t);
        if (this._injected !== undefined) {
          this._filter = filterFor(this._injected, statusCode, headers['content-type'], headers['content-encoding'], (part) => {
            if (this._inner.onData?.(part) === false) this._more = false;
          });
        }
      });
    }
    return this._inner.onHeaders?.(statusCode, rawHeaders, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    const t = now();
    let one: boolean | undefined; // as in ObservingHandler.onResponseData
    try {
      if (this._filter === undefined || this._filter.passesWhole(chunk, (one = isOneDataEvent(chunk)))) return this._inner.onData?.(chunk) ?? true;
      this._more = true;
      this._filter.push(chunk);
      return this._more;
    } finally {
      try {
        if (!this._detached) this._step.onResponseData(chunk, t, one);
      } catch (err) {
        dataFailed(err);
      }
    }
  }

  onComplete(trailers: string[] | null): void {
    const t = now();
    try {
      this._filter?.end();
      this._inner.onComplete?.(trailers);
    } finally {
      if (!this._detached) guard(() => this._step.onResponseEnd(t));
    }
  }

  onError(error: Error): void {
    const t = now();
    try {
      this._filter?.end();
      this._inner.onError?.(error);
    } finally {
      if (!this._detached) guard(() => this._step.onError(error, t));
    }
  }
}

/** The headers the step reads (content type and encoding, location), from undici's raw name/value list. */
const WANTED: ReadonlySet<string> = new Set(['content-type', 'content-encoding', 'location', 'retry-after', 'retry-after-ms']);

function parseRawHeaders(raw: Buffer[] | string[] | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw == null) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // Only a few names matter (content-type, content-encoding, a redirect's location, a rate
    // limit's retry-after and retry-after-ms): other headers are not decoded.
    const rawName = raw[i] as Buffer | string;
    const n = rawName.length;
    if (n !== 12 && n !== 16 && n !== 8 && n !== 11 && n !== 14) continue;
    const name = String(rawName).toLowerCase();
    if (WANTED.has(name) && out[name] === undefined) out[name] = String(raw[i + 1]);
  }
  return out;
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function detachedController(): Controller {
  return { aborted: false, paused: false, reason: null, abort() {}, pause() {}, resume() {} };
}

/** A chunk could not be observed (the application's handler already has it). */
function dataFailed(err: unknown): void {
  log.error('failed to observe a response', err);
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error('failed to observe a response', err);
  }
}
