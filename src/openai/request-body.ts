/**
 * Reads an OpenAI-compatible completion request body, and rewrites it to ask for usage.
 * Pure: no I/O, no OpenTelemetry.
 */

/** What a completion request says about itself. */
export interface CompletionRequest {
  /**
   * The parsed body, kept so a rewrite does not parse twice; the request hook lets go of it once
   * the request is dispatched (an agent's body carries its whole context, and a step lasts
   * seconds: held that long, the parsed copy would live on in V8's old generation).
   */
  json: Record<string, unknown> | undefined;
  model?: string;
  stream: boolean;
  /** Whether `stream_options.include_usage` is already true. */
  includeUsage: boolean;
  /** `program_id`, else `extra_body.program_id` (ThunderAgent's conventions). */
  programId?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
}

/** Parses a request body; undefined when it is not a JSON object. */
export function inspectRequestBody(body: string): CompletionRequest | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const streamOptions = o['stream_options'];
  const extra = o['extra_body'];
  const request: CompletionRequest = {
    json: o,
    stream: o['stream'] === true,
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
 * The body with `stream_options.include_usage = true`, other stream options kept. When the body
 * has no `stream_options`, the field is spliced into the original text rather than the whole
 * body re-serialised: agent bodies carry long contexts, and this runs before every dispatch.
 */
export function bodyWithIncludeUsage(request: CompletionRequest, text?: string): string {
  const json = request.json;
  if (json === undefined) throw new Error('agentic-otel: the request body was released before its rewrite');
  const streamOptions = json['stream_options'];
  if (streamOptions === undefined && text !== undefined) {
    const open = text.indexOf('{');
    if (open !== -1) {
      let next = open + 1;
      while (next < text.length && (text.charCodeAt(next) <= 32)) next++;
      const field = text.charCodeAt(next) === 125 ? '"stream_options":{"include_usage":true}' : '"stream_options":{"include_usage":true},';
      return text.slice(0, open + 1) + field + text.slice(open + 1);
    }
  }
  const merged = streamOptions !== null && typeof streamOptions === 'object' ? { ...streamOptions, include_usage: true } : { include_usage: true };
  return JSON.stringify({ ...json, stream_options: merged });
}

function idValue(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
