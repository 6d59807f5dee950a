/**
 * Reads an OpenAI-compatible completion (a streamed one event by event, or a whole JSON body)
 * into what the spans need. Pure: the caller supplies the arrival time of each event.
 *
 * Hot path: a stream of N chunks must not cost N full JSON parses. Only the first event (for id
 * and model), events that carry a `usage` object and, when content capture is on, every event
 * are parsed; the rest is read with index scans. Key scans are sound on JSON text because a
 * quote inside a string value is always escaped, so `"usage":` cannot match inside content.
 */
import { mergeUsage, type Usage } from './usage.js';

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
  /** Data events whose `choices` is not empty. */
  choiceEvents: number;
  /** Data events that were not a JSON object. */
  malformedEvents: number;
  /** Whether `data: [DONE]` was seen. */
  done: boolean;
  /** Arrival time of the first data event (the first token). */
  firstEventAt?: number;
  /** Arrival time of the last data event carrying a choice (the last token). */
  lastChoiceAt?: number;
  output?: OutputMessage;
}

/** Accumulates the events of one streamed completion. */
export class StreamAccumulator {
  readonly summary: CompletionSummary = {
    finishReasons: [],
    dataEvents: 0,
    choiceEvents: 0,
    malformedEvents: 0,
    done: false,
  };

  /** @param _captureContent assemble the output message (parses every event). */
  constructor(private readonly _captureContent = false) {
    if (_captureContent) this.summary.output = { role: 'assistant', content: '', toolCalls: [] };
  }

  /** Takes one event's data, received at time `t`. */
  onEvent(data: string, t: number): void {
    const s = this.summary;
    if (data === '[DONE]') {
      s.done = true;
      return;
    }
    s.dataEvents++;
    if (s.firstEventAt === undefined) s.firstEventAt = t;
    const needParse = this._captureContent || s.dataEvents === 1 || hasObjectValue(data, '"usage"');
    if (needParse) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        s.malformedEvents++;
        return;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        s.malformedEvents++;
        return;
      }
      this._readObject(parsed as Record<string, unknown>, t);
      return;
    }
    if (!looksLikeObject(data)) {
      s.malformedEvents++;
      return;
    }
    if (choicesNotEmpty(data)) {
      s.choiceEvents++;
      s.lastChoiceAt = t;
    }
    scanFinishReasons(data, s.finishReasons);
  }

  private _readObject(o: Record<string, unknown>, t: number): void {
    const s = this.summary;
    if (s.id === undefined && typeof o['id'] === 'string') s.id = o['id'];
    if (s.model === undefined && typeof o['model'] === 'string') s.model = o['model'];
    if (o['usage'] != null) s.usage = mergeUsage(s.usage, o['usage']);
    const choices = o['choices'];
    if (!Array.isArray(choices) || choices.length === 0) return;
    s.choiceEvents++;
    s.lastChoiceAt = t;
    for (const choice of choices) {
      if (choice === null || typeof choice !== 'object') continue;
      const c = choice as Record<string, unknown>;
      addFinishReason(s.finishReasons, c['finish_reason']);
      if (s.output && (c['index'] ?? 0) === 0) appendDelta(s.output, c);
    }
  }
}

/** Reads a non-streamed completion body (already parsed). */
export function readCompletion(body: unknown, captureContent = false): CompletionSummary {
  const s: CompletionSummary = { finishReasons: [], dataEvents: 0, choiceEvents: 0, malformedEvents: 0, done: true };
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

function addFinishReason(into: string[], reason: unknown): void {
  if (typeof reason === 'string' && reason && !into.includes(reason)) into.push(reason);
}

function looksLikeObject(data: string): boolean {
  let i = 0;
  while (i < data.length && data.charCodeAt(i) <= 32) i++;
  let j = data.length - 1;
  while (j > i && data.charCodeAt(j) <= 32) j--;
  return data.charCodeAt(i) === 123 && data.charCodeAt(j) === 125;
}

/** Index just past `key` and the following colon (white space allowed), or -1. */
function valueIndex(data: string, key: string, from = 0): number {
  const k = data.indexOf(key, from);
  if (k === -1) return -1;
  let i = k + key.length;
  while (i < data.length && data.charCodeAt(i) <= 32) i++;
  if (data.charCodeAt(i) !== 58) return valueIndex(data, key, k + key.length);
  i++;
  while (i < data.length && data.charCodeAt(i) <= 32) i++;
  return i;
}

function hasObjectValue(data: string, key: string): boolean {
  const i = valueIndex(data, key);
  return i !== -1 && data.charCodeAt(i) === 123;
}

function choicesNotEmpty(data: string): boolean {
  const i = valueIndex(data, '"choices"');
  if (i === -1 || data.charCodeAt(i) !== 91) return false;
  let j = i + 1;
  while (j < data.length && data.charCodeAt(j) <= 32) j++;
  return j < data.length && data.charCodeAt(j) !== 93;
}

function scanFinishReasons(data: string, into: string[]): void {
  let from = 0;
  for (;;) {
    const i = valueIndex(data, '"finish_reason"', from);
    if (i === -1) return;
    from = i;
    if (data.charCodeAt(i) !== 34) continue; // null
    const end = data.indexOf('"', i + 1);
    if (end === -1) return;
    addFinishReason(into, data.slice(i + 1, end));
    from = end + 1;
  }
}
