/**
 * Token usage as OpenAI-compatible engines report it, and how to merge it across chunks.
 */

/** The `usage` object of a completion or of a streamed chunk. */
export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

/**
 * Merges `next` into `into` field by field, the later value winning. Engines repeat usage on
 * every chunk (vLLM's continuous usage stats), put it on the finish chunk, or split it over two
 * chunks with `prompt_tokens_details` in the second (vLLM engines.md): merging every chunk's
 * usage covers all three.
 */
export function mergeUsage(into: Usage | undefined, next: unknown): Usage | undefined {
  if (next === null || typeof next !== 'object') return into;
  const u = next as Record<string, unknown>;
  const out: Usage = into ?? {};
  if (isCount(u['prompt_tokens'])) out.prompt_tokens = u['prompt_tokens'];
  if (isCount(u['completion_tokens'])) out.completion_tokens = u['completion_tokens'];
  if (isCount(u['total_tokens'])) out.total_tokens = u['total_tokens'];
  const details = u['prompt_tokens_details'];
  if (details !== null && typeof details === 'object') {
    const cached = (details as Record<string, unknown>)['cached_tokens'];
    if (isCount(cached)) out.prompt_tokens_details = { ...out.prompt_tokens_details, cached_tokens: cached };
  }
  return out;
}

/** Cached prompt tokens, when the engine reported them. */
export function cachedTokens(usage: Usage | undefined): number | undefined {
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  return typeof cached === 'number' ? cached : undefined;
}

/**
 * cached_tokens / prompt_tokens (ThunderAgent's kv_hit_rate), or undefined when the engine did
 * not report cached tokens: unknown is not 0.
 */
export function kvHitRate(usage: Usage | undefined): number | undefined {
  const cached = cachedTokens(usage);
  const prompt = usage?.prompt_tokens;
  if (cached === undefined || prompt === undefined || prompt <= 0) return undefined;
  return Math.min(1, cached / prompt);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
