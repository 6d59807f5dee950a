/**
 * The process-wide undici dispatcher, read and replaced through the symbol every undici copy
 * shares (Node's bundled one, which its global `fetch` uses, and any `undici` package the
 * application loads). We do not import the `undici` package: loading it installs an Agent of
 * its own when none is set yet, which would move Node 20's `fetch` from its bundled undici 6 to
 * another HTTP stack just because this package was loaded.
 */
import type { Dispatcher } from 'undici';

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
type Slot = Record<symbol, Dispatcher | undefined>;

/**
 * The global dispatcher. When nothing has set one yet, Node's own is created first: Node makes
 * it when `fetch` is first called, and a `data:` URL makes `fetch` do so without any I/O. So we
 * wrap exactly the dispatcher `fetch` would have used without us.
 */
export function getGlobalDispatcher(): Dispatcher | undefined {
  const slot = globalThis as unknown as Slot;
  if (slot[GLOBAL_DISPATCHER] === undefined && typeof globalThis.fetch === 'function') {
    globalThis.fetch('data:,').catch(() => undefined);
  }
  return slot[GLOBAL_DISPATCHER];
}

/** Replaces the global dispatcher, with the property shape undici itself uses. */
export function setGlobalDispatcher(dispatcher: Dispatcher): void {
  Object.defineProperty(globalThis, GLOBAL_DISPATCHER, { value: dispatcher, writable: true, enumerable: false, configurable: false });
}

/**
 * `dispatcher` with `interceptor` in front of its `dispatch`, as `compose()` does it but without
 * the handler wrapper undici 7's `compose()` adds: that wrapper converts a legacy handler to the
 * new API and drops the callbacks the new API has no place for (`onBodySent`,
 * `onRequestSent`), so the application's handler would miss them. The hook speaks both APIs
 * itself and hands the dispatcher the handler's own.
 */
export function interceptDispatcher(dispatcher: Dispatcher, interceptor: Dispatcher.DispatcherComposeInterceptor): Dispatcher {
  const dispatch = interceptor(dispatcher.dispatch.bind(dispatcher));
  return new Proxy(dispatcher, {
    get: (target, key) => (key === 'dispatch' ? dispatch : Reflect.get(target, key)) as unknown,
  });
}
