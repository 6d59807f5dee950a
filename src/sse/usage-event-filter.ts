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

const LF = 10;
const CR = 13;
const USAGE_KEY = Buffer.from('"usage"', 'latin1');
/** A `choices` array with something in it: the event carries a choice, so it is not usage-only. */
const NON_EMPTY_CHOICES = /"choices"\s*:\s*\[\s*[^\s\]]/;
/** A partial event held this long without a decision is let through (no real usage event is). */
const MAX_HELD_BYTES = 64 * 1024;

export class UsageEventFilter {
  private _held: Buffer[] = [];
  private _heldBytes = 0;
  /** The current event is known not to be usage-only: its bytes pass as they come. */
  private _forwarding = false;
  /** Bytes of the current line so far, and whether the last of them is a CR. */
  private _lineBytes = 0;
  private _lineEndsCR = false;
  private _passThrough = false;
  /** Usage-only events taken out so far. */
  removed = 0;

  /** The bytes to hand to the application now, in order (often `[chunk]` itself, or nothing). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this._passThrough) {
      out.push(chunk);
      return out;
    }
    if ((this._lineEndsCR || chunk.indexOf(CR) !== -1) && this._hasLoneCR(chunk)) {
      this._passThrough = true;
      this._releaseHeld(out);
      out.push(chunk);
      return out;
    }
    const n = chunk.length;
    const usageHere = chunk.indexOf(USAGE_KEY) !== -1;
    let segStart = 0; // where the current event's bytes begin in this chunk
    let fwdStart = -1; // start of the run of this chunk being forwarded
    let pos = 0;
    let lf: number;
    while ((lf = chunk.indexOf(LF, pos)) !== -1) {
      const here = lf - pos;
      const total = this._lineBytes + here;
      const endsCR = here > 0 ? chunk[lf - 1] === CR : this._lineEndsCR;
      this._lineBytes = 0;
      this._lineEndsCR = false;
      pos = lf + 1;
      if (total !== 0 && !(total === 1 && endsCR)) continue; // not a blank line
      // The event [segStart, pos) is complete.
      if (this._forwarding || (this._heldBytes === 0 && !usageHere) || !this._isUsageOnly(chunk, segStart, pos)) {
        if (this._heldBytes > 0) {
          if (fwdStart !== -1) out.push(chunk.subarray(fwdStart, segStart));
          this._releaseHeld(out);
          fwdStart = segStart;
        } else if (fwdStart === -1) {
          fwdStart = segStart;
        }
      } else {
        if (fwdStart !== -1) out.push(chunk.subarray(fwdStart, segStart));
        fwdStart = -1;
        this._dropHeld();
        this.removed++;
      }
      this._forwarding = false;
      segStart = pos;
    }
    this._lineBytes += n - pos;
    if (n > pos) this._lineEndsCR = chunk[n - 1] === CR;
    if (segStart < n) {
      // A partial event: forwarded when it is known to carry a choice, else held.
      if (this._forwarding) {
        if (fwdStart === -1) fwdStart = segStart;
      } else {
        if (fwdStart !== -1) out.push(chunk.subarray(fwdStart, segStart));
        fwdStart = -1;
        this._held.push(chunk.subarray(segStart, n));
        this._heldBytes += n - segStart;
        if (this._heldBytes > MAX_HELD_BYTES || NON_EMPTY_CHOICES.test(this._heldText())) {
          this._releaseHeld(out);
          this._forwarding = true;
        }
      }
    }
    // A run still open reaches the chunk's end; the whole chunk goes as the same object.
    if (fwdStart !== -1) out.push(fwdStart === 0 && out.length === 0 ? chunk : chunk.subarray(fwdStart, n));
    return out;
  }

  /**
   * The response ended: what is still held (an event the engine did not end with a blank line,
   * which a client's decoder still dispatches at the end), unless it is a usage-only event.
   */
  end(): Buffer[] {
    const out: Buffer[] = [];
    if (this._heldBytes === 0) return out;
    const held = Buffer.concat(this._held);
    if (!this._passThrough && !this._forwarding && isUsageOnlyEvent(held)) {
      this._dropHeld();
      this.removed++;
      return out;
    }
    this._releaseHeld(out);
    return out;
  }

  private _releaseHeld(out: Buffer[]): void {
    for (const b of this._held) out.push(b);
    this._dropHeld();
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
    return isUsageOnlyEvent(bytes);
  }

  private _hasLoneCR(chunk: Buffer): boolean {
    for (let i = chunk.indexOf(CR); i !== -1; i = chunk.indexOf(CR, i + 1)) {
      // A CR at the end of a chunk is judged by the next chunk's first byte (below, next time).
      if (i + 1 < chunk.length && chunk[i + 1] !== LF) return true;
    }
    if (this._lineEndsCR && chunk.length > 0 && chunk[0] !== LF) return true;
    return false;
  }
}

/**
 * Whether `bytes` (one whole SSE event) is a usage-only completion chunk: no `event:` field of
 * its own, and data that is a JSON object with an empty `choices` array and a `usage` object.
 */
export function isUsageOnlyEvent(bytes: Buffer): boolean {
  if (bytes.indexOf(USAGE_KEY) === -1) return false;
  const text = bytes.toString('utf8');
  let data: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0 || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') return false;
  }
  if (data === undefined) return false;
  let o: unknown;
  try {
    o = JSON.parse(data);
  } catch {
    return false;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  const { choices, usage } = o as { choices?: unknown; usage?: unknown };
  return Array.isArray(choices) && choices.length === 0 && usage !== null && typeof usage === 'object' && !Array.isArray(usage);
}
