/**
 * Takes out of a streamed completion the one event that asking for usage adds: the usage-only
 * chunk (`choices: []` with a `usage` object) that an engine sends before `[DONE]` when the
 * request has `stream_options.include_usage`. The request hook asks for usage on the
 * application's behalf; this keeps what the application receives what it would receive without
 * us. Pure: bytes in, bytes out, no I/O, no OpenTelemetry.
 *
 * Events are framed as the SSE specification frames them (an event ends at a blank line), which
 * is what every client's decoder does. Bytes that cannot belong to a usage-only event are
 * forwarded at once; only the current partial event is held back, and only until its bytes
 * prove it is not usage-only (a `"choices":[` with something in it) or it ends. A chunk in
 * which nothing is held or dropped is forwarded as the same Buffer object.
 *
 * A stream whose lines end in a lone CR (legal SSE, written by no engine we know) is passed
 * through unfiltered from the moment one is seen.
 */
import { Buffer } from 'node:buffer';
import { indexOfBytes, lastIndexOfBytes } from './bytes.js';
import { ChoicesAt, isUsageOnlyEvent, USAGE_KEY } from './usage-only-event.js';

const LF = 10;
const CR = 13;
const LFLF = Buffer.from('\n\n', 'latin1');
/** A `choices` array with something in it: the event carries a choice, so it is not usage-only. */
const NON_EMPTY_CHOICES = /"choices"\s*:\s*\[\s*[^\s\]]/;
const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;
/** A partial event held this long without a decision is let through (no real usage event is). */
const MAX_HELD_BYTES = 64 * 1024;

/** Receives the bytes the application gets, in order. */
export type FilteredSink = (part: Buffer) => void;

export class UsageEventFilter {
  private _held: Buffer[] = [];
  private _heldBytes = 0;
  /** The current event is known not to be usage-only: its bytes pass as they come. */
  private _forwarding = false;
  /** Bytes of the current event have been seen (so the stream is not at an event's start). */
  private _inEvent = false;
  /** The last byte seen was a LF (a LF first in the next chunk then ends a blank line). */
  private _prevLF = true; // the stream starts at a line start
  /**
   * The stream's first line ending decides its framing, as engines never mix them: LF (searched
   * event by event), or CR LF (followed line by line; a lone CR turns filtering off).
   */
  private _framed = false;
  private _crMode = false;
  /** CR mode: bytes of the current line so far, and whether the last of them is a CR. */
  private _lineBytes = 0;
  private _lineEndsCR = false;
  private _passThrough = false;
  /** Start, in the chunk being pushed, of the run of its bytes being forwarded (-1: none). */
  private _run = -1;
  /** Usage-only events taken out so far. */
  removed = 0;
  private readonly _choices = new ChoicesAt();

  constructor(private readonly _sink: FilteredSink) {}

