/**
 * The engines' own metric names: read from their `/metrics`, never emitted (semconv.ts re-exports
 * them, so that every name is reachable from one module).
 */

/**
 * Engine metric names we read (shared/reference/engines.md): vLLM V1 names with their V0
 * fallbacks, and SGLang's. Inputs, not emitted; kept here so that every name is in one place.
 */
export const ENGINE_SGLANG_CACHED_TOKENS_TOTAL = 'sglang:cached_tokens_total' as const;
export const ENGINE_SGLANG_GENERATION_TOKENS_TOTAL = 'sglang:generation_tokens_total' as const;
export const ENGINE_SGLANG_NUM_ABORTED_REQUESTS_TOTAL = 'sglang:num_aborted_requests_total' as const;
export const ENGINE_SGLANG_NUM_QUEUE_REQS = 'sglang:num_queue_reqs' as const;
export const ENGINE_SGLANG_NUM_RUNNING_REQS = 'sglang:num_running_reqs' as const;
export const ENGINE_SGLANG_NUM_USED_TOKENS = 'sglang:num_used_tokens' as const;
export const ENGINE_SGLANG_PROMPT_TOKENS_TOTAL = 'sglang:prompt_tokens_total' as const;
export const ENGINE_SGLANG_TOKEN_USAGE = 'sglang:token_usage' as const;
export const ENGINE_VLLM_CACHE_CONFIG_INFO = 'vllm:cache_config_info' as const;
export const ENGINE_VLLM_GENERATION_TOKENS_TOTAL = 'vllm:generation_tokens_total' as const;
export const ENGINE_VLLM_GPU_CACHE_USAGE_PERC = 'vllm:gpu_cache_usage_perc' as const;
export const ENGINE_VLLM_GPU_PREFIX_CACHE_HIT_RATE = 'vllm:gpu_prefix_cache_hit_rate' as const;
export const ENGINE_VLLM_GPU_PREFIX_CACHE_HITS_TOTAL = 'vllm:gpu_prefix_cache_hits_total' as const;
export const ENGINE_VLLM_GPU_PREFIX_CACHE_QUERIES_TOTAL = 'vllm:gpu_prefix_cache_queries_total' as const;
export const ENGINE_VLLM_KV_CACHE_USAGE_PERC = 'vllm:kv_cache_usage_perc' as const;
export const ENGINE_VLLM_NUM_PREEMPTIONS_TOTAL = 'vllm:num_preemptions_total' as const;
export const ENGINE_VLLM_NUM_REQUESTS_RUNNING = 'vllm:num_requests_running' as const;
export const ENGINE_VLLM_NUM_REQUESTS_WAITING = 'vllm:num_requests_waiting' as const;
export const ENGINE_VLLM_PREFIX_CACHE_HITS_TOTAL = 'vllm:prefix_cache_hits_total' as const;
export const ENGINE_VLLM_PREFIX_CACHE_QUERIES_TOTAL = 'vllm:prefix_cache_queries_total' as const;
export const ENGINE_VLLM_PROMPT_TOKENS_TOTAL = 'vllm:prompt_tokens_total' as const;
export const ENGINE_VLLM_REQUEST_SUCCESS_TOTAL = 'vllm:request_success_total' as const;

/** Per-request latency histograms (`_sum`, `_count`) and token counters the snapshots read. */
export const ENGINE_VLLM_REQUEST_QUEUE_TIME_SECONDS = 'vllm:request_queue_time_seconds' as const;
export const ENGINE_VLLM_REQUEST_PREFILL_TIME_SECONDS = 'vllm:request_prefill_time_seconds' as const;
export const ENGINE_VLLM_REQUEST_DECODE_TIME_SECONDS = 'vllm:request_decode_time_seconds' as const;
export const ENGINE_VLLM_REQUEST_INFERENCE_TIME_SECONDS = 'vllm:request_inference_time_seconds' as const;
export const ENGINE_VLLM_TIME_TO_FIRST_TOKEN_SECONDS = 'vllm:time_to_first_token_seconds' as const;
export const ENGINE_VLLM_E2E_REQUEST_LATENCY_SECONDS = 'vllm:e2e_request_latency_seconds' as const;
export const ENGINE_SGLANG_QUEUE_TIME_SECONDS = 'sglang:queue_time_seconds' as const;
export const ENGINE_SGLANG_TIME_TO_FIRST_TOKEN_SECONDS = 'sglang:time_to_first_token_seconds' as const;
export const ENGINE_SGLANG_E2E_REQUEST_LATENCY_SECONDS = 'sglang:e2e_request_latency_seconds' as const;
/** Suffixes of a histogram's series in the text format. */
export const PROM_SUFFIX_SUM = '_sum' as const;
export const PROM_SUFFIX_COUNT = '_count' as const;
