/**
 * For a request whose body we read before dispatching it (fetch hands its body over as an
 * async iterable): the application's handler is told it is connected at once, with an abort
 * function of ours, and the dispatcher's own connect callback is later taken by us instead of
 * passed on. So the handler sees one connect, as without us, and whatever aborts the request
 * while we read its body (the application's body stream failing, its AbortSignal) reaches it
 * with the application's own reason: fetch's body reader reports a failing body by aborting
 * through the connection, which without this would not exist yet.
 */
import type { Dispatcher } from 'undici';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;
type Abort = (reason?: Error) => void;

export class EarlyConnection {
  /** Set when the request was aborted before it was dispatched. */
  reason: Error | undefined;
  private _abort: Abort | undefined;
  private _controller: Controller | undefined;

  /** Tells `handler` it is connected, in its own API. */
  connect(handler: Handler): void {
    if (typeof handler.onRequestStart === 'function') handler.onRequestStart(this._earlyController(), {});
    else (handler.onConnect as ((abort: Abort, context?: unknown) => void) | undefined)?.call(handler, (reason) => this.abort(reason));
  }

  /** Aborts: the dispatched request when there is one, else remembers why. */
  abort(reason?: Error): void {
    if (this._abort !== undefined) this._abort(reason);
    else if (this._controller !== undefined) this._controller.abort(reason ?? abortError());
    else this.reason ??= reason ?? abortError();
  }

  /** The dispatcher's connect callback (legacy API), taken by us: the handler was connected already. */
  takeConnect(abort: Abort): void {
    this._abort = abort;
    if (this.reason !== undefined) abort(this.reason);
  }

  /** The dispatcher's request start (new API), taken by us: the handler was connected already. */
  takeRequestStart(controller: Controller): void {
    this._controller = controller;
    if (this.reason !== undefined) controller.abort(this.reason);
  }

  /**
   * `handler` as the dispatcher should see it when it goes to undici unobserved: its connect
   * callback is ours (the application's handler was connected already); everything else is its
   * own. (Observed requests need no wrapper: the observing handler hands the connect to us.)
   */
  wrap(handler: Handler): Handler {
    return new Proxy(handler, {
      get: (target, key, receiver) => {
        if (key === 'onConnect' && typeof target.onRequestStart !== 'function') return (abort: Abort) => this.takeConnect(abort);
        if (key === 'onRequestStart' && typeof target.onRequestStart === 'function') return (controller: Controller) => this.takeRequestStart(controller);
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  }

  private _earlyController(): Controller {
    const state = (): { controller: Controller | undefined; reason: Error | undefined } => ({ controller: this._controller, reason: this.reason });
    return {
      get aborted() {
        const s = state();
        return s.controller?.aborted ?? s.reason !== undefined;
      },
      get paused() {
        return state().controller?.paused ?? false;
      },
      get reason() {
        const s = state();
        return s.controller?.reason ?? s.reason ?? null;
      },
      abort: (reason?: Error) => this.abort(reason),
      pause: () => this._controller?.pause(),
      resume: () => this._controller?.resume(),
    };
  }
}

function abortError(): Error {
  return new DOMException('The operation was aborted.', 'AbortError');
}