  /** Feeds the next chunk of the response; what the application gets goes to the sink. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this._passThrough) {
      this._sink(chunk);
      return;
    }
    if (!this._framed) this._decideFraming(chunk);
    if (this._crMode && this._hasLoneCR(chunk)) {
      this._passThrough = true;
      this._releaseHeld();
      this._sink(chunk);
      return;
    }
    this._run = -1;
    if (!this._crMode && this._heldBytes === 0 && indexOfBytes(chunk, USAGE_KEY, 0) === -1) {
      // Most reads: no usage in them, so no usage-only event can end here. Everything up to the
      // last blank line goes on at once (the whole chunk, as it is, when it ends with one); only
      // an event still going on at the end may need holding.
      const endsEvent = n >= 2 && chunk[n - 1] === LF && chunk[n - 2] === LF;
      const lastPair = endsEvent ? n - 2 : lastIndexOfBytes(chunk, LFLF, n);
      const cut = lastPair !== -1 ? lastPair + 2 : this._prevLF && chunk[0] === LF ? 1 : 0;
      if (cut > 0) {
        this._forwarding = false;
        this._inEvent = false;
        this._run = 0;
      }
      if (cut < n) this._partial(chunk, cut, n);
      if (this._run !== -1) this._emitRun(chunk, n);
      this._prevLF = chunk[n - 1] === LF;
      return;
    }
    let segStart = this._crMode ? this._pushLines(chunk) : this._pushEvents(chunk);
    if (segStart < n) {
      this._partial(chunk, segStart, n);
      segStart = n;
    }
    if (this._run !== -1) this._emitRun(chunk, n);
    this._prevLF = chunk[n - 1] === LF;
  }

  /**
   * Whether `chunk` reaches the application as it is, with nothing held or dropped, its state
   * taken in as {@link push} would: the common read (whole events, no usage in them, nothing
   * held). When false, {@link push} it instead. `oneEvent`: the chunk is one `data:` line event
   * (`isOneDataEvent`); such an event that carries a choice where the stream's events carry
   * theirs is decided without searching it for usage.
   */
  passesWhole(chunk: Buffer, oneEvent = false): boolean {
    if (this._passThrough) return true;
    const n = chunk.length;
    if (!this._framed || this._crMode || this._heldBytes !== 0 || n < 2 || chunk[n - 1] !== LF || chunk[n - 2] !== LF) return false;
    if (!(oneEvent && this._choices.carriesChoice(chunk))) {
      if (indexOfBytes(chunk, USAGE_KEY, 0) !== -1) return false;
      if (oneEvent) this._choices.learn(chunk);
    }
    this._forwarding = false;
    this._inEvent = false;
    this._prevLF = true;
    return true;
  }

  /**
   * The response ended: what is still held (an event the engine did not end with a blank line)
   * reaches the sink, unless it is a usage-only event.
   */
  end(): void {
    if (this._heldBytes === 0) return;
    const held = Buffer.concat(this._held);
    if (!this._passThrough && !this._forwarding && isUsageOnlyEvent(held)) {
      this._dropHeld();
      this.removed++;
      return;
    }
    this._releaseHeld();
  }

  /** LF framing: events end where a LF follows a LF. Returns where the unfinished event starts. */
  private _pushEvents(chunk: Buffer): number {
    let usageAt = indexOfBytes(chunk, USAGE_KEY, 0);
    let segStart = 0;
    let from = 0;
    let boundary = this._prevLF && chunk[0] === LF ? 0 : -1; // a blank line split across reads
    if (this._heldBytes === 0 && usageAt > 0) {
      // The events before the first usage cannot be usage-only: one run, no event by event.
      const pair = lastIndexOfBytes(chunk, LFLF, usageAt);
      if (pair !== -1) {
        this._forwarding = false;
        this._inEvent = false;
        this._run = 0;
        segStart = pair + 2;
        from = pair + 1;
        boundary = -1;
      }
    }
    for (;;) {
      if (boundary === -1) {
        const k = indexOfBytes(chunk, LFLF, from);
        if (k === -1) break;
        boundary = k + 1;
      }
      if (usageAt !== -1 && usageAt < segStart) usageAt = indexOfBytes(chunk, USAGE_KEY, segStart);
      this._segment(chunk, segStart, boundary + 1, usageAt);
      segStart = boundary + 1;
      from = boundary;
      boundary = -1;
    }
    return segStart;
  }

  /** CR framing (CRLF lines): followed line by line. Returns where the unfinished event starts. */
  private _pushLines(chunk: Buffer): number {
    let usageAt = indexOfBytes(chunk, USAGE_KEY, 0);
    let segStart = 0;
    let pos = 0;
    let lf: number;
    while ((lf = indexOfBytes(chunk, LF, pos)) !== -1) {
      const here = lf - pos;
      const total = this._lineBytes + here;
      const endsCR = here > 0 ? chunk[lf - 1] === CR : this._lineEndsCR;
      this._lineBytes = 0;
      this._lineEndsCR = false;
      pos = lf + 1;
      if (total !== 0 && !(total === 1 && endsCR)) continue; // not a blank line
      if (usageAt !== -1 && usageAt < segStart) usageAt = indexOfBytes(chunk, USAGE_KEY, segStart);
      this._segment(chunk, segStart, pos, usageAt);
      segStart = pos;
    }
    this._lineBytes += chunk.length - pos;
    if (chunk.length > pos) this._lineEndsCR = chunk[chunk.length - 1] === CR;
    return segStart;
  }

