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

/**
 * Arrival times of one response's chunks at the cost of one clock read per socket read. undici
 * hands the HTTP chunks of one read on synchronously, as views of the read's buffer at rising
 * offsets: a chunk that starts where the one before it ended, or later, is taken as the same
 * read's and gets the time of the turn ({@link turnNow}); any other reads the clock. The guess
 * only picks the cheaper path, both are exact: a new read taken for the same one still gets its
 * own turn's time. (turnNow alone queues a microtask for every read, which with
 * AsyncLocalStorage's hooks on costs ~5 times the clock read, and most reads of a paced stream
 * carry one chunk. A chunk's `buffer` would tell reads apart for sure, but reading it is a call
 * into V8's runtime, as dear as the microtask.)
 */
export class ChunkClock {
  private _end = -1;

  /** When `chunk` arrived, epoch ms. */
  at(chunk: Uint8Array): number {
    // (`length`, not `byteLength`: on Node 20 the latter is a generic call, ~170 instructions.)
    const offset = chunk.byteOffset;
    const sameRead = this._end >= 0 && offset >= this._end;
    this._end = offset + chunk.length;
    return sameRead ? turnNow() : now();
  }
}
