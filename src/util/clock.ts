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
 * Arrival times of one response's chunks at the cost of one clock read per socket read. Node
 * hands a read to undici as a fresh ArrayBuffer, and undici hands its HTTP chunks on as views of
 * it, synchronously: the first chunk of a read (a buffer not seen just before) reads the clock,
 * and a later chunk over the same buffer takes {@link turnNow}, the time of the turn it arrives
 * in. The buffer only chooses the cheaper path: a transport that reused one buffer across reads
 * would still get each read's own time, as turnNow forgets it when the turn ends. (turnNow alone
 * queues a microtask for every read, which with AsyncLocalStorage's hooks on costs ~5 times the
 * clock read: most of a paced stream's reads carry one chunk.)
 */
export class ChunkClock {
  private _buffer: ArrayBufferLike | undefined;

  /** When `chunk` arrived, epoch ms. */
  at(chunk: Uint8Array): number {
    const buffer = chunk.buffer;
    if (buffer === this._buffer) return turnNow();
    this._buffer = buffer;
    return now();
  }
}
