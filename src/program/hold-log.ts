/**
 * The times a program was held by the application itself (`pausing()`): its own semaphore, a
 * token bucket, a human's approval. Overlapping holds count once: the log keeps their union, as
 * flat `[start, end, start, end, …]` epoch-ms intervals in time order. Pure: no clock, no I/O.
 */

/** Intervals kept at most: a program that holds without ever sending forgets its oldest. */
const MAX_INTERVALS = 256;

export class HoldLog {
  private _depth = 0;
  private _openAt = NaN;
  private _intervals: number[] = [];

  /** A hold begins at `t`. */
  begin(t: number): void {
    if (this._depth++ === 0) this._openAt = t;
  }

  /** A hold ends at `t`; when it was the last one open, the union's interval closes. */
  end(t: number): void {
    if (this._depth === 0) return;
    if (--this._depth > 0) return;
    this._push(this._openAt, t);
    this._openAt = NaN;
  }

  /**
   * The held time within `[from, to]`, merged and clipped, as flat intervals; everything up to
   * `to` is then forgotten (it belongs to this step's gap and no later one). A hold still open
   * counts up to `to` and goes on from there.
   */
  take(from: number, to: number): number[] {
    const out: number[] = [];
    const xs = this._intervals;
    for (let i = 0; i < xs.length; i += 2) clip(out, xs[i] as number, xs[i + 1] as number, from, to);
    if (this._depth > 0) {
      clip(out, this._openAt, to, from, to);
      if (this._openAt < to) this._openAt = to;
    }
    let keep = 0;
    while (keep < xs.length && (xs[keep + 1] as number) <= to) keep += 2;
    this._intervals = xs.slice(keep);
    return out;
  }

  private _push(start: number, end: number): void {
    const xs = this._intervals;
    const n = xs.length;
    if (n > 0 && start <= (xs[n - 1] as number)) {
      xs[n - 1] = Math.max(xs[n - 1] as number, end);
      return;
    }
    xs.push(start, end);
    if (xs.length > MAX_INTERVALS * 2) xs.splice(0, 2);
  }
}

function clip(out: number[], start: number, end: number, from: number, to: number): void {
  const s = Math.max(start, from);
  const e = Math.min(end, to);
  if (e > s) out.push(s, e);
}

/** Seconds covered by flat intervals. */
export function heldSeconds(intervals: readonly number[]): number {
  let ms = 0;
  for (let i = 0; i < intervals.length; i += 2) ms += (intervals[i + 1] as number) - (intervals[i] as number);
  return ms / 1000;
}

/** The parts of `[from, to]` that the (sorted, disjoint) `holds` do not cover, as flat intervals. */
export function outsideHolds(from: number, to: number, holds: readonly number[]): number[] {
  const out: number[] = [];
  let at = from;
  for (let i = 0; i < holds.length; i += 2) {
    const s = holds[i] as number;
    if (s > at) out.push(at, Math.min(s, to));
    at = Math.max(at, holds[i + 1] as number);
  }
  if (to > at) out.push(at, to);
  return out;
}
