/**
 * An incremental Server-Sent Events framer over raw bytes, with no I/O and no OpenTelemetry:
 * the request hook feeds it the response as it arrives and gets each event's `data` back as a
 * byte range, so nothing is decoded unless the caller wants it.
 *
 * It runs on every byte of every streamed completion, so lines are found with the native
 * `Buffer.indexOf` and fields are recognised by their first bytes; a string is made only for the
 * rare multi-line event. It follows the SSE framing
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html) with one tolerance that real
 * engines need: KServe's runtime writes `data:` lines with no blank line between events, so a
 * `data:` line that arrives while the pending data is already a complete OpenAI payload (ends in
 * `}` or is `[DONE]`) dispatches the pending data first instead of being joined to it.
 *
 * Lines end in `\n` or `\r\n`. A stream that ends its lines with a lone `\r` (legal SSE, written
 * by no engine we know) is normalised on a slower path once seen.
 */

import { Buffer } from 'node:buffer';
import { indexOfBytes } from './bytes.js';

/** Receives one event's data: bytes `[start, end)` of `buf`, valid until the next push. */
export type SseEventSink = (buf: Buffer, start: number, end: number) => void;

/** The same as an object: one method call per event, no closure (the stream reader's hot path). */
export interface SseEventReceiver {
  onSseEvent(buf: Buffer, start: number, end: number): void;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/**
 * Whether `buf` is exactly one event of one `data:` line (`data: …\n\n`, no other line feed):
 * what engines send per read. One native search; the request hook runs it once per chunk and
 * hands the answer to both readers of the chunk (the usage filter and this parser).
 */
export function isOneDataEvent(buf: Uint8Array): boolean {
  const n = buf.length;
  return n > 6 && buf[n - 1] === LF && buf[n - 2] === LF && buf[0] === 100 && buf[1] === 97 && buf[2] === 116 && buf[3] === 97 && buf[4] === COLON && indexOfBytes(buf, LF, 0) === n - 2;
}

export class SseParser {
  private _rest: Buffer | undefined;
  private _pBuf: Buffer | undefined;
  private _pStart = 0;
  private _pEnd = 0;
  private _pJoined: string | undefined;
  private _pOwned = false;
  private _crMode = false;
  private _dropLF = false;
  private _seenLF = false;

  private readonly _sink: SseEventReceiver;

  constructor(sink: SseEventSink | SseEventReceiver) {
    this._sink = typeof sink === 'function' ? { onSseEvent: sink } : sink;
  }

  /**
   * Feeds raw response bytes. `oneEvent`: the caller already knows whether they are
   * {@link isOneDataEvent} (it is worked out here when not given).
   */
  push(chunk: Uint8Array, oneEvent?: boolean): void {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The common case, one read per event: `data: …\n\n` and nothing pending. Engines flush
    // each event on its own, so this is most chunks; one native search proves the shape. (Not
    // before the first line feed: the first chunk decides whether lines end in a lone \r.)
    const n = buf.length;
    if (
      this._seenLF &&
      this._rest === undefined &&
      this._pBuf === undefined &&
      this._pJoined === undefined &&
      !this._crMode &&
      (oneEvent ?? isOneDataEvent(buf))
    ) {
      const vs = buf[5] === SPACE ? 6 : 5;
      const ve = buf[n - 3] === CR ? n - 3 : n - 2; // `\r\n\n` ends the line with \r
      this._sink.onSseEvent(buf, vs, ve);
      return;
    }
    if (this._crMode || (this._rest === undefined && this._pBuf === undefined && !this._seenLF && indexOfBytes(buf, CR, 0) !== -1 && hasLoneCR(buf))) {
      this._crMode = true;
      buf = this._normaliseCR(buf);
    }
    if (this._rest !== undefined) {
      buf = Buffer.concat([this._rest, buf]);
      this._rest = undefined;
    }
    let pos = 0;
    for (let nl = indexOfBytes(buf, LF, pos); nl !== -1; nl = indexOfBytes(buf, LF, pos)) {
      this._seenLF = true;
      this._line(buf, pos, nl > pos && buf[nl - 1] === CR ? nl - 1 : nl);
      pos = nl + 1;
    }
    if (pos < buf.length) this._rest = buf.subarray(pos);
    // An event still pending (no blank line yet) must not point into a buffer the caller may reuse.
    if (this._pBuf !== undefined && !this._pOwned) this._detachPending();
  }

