/**
 * What one attempt's response body says, as it arrives: an SSE stream read event by event
 * (first and last token, usage, finish reasons), a JSON body read at the end, or opaque bytes
 * (an error status, a compressed body) timed by byte. Times are NaN until known: fields that
 * only ever hold numbers are double fields, updated in place, so per-chunk writes allocate
 * nothing.
 */
import { Buffer } from 'node:buffer';
import type { ChunkRecorder } from '../feature.js';
import { readCompletion, StreamAccumulator, type CompletionSummary } from '../openai/completion-reader.js';

/** A non-streamed body larger than this is not parsed (its timing is still recorded). */
const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

export type ResponseMode = 'sse' | 'json' | 'opaque' | 'error';

export class AttemptResponse {
  mode: ResponseMode = 'opaque';
  status = 0;
  firstByteAt = NaN;
  lastByteAt = NaN;
  private _stream: StreamAccumulator | undefined;
  private _jsonChunks: Buffer[] | undefined;
  private _jsonBytes = 0;
  private _lastEventAt = NaN;

  constructor(private readonly _captureContent: boolean, private readonly _recorder: ChunkRecorder | undefined) {}

  /** The response's headers: how its body will be read. */
  start(statusCode: number, type: string | undefined, encoding: string | undefined): void {
    this.status = statusCode;
    if (statusCode >= 400) {
      this.mode = 'error';
    } else if (encoding !== undefined && encoding !== 'identity') {
      this.mode = 'opaque'; // compressed: timings by byte only; engines do not compress completions
    } else if (type !== undefined && type.includes('text/event-stream')) {
      this.mode = 'sse';
      this._stream = new StreamAccumulator(this._captureContent);
    } else if (type !== undefined && type.includes('json')) {
      this.mode = 'json';
      this._jsonChunks = [];
    }
  }

  /** A chunk of the body arrived at `t` (`oneEvent`: whether it is one SSE data event, when known). */
  data(chunk: Buffer, t: number, oneEvent?: boolean): void {
    if (Number.isNaN(this.firstByteAt)) this.firstByteAt = t;
    this.lastByteAt = t;
    const stream = this._stream;
    if (this.mode === 'sse' && stream !== undefined) {
      if (this._recorder === undefined) {
        stream.push(chunk, t, oneEvent);
        return;
      }
      const before = stream.summary.dataEvents;
      stream.push(chunk, t, oneEvent);
      const count = stream.summary.dataEvents - before;
      if (count > 0) {
        this._recorder.onChunks(count, Number.isNaN(this._lastEventAt) ? undefined : (t - this._lastEventAt) / 1000);
        this._lastEventAt = t;
      }
    } else if (this.mode === 'json' && this._jsonChunks !== undefined) {
      this._jsonBytes += chunk.length;
      if (this._jsonBytes <= MAX_JSON_BODY_BYTES) this._jsonChunks.push(chunk);
      else this._jsonChunks = undefined;
    }
  }

  /** The body ended (or failed) at `t`: what it said, when it could be read. */
  summary(t: number, failed: boolean): CompletionSummary | undefined {
    if (this.mode === 'sse' && this._stream !== undefined) return this._stream.finish(failed && !Number.isNaN(this.lastByteAt) ? this.lastByteAt : t);
    if (failed || this.mode !== 'json' || this._jsonChunks === undefined) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(this._jsonChunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    return readCompletion(body, this._captureContent);
  }
}
