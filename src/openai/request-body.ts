/**
 * Reads an OpenAI-compatible completion request body, and rewrites it to ask for usage.
 * Pure: no I/O, no OpenTelemetry.
 */
import { bodyStart, objectMembers, readTopLevelFields, type MemberSpan } from './top-level-fields.js';

const OPEN_BRACE = 123;

/** What a completion request says about itself. */
export interface CompletionRequest {
  /**
   * The whole parsed body, only when asked for (content capture reads its messages). The request
   * hook lets go of it once the request is dispatched: an agent's body carries its whole
   * context, and a step lasts seconds.
   */
  json: Record<string, unknown> | undefined;
  model?: string;
  stream: boolean;
  /** `stream_options` as the body has it (undefined when absent). */
  streamOptions: unknown;
  /** Whether `stream_options.include_usage` is already true. */
  includeUsage: boolean;
  /** `program_id`, else `extra_body.program_id` (ThunderAgent's conventions). */
  programId?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  /**
   * Where the body's own `stream_options` members are (none, one, or a repeated key) and its
   * opening brace, read in the same walk as the fields: splicing needs no second pass over an
   * agent's long body. Absent when the body was parsed whole (content capture).
   */
  layout?: BodyLayout;
}

/** Positions in a body's text that splicing `include_usage` needs. */
export interface BodyLayout {
  /** Index of the body's opening brace. */
  open: number;
  /** Whether the body has members at all. */
  hasMembers: boolean;
  /** Each `stream_options` member's value, in text order. */
  streamOptions: MemberSpan[];
}

/** The top-level fields a request is read for. */
const FIELDS: ReadonlySet<string> = new Set(['model', 'stream', 'stream_options', 'program_id', 'extra_body', 'max_completion_tokens', 'max_tokens', 'temperature', 'top_p']);

/**
 * Reads a request body; undefined when it is not a JSON object. Only the top-level fields above
 * are parsed, unless `keepJson` asks for the whole body (kept as `json`).
 */
export function inspectRequestBody(body: string, keepJson = false): CompletionRequest | undefined {
  let o: Record<string, unknown> | undefined;
  let layout: BodyLayout | undefined;
  if (keepJson) {
    let json: unknown;
    try {
      json = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
    } catch {
      return undefined;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    o = json as Record<string, unknown>;
  } else {
    const spans: MemberSpan[] = [];
    o = readTopLevelFields(body, FIELDS, spans);
    if (o === undefined) return undefined;
    const open = bodyStart(body);
    let next = open + 1;
    while (next < body.length && body.charCodeAt(next) <= 32) next++;
    layout = { open, hasMembers: body.charCodeAt(next) !== 125, streamOptions: spans.filter((m) => m.key === 'stream_options') };
  }
  const streamOptions = o['stream_options'];
  const extra = o['extra_body'];
  const request: CompletionRequest = {
    json: keepJson ? o : undefined,
    stream: o['stream'] === true,
    streamOptions,
    includeUsage:
      streamOptions !== null && typeof streamOptions === 'object' &&
      (streamOptions as Record<string, unknown>)['include_usage'] === true,
  };
  if (typeof o['model'] === 'string') request.model = o['model'];
  const programId =
    idValue(o['program_id']) ??
    (extra !== null && typeof extra === 'object' ? idValue((extra as Record<string, unknown>)['program_id']) : undefined);
  if (programId !== undefined) request.programId = programId;
  const maxTokens = o['max_completion_tokens'] ?? o['max_tokens'];
  if (typeof maxTokens === 'number') request.maxTokens = maxTokens;
  if (typeof o['temperature'] === 'number') request.temperature = o['temperature'];
  if (typeof o['top_p'] === 'number') request.topP = o['top_p'];
  if (layout !== undefined) request.layout = layout;
  return request;
}

/**
 * Where to insert what so that the body `text` asks for usage, as `[index, field]`, or
 * undefined when the body must be left as it is. The field goes just inside the body's opening
 * brace when it has no `stream_options`, else just inside that object's brace; every other
 * character stays where and as it was (numbers, escapes, white space, key order): the body is
 * never re-serialised. Left alone: a body whose `stream_options` is not one JSON object (null,
 * an array, a string, a repeated key), or already says `include_usage` (an explicit `false` is
 * the application's choice; usage is then unknown).
 */
export function includeUsageSplice(text: string, layout?: BodyLayout): [number, string] | undefined {
  if (layout === undefined) {
    const open = bodyStart(text);
    const members = objectMembers(text, open);
    if (members === undefined) return undefined;
    layout = { open, hasMembers: members.length > 0, streamOptions: members.filter((m) => m.key === 'stream_options') };
  }
  const { open, hasMembers, streamOptions } = layout;
  if (streamOptions.length > 1) return undefined;
  const options = streamOptions[0];
  if (options === undefined) return [open + 1, hasMembers ? `"stream_options":{"include_usage":true},` : '"stream_options":{"include_usage":true}'];
  if (text.charCodeAt(options.valueStart) !== OPEN_BRACE) return undefined;
  const inner = objectMembers(text, options.valueStart);
  if (inner === undefined || inner.some((m) => m.key === 'include_usage')) return undefined;
  return [options.valueStart + 1, inner.length > 0 ? '"include_usage":true,' : '"include_usage":true'];
}

/** `text` asking for usage (see {@link includeUsageSplice}), or undefined to leave it alone. */
export function bodyWithIncludeUsage(text: string): string | undefined {
  const splice = includeUsageSplice(text);
  if (splice === undefined) return undefined;
  const [at, field] = splice;
  return text.slice(0, at) + field + text.slice(at);
}

function idValue(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
