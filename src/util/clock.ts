import { performance } from 'node:perf_hooks';

// The global `performance` is a lazy getter in Node 20 (a function call on every read); the
// module's export is the object itself. timeOrigin is a getter too, and never changes.
const ORIGIN = performance.timeOrigin;

let turnTime = NaN;

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution (monotonic within a run). */
export function now(): number {
  // Whatever happens after this instant must not be stamped with the turn's earlier reading
  // (a dispatcher answering in the very turn it was called: its data follows its dispatch).
  turnTime = NaN;
  return ORIGIN + performance.now();
}

const endTurn = (): void => {
  turnTime = NaN;
};

/**
 * The time at which the current turn of the event loop first asked, in epoch milliseconds.
 *
 * A socket read reaches the application in one synchronous run: undici's parser hands every
 * HTTP chunk of that read to its handler before the microtask queue drains. Those chunks arrived
 * together, so they share one arrival time, and a streamed completion whose engine flushes many
 * events per read pays for one clock read per read, not per event. The time is forgotten when
 * the microtask queue next drains, which Node does after every I/O callback: chunks of the next
 * read, or chunks the parser releases later after back-pressure, get a time of their own. It is
 * also forgotten whenever {@link now} is read, so it never predates an instant already taken.
 */
export function turnNow(): number {
  if (turnTime !== turnTime) {
    turnTime = ORIGIN + performance.now();
    queueMicrotask(endTurn);
  }
  return turnTime;
}