  /** The event made of what is held plus `chunk[start, end)` is complete: forward or drop it. */
  private _segment(chunk: Buffer, start: number, end: number, usageAt: number): void {
    const candidate = !this._forwarding && (this._heldBytes > 0 || (usageAt !== -1 && usageAt < end));
    if (candidate && this._isUsageOnly(chunk, start, end)) {
      if (this._run !== -1) this._emitRun(chunk, start);
      this._dropHeld();
      this.removed++;
    } else {
      if (this._heldBytes > 0) this._releaseHeld(); // nothing of this chunk was forwarded yet
      if (this._run === -1) this._run = start;
    }
    this._forwarding = false;
    this._inEvent = false;
  }

  /** An event begun in `chunk[start, n)` goes on in the next chunk: forwarded if it carries a choice, else held. */
  private _partial(chunk: Buffer, start: number, n: number): void {
    this._inEvent = true;
    if (this._forwarding) {
      if (this._run === -1) this._run = start;
      return;
    }
    if (this._run !== -1) this._emitRun(chunk, start);
    this._held.push(chunk.subarray(start, n));
    this._heldBytes += n - start;
    if (this._heldBytes > MAX_HELD_BYTES || NON_EMPTY_CHOICES.test(this._heldText())) {
      this._releaseHeld();
      this._forwarding = true;
    }
  }

  private _emitRun(chunk: Buffer, end: number): void {
    const start = this._run;
    this._run = -1;
    if (end > start) this._sink(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
  }

  private _releaseHeld(): void {
    if (this._heldBytes === 0) return;
    const held = this._held;
    this._dropHeld();
    for (const b of held) this._sink(b);
  }

  private _dropHeld(): void {
    if (this._heldBytes === 0) return;
    this._held = [];
    this._heldBytes = 0;
  }

  private _heldText(): string {
    return (this._held.length === 1 ? (this._held[0] as Buffer) : Buffer.concat(this._held)).toString('latin1');
  }

  /** Whether the held bytes plus `chunk[start, end)` are one usage-only event. */
  private _isUsageOnly(chunk: Buffer, start: number, end: number): boolean {
    const bytes = this._heldBytes > 0 ? Buffer.concat([...this._held, chunk.subarray(start, end)]) : chunk.subarray(start, end);
    // Engines that put "usage": null on every chunk (SGLang) make most events candidates: an
    // empty choices array is looked for before anything is parsed.
    return EMPTY_CHOICES.test(bytes.toString('latin1')) && isUsageOnlyEvent(bytes);
  }

  private _decideFraming(chunk: Buffer): void {
    const cr = indexOfBytes(chunk, CR, 0);
    const lf = indexOfBytes(chunk, LF, 0);
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      this._framed = true;
      this._crMode = true;
      this._lineBytes = this._prevLF ? 0 : 1; // only whether the line so far is empty matters
    } else if (lf !== -1) {
      this._framed = true;
    }
  }

  private _hasLoneCR(chunk: Buffer): boolean {
    if (this._lineEndsCR && chunk[0] !== LF) return true; // a CR ended the previous chunk
    for (let i = indexOfBytes(chunk, CR, 0); i !== -1; i = indexOfBytes(chunk, CR, i + 1)) {
      // A CR at the end of a chunk is judged by the next chunk's first byte (above, next time).
      if (i + 1 < chunk.length && chunk[i + 1] !== LF) return true;
    }
    return false;
  }
}
