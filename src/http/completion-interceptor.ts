/**
 * The request hook: an undici interceptor on the process-wide dispatcher (every request of
 * Node's `fetch`, so the `openai` client, and of the `undici` package), or composed onto the
 * application's own. For each POST to a completion path it reads the body, asks for usage when
 * streaming without it, begins an agent step, injects the trace context, and dispatches with a
 * handler that observes the response. Our failures go to `diag`; the request goes out as made.
 */
import { Buffer } from 'node:buffer';
import { context, propagation, trace, isSpanContextValid, type Context } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { inspectRequestBody, type CompletionRequest } from '../openai/request-body.js';
import { CONCAT_BELOW, withIncludeUsage } from '../openai/include-usage.js';
import { currentProgram, type ProgramScope } from '../program/program-context.js';
import type { AgentStep } from '../steps/agent-step.js';
import { now } from '../util/clock.js';
import { getHeader, setHeader, toFlatHeaders, type DispatchHeaders, type FlatHeaders } from './headers.js';
import { failHandler, observingHandler, type UsageInjected } from './observing-handler.js';
import { EarlyConnection } from './early-connection.js';
import { fingerprintOf, nonEmpty, pathOnly, retryCountOf, secondsOf } from './request-keys.js';
import { DEFAULT_PROGRAM_ID, GEN_AI_OPERATION_CHAT, GEN_AI_OPERATION_TEXT_COMPLETION, HEADER_PROGRAM_ID, HEADER_STAINLESS_RETRY_COUNT, HEADER_STAINLESS_TIMEOUT } from '../semconv.js';
import { log } from '../util/log.js';

/** Marks options we already observed, so two composed copies of the hook observe once. */
const OBSERVED = Symbol.for('agentic-otel.observed');
/** Request bodies larger than this are passed on without being read as JSON. */
const MAX_INSPECTED_BODY_BYTES = 16 * 1024 * 1024;
/** Origins remembered as compressing their streams (bounded: an application talks to a few engines). */
const MAX_COMPRESSING_ORIGINS = 1024;

/** What the hook needs from the instrumentation. */
export interface InterceptorHost {
  /** False after `disable()`: the hook then passes everything through. */
  isEnabled(): boolean;
  isCompletionPath(path: string): boolean;
  injectIncludeUsage(): boolean;
  /** Whether requests to `origin` get our trace context. */
  propagateTraceContext(origin: string | undefined): boolean;
  /** Whether message content is captured (the whole request body is then kept until dispatch). */
  captureContent(): boolean;
  /** Begins the step of a request that arrived at `arrive` (or continues the step it follows a redirect of). */
  beginStep(request: ArrivedRequest): AgentStep;
  /**
   * Whether the request may go: undefined, an error to fail it with instead of sending it (an
   * open circuit breaker), or a promise that holds it until it settles.
   */
  admit(programId: string, origin: string | undefined): Error | undefined | Promise<void>;
}

/** A completion request as it reaches the hook. */
export interface ArrivedRequest {
  programId: string;
  agentName: string | undefined;
  arrive: number;
  parentContext: Context;
  operation: 'chat' | 'text_completion';
  request: CompletionRequest | undefined;
  origin: string | undefined;
  /** Origin and path. */
  url: string | undefined;
  /** The `openai` client's timeout in whole seconds, from its `x-stainless-timeout` header. */
  clientTimeoutS: number | undefined;
  /** Tells the application's body apart cheaply: a client following a redirect sends it again. */
  fingerprint: string | undefined;
  /** The `openai` client's `x-stainless-retry-count` (0 on a first attempt), when it sent one. */
  retryCount: number | undefined;
  /** The application's body as it gave it (for telling a silent retry's identical bytes apart). */
  body: string | Uint8Array | undefined;
  /** The program's scope (`withProgram`), where its holds are logged. */
  scope: ProgramScope | undefined;
}

type Options = Dispatcher.DispatchOptions & { [OBSERVED]?: true };
type Handler = Dispatcher.DispatchHandler;
type Dispatch = Dispatcher.Dispatch;

