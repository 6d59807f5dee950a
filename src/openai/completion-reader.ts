/**
 * Reads an OpenAI-compatible completion (a streamed one read by read, or a whole JSON body)
 * into what the spans need. Pure: the caller supplies the arrival time of each read.
 *
 * Hot path. A stream of N events must not cost N decodes and N string searches (one search is
 * ~200 ns even on a 200-byte event). Events arrive as byte ranges from {@link SseParser}; per
 * event we only compare a few bytes (`[DONE]`, `{…}`) and note the range in a ring of the last
 * {@link TAIL_EVENTS} events. The first event is decoded and parsed (id, model, early usage);
 * when the stream ends, the ring is decoded: walking back from the newest event gives the last
 * one carrying a choice (the last token) and its arrival time; its events give usage and finish
 * reasons. Engines put usage there in every form we know (a final `choices: []` chunk, every
 * chunk, the finish chunk, split over the last two: shared/reference/engines.md). With content
 * capture on, every event is decoded and parsed instead. Key scans are sound on JSON text: a
 * quote inside a string value is always escaped, so `"usage":` cannot match inside content.
 */
import { Buffer } from 'node:buffer';
import { SseParser, type SseEventReceiver } from '../sse/sse-parser.js';
import { addFinishReason, choicesNotEmpty, hasObjectValue, looksLikeObject, scanFinishReasons } from './event-scan.js';
import { mergeUsage, type Usage } from './usage.js';

/** Events kept for reading the last token, usage and finish reasons when the stream ends. */
export const TAIL_EVENTS = 8;

/** One tool call the model made, assembled from its deltas. */
export interface OutputToolCall {
  id?: string;
  name?: string;
  arguments: string;
}

/** What the model answered (only assembled when content capture is on). */
export interface OutputMessage {
  role: string;
  content: string;
  toolCalls: OutputToolCall[];
}

/** The reading of one completion. */
export interface CompletionSummary {
  id?: string;
  model?: string;
  usage?: Usage;
  finishReasons: string[];
  /** SSE data events, `[DONE]` excluded. */
  dataEvents: number;
  /** Data events that were not a JSON object. */
  malformedEvents: number;
  /** Whether `data: [DONE]` was seen. */
  done: boolean;
  /** Arrival time of the first data event (the first token). */
  firstEventAt?: number;
  /** Arrival time of the last data event carrying a choice (the last token); set by finish(). */
  lastChoiceAt?: number;
  output?: OutputMessage;
}

/** Reads one streamed completion: `push` each read with its arrival time, then `finish`. */
export class StreamAccumulator implements SseEventReceiver {
  // Every field from the start: summaries whose fields arrived in different orders would have
  // different shapes, and the per-event reads of `dataEvents` would go polymorphic.
  readonly summary: CompletionSummary = {
    id: undefined,
    model: undefined,
    usage: undefined,
    finishReasons: [],
    dataEvents: 0,
    malformedEvents: 0,
    done: false,
    firstEventAt: undefined,
    lastChoiceAt: undefined,
    output: undefined,
  };
  private readonly _parser = new SseParser(this);
  private _t = 0;
  private readonly _ringBuf: Buffer[] = [];
  // Offsets and times in typed arrays: a store is a plain write, no elements-kind or growth check.
  private readonly _ringStart = new Int32Array(TAIL_EVENTS);
  private readonly _ringEnd = new Int32Array(TAIL_EVENTS);
  private readonly _ringT = new Float64Array(TAIL_EVENTS);
  private _ringNext = 0;
  private _finished = false;

  /** @param _captureContent assemble the output message (parses every event). */
  constructor(private readonly _captureContent = false) {
    if (_captureContent) this.summary.output = { role: 'assistant', content: '', toolCalls: [] };
  }

