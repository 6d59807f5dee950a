/**
 * Reads an OpenAI-compatible completion request body, and rewrites it to ask for usage.
 * Pure: no I/O, no OpenTelemetry.
 */
import { readTopLevelFields } from './top-level-fields.js';

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
}

/** The top-level fields a request is read for. */
const FIELDS: ReadonlySet<string> = new Set(['model', 'stream', 'stream_options', 'program_id', 'extra_body', 'max_completion_tokens', 'max_tokens', 'temperature', 'top_p']);

/**
 * Reads a request body; undefined when it is not a JSON object. Only the top-level fields above
 * are parsed, unless `keepJson` asks for the whole body (kept as `json`).
 */
export function inspectRequestBody(body: string, keepJson = false): CompletionRequest | undefined {
  let o: Record<string, unknown> | undefined;
  if (keepJson) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return undefined;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    o = json as Record<string, unknown>;
  } else {
    o = readTopLevelFields(body, FIELDS);
    if (o === undefined) return undefined;
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
  return request;
}

/**
 * `text`, the body of `request`, with `stream_options.include_usage = true`, other stream
 * options kept; undefined when it cannot be rewritten. When the body has no `stream_options`,
 * the field is spliced into the text rather than the whole body re-serialised: agent bodies
 * carry long contexts, and this runs before every dispatch.
 */
export function bodyWithIncludeUsage(request: CompletionRequest, text: string): string | undefined {
  if (request.streamOptions === undefined) {
    const insertion = includeUsageInsertion(text);
    if (insertion === undefined) return undefined;
    const [at, field] = insertion;
    return text.slice(0, at) + field + text.slice(at);
  }
  // Stream options of the application's own (rare): the whole body, re-serialised.
  let json: unknown = request.json;
  if (json === undefined) {
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const streamOptions = request.streamOptions;
  const merged = streamOptions !== null && typeof streamOptions === 'object' ? { ...streamOptions, include_usage: true } : { include_usage: true };
  return JSON.stringify({ ...json, stream_options: merged });
}

/**
 * For a body without `stream_options`: where to insert what so that it asks for usage, as
 * `[index, field]`, just inside the opening brace. Only ASCII white space may precede the brace
 * of a body we read, so the index counts bytes of its UTF-8 encoding as well as characters.
 */
export function includeUsageInsertion(text: string): [number, string] | undefined {
  const open = text.indexOf('{');
  if (open === -1) return undefined;
  let next = open + 1;
  while (next < text.length && text.charCodeAt(next) <= 32) next++;
  return [open + 1, text.charCodeAt(next) === 125 ? '"stream_options":{"include_usage":true}' : '"stream_options":{"include_usage":true},'];
}

function idValue(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