/** Creates the interceptor; compose it with `dispatcher.compose(interceptor)`. */
export function createCompletionInterceptor(host: InterceptorHost): Dispatcher.DispatcherComposeInterceptor {
  // Engines (or proxies in front of them) seen answering a stream content-encoded: we cannot take
  // the usage event back out of such a response, so we stop asking them for it.
  const compressing = new Set<string>();
  const hooks: Hooks = { host, compressing };
  return (dispatch: Dispatch): Dispatch =>
    function agenticDispatch(opts: Options, handler: Handler): boolean {
      if (opts[OBSERVED] === true || !host.isEnabled() || opts.method !== 'POST' || !host.isCompletionPath(pathOnly(opts.path))) {
        return dispatch(opts, handler);
      }
      const parentContext = context.active();
      const scope = currentProgram();
      const body = opts.body as unknown;
      if (body == null || typeof body === 'string' || body instanceof Uint8Array) {
        return observe(hooks, dispatch, opts, handler, undefined, body ?? undefined, now(), parentContext, scope);
      }
      if (!isAsyncIterable(body)) {
        return observe(hooks, dispatch, opts, handler, undefined, undefined, now(), parentContext, scope);
      }
      // fetch hands its body over as an async iterable: read it first, then dispatch. The request
      // arrives when its body is complete: until then the application is still issuing it.
      const early = new EarlyConnection();
      try {
        early.connect(handler);
      } catch (err) {
        failHandler(handler, err as Error);
        return true;
      }
      readAll(body).then(
        (bytes) => {
          if (early.reason !== undefined) {
            failHandler(handler, early.reason); // the application aborted, or its body failed
            return;
          }
          context.with(parentContext, () => {
            try {
              observe(hooks, dispatch, opts, handler, early, bytes, now(), parentContext, scope);
            } catch (err) {
              failHandler(handler, err as Error);
            }
          });
        },
        (err: unknown) => failHandler(handler, early.reason ?? (err as Error)),
      );
      return true;
    };
}

interface Hooks {
  host: InterceptorHost;
  compressing: Set<string>;
}

