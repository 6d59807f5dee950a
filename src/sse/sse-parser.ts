/**
 * An incremental Server-Sent Events reader that yields each event's `data`, with no I/O and no
 * OpenTelemetry: the request hook feeds it the response bytes as they arrive.
 *
 * It follows the SSE framing (https://html.spec.whatwg.org/multipage/server-sent-events.html)
 * with one tolerance that real engines need: KServe's runtime writes `data:` lines with no blank
 * line between events. When a `data:` line arrives while the pending data is already a complete
 * OpenAI payload (ends in `}` or is `[DONE]`), the pending data is dispatched first instead of
 * being joined with a newline.
 */
export class SseParser {
  private readonly _decoder = new TextDecoder('utf-8');
  private _buffer = '';
  private _data: string | undefined;
  private _lastWasCR = false;

  /** @param _onData called with the `data` of each complete event, in order. */
  constructor(private readonly _onData: (data: string) => void) {}

  /** Feeds raw response bytes; a multi-byte character split across chunks is handled. */
  push(chunk: Uint8Array): void {
    this._feed(this._decoder.decode(chunk, { stream: true }));
  }

  /** Feeds text (for callers that already decoded). */
  pushText(text: string): void {
    this._feed(text);
  }

  /** Ends the stream: a last event not followed by a blank line is still dispatched. */
  end(): void {
    const rest = this._decoder.decode();
    if (rest) this._feed(rest);
    if (this._buffer.length > 0) {
      this._line(this._buffer);
      this._buffer = '';
    }
    this._dispatch();
  }

  private _feed(text: string): void {
    let start = 0;
    let buffer = this._buffer;
    if (this._lastWasCR && text.charCodeAt(0) === 10) start = 1; // the \n of a \r\n split across chunks
    this._lastWasCR = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = buffer.length > 0 ? buffer + text.slice(start, i) : text.slice(start, i);
      buffer = '';
      this._line(line);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this._lastWasCR = true;
        }
      }
      start = i + 1;
    }
    this._buffer = start < text.length ? buffer + text.slice(start) : buffer;
  }

  private _line(line: string): void {
    if (line.length === 0) {
      this._dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return; // event, id, retry: nothing an OpenAI stream needs
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (this._data === undefined) {
      this._data = value;
    } else if (isCompletePayload(this._data)) {
      this._dispatch();
      this._data = value;
    } else {
      this._data += '\n' + value;
    }
  }

  private _dispatch(): void {
    if (this._data === undefined) return;
    const data = this._data;
    this._data = undefined;
    this._onData(data);
  }
}

function isCompletePayload(data: string): boolean {
  const trimmed = data.trimEnd();
  return trimmed.endsWith('}') || trimmed === '[DONE]';
}