  /** Takes one read of the response body, which arrived at time `t` (`oneEvent`: see {@link SseParser.push}). */
  push(chunk: Uint8Array, t: number, oneEvent?: boolean): void {
    // Kept events are views into the reads they arrived in, as undici hands them over: they hold
    // on to those reads until newer events push them out of the ring (Node sizes a socket read's
    // memory to what was read, at most 64 KiB). Copying them out when reads move on needed each
    // read's `buffer`, a call into V8's runtime that cost more than the rest of the chunk's reading.
    this._t = t;
    this._parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), oneEvent);
  }

  /** Takes decoded text (tests, replays). */
  pushText(text: string, t: number): void {
    this.push(Buffer.from(text, 'utf8'), t);
  }

  /** The stream ended (or failed) at `t`: reads the last token, usage and finish reasons. */
  finish(t: number = this._t): CompletionSummary {
    if (this._finished) return this.summary;
    this._t = t;
    this._parser.end();
    this._finished = true;
    const s = this.summary;
    const n = this._ringBuf.length;
    const oldest = n < TAIL_EVENTS ? 0 : this._ringNext;
    const texts: string[] = [];
    for (let k = 0; k < n; k++) {
      const i = (oldest + k) % n;
      texts.push((this._ringBuf[i] as Buffer).toString('utf8', this._ringStart[i], this._ringEnd[i]));
    }
    if (!this._captureContent) {
      for (let k = n - 1; k >= 0; k--) {
        if (choicesNotEmpty(texts[k] as string)) {
          s.lastChoiceAt = this._ringT[(oldest + k) % n];
          break;
        }
      }
      // More than TAIL_EVENTS trailing events without a choice: the last token came before them.
      if (s.lastChoiceAt === undefined && n === TAIL_EVENTS) s.lastChoiceAt = this._ringT[oldest];
    }
    for (const text of texts) {
      if (hasObjectValue(text, 'usage"')) this._parse(text, undefined, false);
      else scanFinishReasons(text, s.finishReasons);
    }
    return s;
  }

  /** One SSE data event (from the parser; not for callers). */
  onSseEvent(buf: Buffer, start: number, end: number): void {
    const s = this.summary;
    if (end - start === 6 && buf[start] === 91 && buf.toString('latin1', start, end) === '[DONE]') {
      s.done = true;
      return;
    }
    s.dataEvents++;
    // Only on the first event: a double stored into the summary (a tagged field) on a path every
    // event takes gets boxed on every event, 16 bytes each (the tail ring holds raw doubles).
    if (s.dataEvents === 1) s.firstEventAt = this._t;
    if (this._captureContent || s.dataEvents === 1) {
      if (!this._parse(buf.toString('utf8', start, end), this._t, true) || this._captureContent) return;
    } else if (!looksLikeObject(buf, start, end)) {
      s.malformedEvents++;
      return;
    }
    const i = this._ringBuf.length < TAIL_EVENTS ? this._ringBuf.length : this._ringNext;
    this._ringBuf[i] = buf;
    this._ringStart[i] = start;
    this._ringEnd[i] = end;
    this._ringT[i] = this._t;
    this._ringNext = (i + 1) % TAIL_EVENTS;
  }

  /** Parses one event; false when it is not a JSON object. */
  private _parse(data: string, t: number | undefined, isEvent: boolean): boolean {
    const s = this.summary;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      if (isEvent) s.malformedEvents++;
      return false;
    }
    const o = parsed as Record<string, unknown>;
    if (s.id === undefined && typeof o['id'] === 'string') s.id = o['id'];
    if (s.model === undefined && typeof o['model'] === 'string') s.model = o['model'];
    if (o['usage'] != null) s.usage = mergeUsage(s.usage, o['usage']);
    const choices = o['choices'];
    if (!Array.isArray(choices) || choices.length === 0) return true;
    if (t !== undefined && this._captureContent) s.lastChoiceAt = t;
    for (const choice of choices) {
      if (choice === null || typeof choice !== 'object') continue;
      const c = choice as Record<string, unknown>;
      addFinishReason(s.finishReasons, c['finish_reason']);
      if (isEvent && s.output && (c['index'] ?? 0) === 0) appendDelta(s.output, c);
    }
    return true;
  }
}

/** Reads a non-streamed completion body (already parsed). */
export function readCompletion(body: unknown, captureContent = false): CompletionSummary {
  const s: CompletionSummary = { finishReasons: [], dataEvents: 0, malformedEvents: 0, done: true };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    s.malformedEvents = 1;
    return s;
  }
  const o = body as Record<string, unknown>;
  if (typeof o['id'] === 'string') s.id = o['id'];
  if (typeof o['model'] === 'string') s.model = o['model'];
  s.usage = mergeUsage(undefined, o['usage']);
  const choices = Array.isArray(o['choices']) ? o['choices'] : [];
  if (captureContent) s.output = { role: 'assistant', content: '', toolCalls: [] };
  for (const choice of choices) {
    if (choice === null || typeof choice !== 'object') continue;
    const c = choice as Record<string, unknown>;
    addFinishReason(s.finishReasons, c['finish_reason']);
    if (s.output && (c['index'] ?? 0) === 0) {
      const message = c['message'];
      appendDelta(s.output, { delta: message, text: c['text'] });
    }
  }
  return s;
}

function appendDelta(out: OutputMessage, c: Record<string, unknown>): void {
  if (typeof c['text'] === 'string') out.content += c['text']; // /v1/completions
  const delta = c['delta'];
  if (delta === null || typeof delta !== 'object') return;
  const d = delta as Record<string, unknown>;
  if (typeof d['role'] === 'string') out.role = d['role'];
  if (typeof d['content'] === 'string') out.content += d['content'];
  const toolCalls = d['tool_calls'];
  if (!Array.isArray(toolCalls)) return;
  for (let i = 0; i < toolCalls.length; i++) {
    const tc = toolCalls[i] as Record<string, unknown> | null;
    if (tc === null || typeof tc !== 'object') continue;
    const index = typeof tc['index'] === 'number' ? tc['index'] : i;
    const slot = (out.toolCalls[index] ??= { arguments: '' });
    if (typeof tc['id'] === 'string' && tc['id']) slot.id = tc['id'];
    const fn = tc['function'] as Record<string, unknown> | undefined;
    if (fn && typeof fn === 'object') {
      if (typeof fn['name'] === 'string' && fn['name']) slot.name = fn['name'];
      if (typeof fn['arguments'] === 'string') slot.arguments += fn['arguments'];
    }
  }
}
