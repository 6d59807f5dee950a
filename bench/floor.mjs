// The floor of any hook at our place on the request path: an interceptor on the process-wide
// undici dispatcher that does only what every such hook must — reads the body `fetch` hands over
// as an async iterable (a hook that looks at the request has to, before dispatching it) and
// passes every callback of the response through a handler of its own — and nothing else: no
// parsing, no step, no telemetry. With the ceiling's telemetry around the client
// (ceiling.mjs), a mode reads as the least an implementation of what we emit from that place can
// cost: what ours costs above it is our own work.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** Passes the new handler API (undici 7) through. */
class PassThrough {
  constructor(inner) {
    this.inner = inner;
    this.bytes = 0;
  }
  onRequestStart(c, ctx) { this.inner.onRequestStart?.(c, ctx); }
  onRequestUpgrade(c, s, h, socket) { this.inner.onRequestUpgrade?.(c, s, h, socket); }
  onResponseStart(c, s, h, m) { this.inner.onResponseStart?.(c, s, h, m); }
  onResponseData(c, chunk) {
    this.bytes += chunk.length;
    this.inner.onResponseData?.(c, chunk);
  }
  onResponseEnd(c, t) { this.inner.onResponseEnd?.(c, t); }
  onResponseError(c, e) { this.inner.onResponseError?.(c, e); }
}

/** Passes the legacy handler API (Node 20's bundled undici 6) through, return values included. */
class LegacyPassThrough {
  constructor(inner) {
    this.inner = inner;
    this.bytes = 0;
  }
  onConnect(abort, ctx) { return this.inner.onConnect?.(abort, ctx); }
  onResponseStarted() { return this.inner.onResponseStarted?.(); }
  onUpgrade(s, h, socket) { return this.inner.onUpgrade?.(s, h, socket); }
  onBodySent(n, total) { return this.inner.onBodySent?.(n, total); }
  onRequestSent() { return this.inner.onRequestSent?.(); }
  onHeaders(s, raw, resume, text) { return this.inner.onHeaders?.(s, raw, resume, text) ?? true; }
  onData(chunk) {
    this.bytes += chunk.length;
    return this.inner.onData?.(chunk) ?? true;
  }
  onComplete(t) { return this.inner.onComplete?.(t); }
  onError(e) { return this.inner.onError?.(e); }
}

async function readAll(body) {
  const chunks = [];
  for await (const c of body) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** The pass-through hook, installed on the global dispatcher while on. */
export function passThroughHook() {
  let installed;
  return {
    on() {
      const inner = globalThis[GLOBAL_DISPATCHER];
      const dispatch = inner.dispatch.bind(inner);
      const wrap = (h) => (typeof h.onRequestStart === 'function' ? new PassThrough(h) : new LegacyPassThrough(h));
      const hooked = (opts, handler) => {
        if (opts.method !== 'POST') return dispatch(opts, handler);
        const body = opts.body;
        if (body != null && typeof body[Symbol.asyncIterator] === 'function') {
          readAll(body).then((bytes) => dispatch({ ...opts, body: bytes }, wrap(handler)), (err) => handler.onError?.(err) ?? handler.onResponseError?.(null, err));
          return true;
        }
        return dispatch(opts, wrap(handler));
      };
      installed = { inner, proxy: new Proxy(inner, { get: (target, key) => (key === 'dispatch' ? hooked : Reflect.get(target, key)) }) };
      Object.defineProperty(globalThis, GLOBAL_DISPATCHER, { value: installed.proxy, writable: true, enumerable: false, configurable: false });
    },
    off() {
      if (installed !== undefined && globalThis[GLOBAL_DISPATCHER] === installed.proxy) globalThis[GLOBAL_DISPATCHER] = installed.inner;
      installed = undefined;
    },
  };
}