function observe(
  hooks: Hooks,
  dispatch: Dispatch,
  opts: Options,
  handler: Handler,
  /** Set when `handler` was connected already: its body was read before dispatch, and `body` is what was read. */
  early: EarlyConnection | undefined,
  body: string | Uint8Array | undefined,
  arrive: number,
  parentContext: Context,
  scope: ProgramScope | undefined,
): boolean {
  const { host } = hooks;
  let prepared = false;
  try {
    const headers = toFlatHeaders(opts.headers as DispatchHeaders);
    const origin = opts.origin === undefined ? undefined : String(opts.origin);
    const bytes = body === undefined || typeof body === 'string' ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const text = body === undefined ? undefined : typeof body === 'string' ? body : body.byteLength <= MAX_INSPECTED_BODY_BYTES ? (bytes as Buffer).toString('utf8') : undefined;
    const request = text !== undefined ? inspectRequestBody(text, host.captureContent()) : undefined;
    let outBody: Options['body'] = early === undefined ? opts.body : body;
    let injected: UsageInjected | undefined;
    if (request !== undefined && text !== undefined && request.stream && !request.includeUsage && host.injectIncludeUsage() && !hooks.compressing.has(origin ?? '')) {
      const rewritten = withIncludeUsage(text, bytes, request.layout);
      if (rewritten !== undefined) {
        const length = typeof rewritten === 'string' ? Buffer.byteLength(rewritten) : rewritten.reduce((n, b) => n + b.byteLength, 0);
        const declared = getHeader(headers, 'content-length') !== undefined;
        if (declared) setHeader(headers, 'content-length', String(length));
        // With a declared length (fetch always declares one), an agent's long body goes out in
        // parts, not copied to add 30 bytes. Without one, one contiguous body, so that undici
        // frames it with a length as it would have.
        // (undici takes any iterable of chunks as a body; its types list only Readable.)
        // A small body is one buffer (one write with the headers; copying it costs less than a
        // second write), a large one goes out in parts.
        outBody = (typeof rewritten === 'string' || (declared && length > CONCAT_BELOW) ? rewritten : Buffer.concat(rewritten, length)) as Options['body'];
        injected = {
          onCompressed: () => {
            if (origin === undefined || hooks.compressing.has(origin)) return;
            if (hooks.compressing.size >= MAX_COMPRESSING_ORIGINS) hooks.compressing.clear();
            hooks.compressing.add(origin);
            log.warn(`${origin} answered a stream content-encoded; its usage chunk reached the application, and usage is no longer asked of it`);
          },
        };
      }
    }
    const programId = scope?.programId ?? nonEmpty(getHeader(headers, HEADER_PROGRAM_ID)) ?? request?.programId ?? DEFAULT_PROGRAM_ID;
    const step = host.beginStep({
      programId,
      agentName: scope?.agent,
      arrive,
      parentContext,
      operation: pathOnly(opts.path).endsWith('/chat/completions') ? GEN_AI_OPERATION_CHAT : GEN_AI_OPERATION_TEXT_COMPLETION,
      request,
      origin,
      url: origin === undefined ? undefined : origin.replace(/\/$/, '') + opts.path,
      clientTimeoutS: secondsOf(getHeader(headers, HEADER_STAINLESS_TIMEOUT)),
      fingerprint: text === undefined ? undefined : fingerprintOf(text),
      retryCount: retryCountOf(getHeader(headers, HEADER_STAINLESS_RETRY_COUNT)),
      body,
      scope,
    });
    const outOpts: Options = { ...opts, headers, body: outBody, [OBSERVED]: true };
    /** Dispatches at `t` through `inner`: the chat span starts, the trace context goes with the request. */
    const send = (t: number, connected: EarlyConnection | undefined): boolean => {
      const observing = observingHandler(handler, step, injected, connected);
      const chatContext = step.dispatch(t);
      if (request !== undefined) request.json = undefined; // the messages were read; only the fields are kept
      // A request that carries trace context of the application's own keeps it.
      if (getHeader(headers, 'traceparent') === undefined && host.propagateTraceContext(origin)) injectTraceContext(chatContext, headers);
      else step.traceContextNotInjected();
      prepared = true; // from here on, what throws is undici's answer to the application's options
      try {
        return context.with(chatContext, () => dispatch(outOpts, observing));
      } catch (err) {
        // undici rejected the request outright (bad options): end our step, then behave as without us.
        observing.fail(err);
        throw err;
      }
    };
    const admission = host.admit(programId, origin);
    if (admission instanceof Promise) return hold(admission, send, step, handler, early);
    if (admission !== undefined) {
      step.dispatch(arrive);
      step.onError(admission, now());
      failHandler(handler, admission);
      return true;
    }
    // Nothing held the request: it is dispatched the instant it arrived, and pause is 0.
    return send(arrive, early);
  } catch (err) {
    if (prepared) throw err;
    log.error('could not observe a completion request; it is sent unobserved', err);
    if (early === undefined) return context.with(parentContext, () => dispatch(opts, handler));
    const unobserved = early.wrap(handler);
    return context.with(parentContext, () => dispatch({ ...opts, body }, unobserved));
  }
}

/**
 * A feature holds the request (an admission gate): the handler is connected at once, so an abort
 * while held reaches it; dispatched when the hold ends (the time held is pause), failed if it fails.
 */
function hold(admission: Promise<void>, send: (t: number, connected: EarlyConnection) => boolean, step: AgentStep, handler: Handler, connected: EarlyConnection | undefined): boolean {
  let early = connected;
  if (early === undefined) {
    early = new EarlyConnection();
    early.connect(handler);
  }
  const refuse = (error: Error): void => {
    const t = now();
    step.dispatch(t);
    step.onError(error, t);
    failHandler(handler, error);
  };
  admission.then(
    () => {
      if (early.reason !== undefined) return refuse(early.reason);
      try {
        send(now(), early); // the dispatcher's connect is ours: the handler had its own
      } catch (err) {
        failHandler(handler, err as Error);
      }
    },
    (err: unknown) => refuse(err instanceof Error ? err : new Error(String(err))),
  );
  return true;
}


/** W3C trace context through the global propagator, or written directly when none is set. */
function injectTraceContext(ctx: Context, headers: FlatHeaders): void {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (carrier['traceparent'] === undefined) {
    const sc = trace.getSpanContext(ctx);
    if (sc !== undefined && isSpanContextValid(sc)) {
      carrier['traceparent'] = `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
      const state = sc.traceState?.serialize();
      if (state) carrier['tracestate'] = state;
    }
  }
  for (const name of Object.keys(carrier)) setHeader(headers, name.toLowerCase(), carrier[name] as string);
}

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array | string> {
  return v !== null && typeof v === 'object' && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

async function readAll(body: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  // fetch hands a string or bytes body over as one chunk: sent as it is, not copied.
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}