  /** Feeds text (for callers that hold decoded text). */
  pushText(text: string): void {
    this.push(Buffer.from(text, 'utf8'));
  }

  /** Ends the stream: a last line or event without its terminator is still taken. */
  end(): void {
    if (this._rest !== undefined) {
      const rest = this._rest;
      this._rest = undefined;
      this._line(rest, 0, rest.length > 0 && rest[rest.length - 1] === CR ? rest.length - 1 : rest.length);
    }
    this._dispatch();
  }

  private _line(buf: Buffer, start: number, end: number): void {
    if (start === end) {
      this._dispatch();
      return;
    }
    // Only `data` matters to an OpenAI stream: `data:` / `data` alone; comments and other fields are skipped.
    if (end - start < 4 || buf[start] !== 100 || buf[start + 1] !== 97 || buf[start + 2] !== 116 || buf[start + 3] !== 97) return;
    let vs = start + 4;
    if (vs < end) {
      if (buf[vs] !== COLON) return; // a field named data-something
      vs++;
      if (vs < end && buf[vs] === SPACE) vs++;
    }
    if (this._pBuf === undefined && this._pJoined === undefined) {
      this._setPending(buf, vs, end);
    } else if (this._pendingComplete()) {
      this._dispatch();
      this._setPending(buf, vs, end);
    } else {
      this._pJoined = this._pendingText() + '\n' + buf.toString('utf8', vs, end);
      this._pBuf = undefined;
    }
  }

  private _setPending(buf: Buffer, start: number, end: number): void {
    this._pBuf = buf;
    this._pStart = start;
    this._pEnd = end;
    this._pOwned = false;
  }

  private _pendingComplete(): boolean {
    if (this._pJoined !== undefined) {
      const t = this._pJoined.trimEnd();
      return t.endsWith('}') || t === '[DONE]';
    }
    const b = this._pBuf as Buffer;
    let e = this._pEnd - 1;
    while (e >= this._pStart && (b[e] as number) <= SPACE) e--;
    if (e < this._pStart) return false;
    return b[e] === 125 /* } */ || (e - this._pStart === 5 && b[this._pStart] === 91 && b[e] === 93); // [DONE]
  }

  private _pendingText(): string {
    return this._pJoined ?? (this._pBuf as Buffer).toString('utf8', this._pStart, this._pEnd);
  }

  private _dispatch(): void {
    if (this._pJoined !== undefined) {
      const bytes = Buffer.from(this._pJoined, 'utf8');
      this._pJoined = undefined;
      this._sink.onSseEvent(bytes, 0, bytes.length);
    } else if (this._pBuf !== undefined) {
      const buf = this._pBuf;
      this._pBuf = undefined;
      this._sink.onSseEvent(buf, this._pStart, this._pEnd);
    }
  }

  private _detachPending(): void {
    const copy = Buffer.from((this._pBuf as Buffer).subarray(this._pStart, this._pEnd));
    this._pBuf = copy;
    this._pStart = 0;
    this._pEnd = copy.length;
    this._pOwned = true;
  }

  /** Lone-CR streams: every `\r\n` and lone `\r` becomes `\n`, across chunk boundaries. */
  private _normaliseCR(buf: Buffer): Buffer {
    const out = Buffer.allocUnsafe(buf.length);
    let n = 0;
    let i = 0;
    if (this._dropLF && buf[0] === LF) i = 1;
    this._dropLF = false;
    for (; i < buf.length; i++) {
      const c = buf[i] as number;
      if (c !== CR) {
        out[n++] = c;
        continue;
      }
      out[n++] = LF;
      if (i + 1 < buf.length) {
        if (buf[i + 1] === LF) i++;
      } else {
        this._dropLF = true;
      }
    }
    return out.subarray(0, n);
  }
}

function hasLoneCR(buf: Buffer): boolean {
  for (let i = indexOfBytes(buf, CR, 0); i !== -1; i = indexOfBytes(buf, CR, i + 1)) {
    if (i + 1 >= buf.length || buf[i + 1] !== LF) return true;
  }
  return false;
}
