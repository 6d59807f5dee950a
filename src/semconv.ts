/**
 * Every span name, attribute name and attribute value this package emits. GenAI names follow
 * semantic-conventions v1.41.0 (`model/gen-ai`); since 1.42 their JS constants are deprecated in
 * `@opentelemetry/semantic-conventions/incubating`, so, as contrib does, we keep our own copies. */

/** Span names. They are a public contract: dashboards and users query them. */
export const SPAN_AGENT_STEP = 'agent.step' as const;
export const SPAN_AGENT_TOOL_CALL = 'agent.tool_call' as const;
export const SPAN_AGENT_PAUSE = 'agent.pause' as const;
export const SPAN_LLM_PREFILL = 'llm.prefill' as const;
export const SPAN_LLM_DECODE = 'llm.decode' as const;
export const SPAN_LLM_INFERENCE = 'llm.inference' as const;

/** Our own attributes, on `agent.step`. */
export const ATTR_AGENTIC_PROGRAM_ID = 'agentic.program.id' as const;
export const ATTR_AGENTIC_STEP_ID = 'agentic.step.id' as const;
export const ATTR_AGENTIC_STEP_TOOL_CALL_S = 'agentic.step.tool_call_s' as const;
export const ATTR_AGENTIC_STEP_PAUSE_S = 'agentic.step.pause_s' as const;
export const ATTR_AGENTIC_STEP_PREFILL_S = 'agentic.step.prefill_s' as const;
export const ATTR_AGENTIC_STEP_DECODE_S = 'agentic.step.decode_s' as const;
/** Non-streamed steps only: start → end, which the client cannot split into prefill and decode. */
export const ATTR_AGENTIC_STEP_INFERENCE_S = 'agentic.step.inference_s' as const;
export const ATTR_AGENTIC_STEP_KV_HIT_RATE = 'agentic.step.kv_hit_rate' as const;
export const ATTR_AGENTIC_STEP_STREAMED = 'agentic.step.streamed' as const;
/** On the `chat` span: SSE data events received, and how many of them could not be read. */
export const ATTR_AGENTIC_RESPONSE_CHUNKS = 'agentic.response.chunks' as const;
export const ATTR_AGENTIC_RESPONSE_MALFORMED_CHUNKS = 'agentic.response.malformed_chunks' as const;

/** GenAI attributes (semantic-conventions v1.41.0). */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens' as const;
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature' as const;
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p' as const;
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream' as const;
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons' as const;
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk' as const;
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens' as const;
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id' as const;
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name' as const;
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages' as const;
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages' as const;
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
export const ATTR_SERVER_PORT = 'server.port' as const;
export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code' as const;
/** The attempt's number of resends (redirects followed), as the HTTP conventions count them. */
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count' as const;
/** False on a `chat` span whose request did not get our trace context (it had its own, or propagateTo excluded it). */
export const ATTR_AGENTIC_TRACE_CONTEXT_INJECTED = 'agentic.trace_context.injected' as const;
/** Attempts of a step (a redirect hop is one); only when more than one. */
export const ATTR_AGENTIC_STEP_ATTEMPTS = 'agentic.step.attempts' as const;
/** On an attempt's `chat` span: the wait its response asked for (`retry-after` / `retry-after-ms`), seconds. */
export const ATTR_AGENTIC_RETRY_AFTER_S = 'agentic.retry_after_s' as const;
/** On a `agent.pause` span: what the time was spent on (`hold`, `retry`, `queue`, `redirect`). */
export const ATTR_AGENTIC_PAUSE_REASON = 'agentic.pause.reason' as const;
export const PAUSE_REASON_HOLD = 'hold' as const;
export const PAUSE_REASON_RETRY = 'retry' as const;
export const PAUSE_REASON_QUEUE = 'queue' as const;
export const PAUSE_REASON_REDIRECT = 'redirect' as const;

/**
 * On the `chat` span, with `snapshots` on: what the engine's own histograms say of this request,
 * from before / after captures of its `/metrics` (seconds and tokens; `exact` false when other
 * requests started or finished between the captures: the values are then upper bounds).
 */
export const ATTR_AGENTIC_ENGINE_QUEUE_S = 'agentic.engine.queue_s' as const;
export const ATTR_AGENTIC_ENGINE_PREFILL_S = 'agentic.engine.prefill_s' as const;
export const ATTR_AGENTIC_ENGINE_DECODE_S = 'agentic.engine.decode_s' as const;
export const ATTR_AGENTIC_ENGINE_INFERENCE_S = 'agentic.engine.inference_s' as const;
export const ATTR_AGENTIC_ENGINE_TTFT_S = 'agentic.engine.ttft_s' as const;
export const ATTR_AGENTIC_ENGINE_E2E_S = 'agentic.engine.e2e_s' as const;
export const ATTR_AGENTIC_ENGINE_PROMPT_TOKENS = 'agentic.engine.prompt_tokens' as const;
export const ATTR_AGENTIC_ENGINE_GENERATION_TOKENS = 'agentic.engine.generation_tokens' as const;
export const ATTR_AGENTIC_ENGINE_EXACT = 'agentic.engine.exact' as const;
/** Requests the engine finished between the two captures (1 when exact). */
export const ATTR_AGENTIC_ENGINE_REQUESTS = 'agentic.engine.requests' as const;
/** `ok`, or `missing` (no capture before, or none after within the wait), or `reset` (a counter went down). */
export const ATTR_AGENTIC_ENGINE_SNAPSHOT = 'agentic.engine.snapshot' as const;
export const SNAPSHOT_STATUS_OK = 'ok' as const;
export const SNAPSHOT_STATUS_MISSING = 'missing' as const;
export const SNAPSHOT_STATUS_RESET = 'reset' as const;

/** `gen_ai.operation.name` values we emit. */
export const GEN_AI_OPERATION_CHAT = 'chat' as const;
export const GEN_AI_OPERATION_TEXT_COMPLETION = 'text_completion' as const;

/** `error.type` values of our own (the others are an error's code or class, or an HTTP status). */
export const ERROR_TYPE_MALFORMED_RESPONSE = 'malformed_response' as const;
export const ERROR_TYPE_OTHER = '_OTHER' as const;
/** A client gave up waiting (its own timeout), told from a plain abort by `x-stainless-timeout`. */
export const ERROR_TYPE_TIMEOUT = 'timeout' as const;

/** The environment variable the GenAI conventions define for opting in to message content. */
export const ENV_CAPTURE_MESSAGE_CONTENT = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT' as const;
/** Request header that names the program a request belongs to. */
export const HEADER_PROGRAM_ID = 'x-program-id' as const;
/** The `openai` client's request timeout, whole seconds (truncated), on every request it sends. */
export const HEADER_STAINLESS_TIMEOUT = 'x-stainless-timeout' as const;
/** The `openai` client's retries so far (0 on a request's first attempt). */
export const HEADER_STAINLESS_RETRY_COUNT = 'x-stainless-retry-count' as const;
/** What a 429 (or 503) asks the client to wait: seconds or an HTTP date, and OpenAI's milliseconds. */
export const HEADER_RETRY_AFTER = 'retry-after' as const;
export const HEADER_RETRY_AFTER_MS = 'retry-after-ms' as const;
/** Program id used when nothing names one (ThunderAgent's convention). */
export const DEFAULT_PROGRAM_ID = 'default' as const;

/** Omni pipelines (vLLM-omni): span names. */
export const SPAN_OMNI_REQUEST = 'omni.request' as const;
/** Attributes of `omni.request`. */
export const ATTR_OMNI_REQUEST_ID = 'omni.request.id' as const;
export const ATTR_OMNI_E2E_TOTAL_MS = 'omni.e2e_total_ms' as const;
export const ATTR_OMNI_E2E_TOTAL_TOKENS = 'omni.e2e_total_tokens' as const;
export const ATTR_OMNI_TRANSFERS_TOTAL_TIME_MS = 'omni.transfers_total_time_ms' as const;
export const ATTR_OMNI_TRANSFERS_TOTAL_BYTES = 'omni.transfers_total_bytes' as const;
/** The reference's invariants a request breaks, as text. */
export const ATTR_OMNI_INVARIANT_VIOLATIONS = 'omni.invariant_violations' as const;
/** Attributes of `omni.stage {id}` (its stats go on as `omni.stage.<field>`). */
export const ATTR_OMNI_STAGE_ID = 'omni.stage.id' as const;
export const ATTR_OMNI_STAGE_NAME = 'omni.stage.name' as const;
/** Metric labels: the stage id, the edge (`0->1`). */
export const ATTR_OMNI_STAGE = 'omni.stage' as const;
export const ATTR_OMNI_EDGE = 'omni.edge' as const;
/** Omni metrics (histograms). */
export const METRIC_OMNI_REQUEST_DURATION = 'omni.request.duration' as const;
export const METRIC_OMNI_REQUEST_TOKENS = 'omni.request.tokens' as const;
export const METRIC_OMNI_STAGE_DURATION = 'omni.stage.generation.duration' as const;
export const METRIC_OMNI_TRANSFER_SIZE = 'omni.transfer.size' as const;
export const METRIC_OMNI_TRANSFER_DURATION = 'omni.transfer.duration' as const;

/**
 * TinyLLM's series, without the prefix (`metricPrefix`, default `agentic`): with
 * `metricPrefix: 'tinyllm'` the Prometheus exposition matches TinyLLM's names.
 */
export const METRIC_REQUESTS_TOTAL = 'requests_total' as const;
export const METRIC_REQUEST_LATENCY_SECONDS = 'request_latency_seconds' as const;
export const METRIC_ACTIVE_REQUESTS = 'active_requests' as const;
export const METRIC_TOKENS_INPUT_TOTAL = 'tokens_input_total' as const;
export const METRIC_TOKENS_OUTPUT_TOTAL = 'tokens_output_total' as const;
export const METRIC_ERRORS_TOTAL = 'errors_total' as const;
export const METRIC_CIRCUIT_BREAKER_STATE = 'circuit_breaker_state' as const;
export const METRIC_CIRCUIT_BREAKER_FAILURES_TOTAL = 'circuit_breaker_failures_total' as const;
export const METRIC_MODEL_LOAD_DURATION_SECONDS = 'model_load_duration_seconds' as const;
export const METRIC_NODE_EXECUTIONS_TOTAL = 'node_executions_total' as const;
export const METRIC_NODE_EXECUTION_DURATION_SECONDS = 'node_execution_duration_seconds' as const;
export const METRIC_NODE_ERRORS_TOTAL = 'node_errors_total' as const;
export const METRIC_GRAPH_EXECUTIONS_TOTAL = 'graph_executions_total' as const;
export const METRIC_GRAPH_EXECUTION_DURATION_SECONDS = 'graph_execution_duration_seconds' as const;
export const METRIC_CACHE_HITS_TOTAL = 'cache_hits_total' as const;
export const METRIC_CACHE_MISSES_TOTAL = 'cache_misses_total' as const;
export const METRIC_RATE_LIMIT_WAIT_SECONDS = 'rate_limit_wait_seconds' as const;
export const METRIC_MEMORY_OPERATIONS_TOTAL = 'memory_operations_total' as const;
export const METRIC_QUEUE_SIZE = 'queue_size' as const;
export const METRIC_QUEUE_WAIT_TIME_SECONDS = 'queue_wait_time_seconds' as const;
export const METRIC_QUEUE_REQUESTS_TOTAL = 'queue_requests_total' as const;
export const METRIC_QUEUE_REQUESTS_REJECTED_TOTAL = 'queue_requests_rejected_total' as const;
export const METRIC_QUEUE_ACTIVE_WORKERS = 'queue_active_workers' as const;
export const METRIC_SYSTEM_INFO = 'system_info' as const;
/** Ours: the time steps spend in each phase (label `phase`). */
export const METRIC_STEP_PHASE_SECONDS = 'step_phase_seconds' as const;

/** The GenAI client histograms (semantic conventions v1.41). */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;
export const METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk' as const;
export const METRIC_GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK = 'gen_ai.client.operation.time_per_output_chunk' as const;
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type' as const;
/** The one series of a sum past 2,000 attribute sets, as sdk-metrics names its overflow series. */
export const ATTR_OTEL_METRIC_OVERFLOW = 'otel.metric.overflow' as const;

export * from './engine-names.js';

/** TinyLLM's label keys (closed set), and their closed value sets. */
export const LABEL_MODEL = 'model' as const;
export const LABEL_GRAPH = 'graph' as const;
export const LABEL_REQUEST_TYPE = 'request_type' as const;
export const LABEL_ERROR_TYPE = 'error_type' as const;
export const LABEL_CACHE_TYPE = 'cache_type' as const;
export const LABEL_PHASE = 'phase' as const;
export const LABEL_NODE = 'node' as const;
export const LABEL_PRIORITY = 'priority' as const;
export const LABEL_OPERATION_TYPE = 'operation_type' as const;
export const LABEL_VERSION = 'version' as const;
export const LABEL_APP = 'app' as const;
/** The value of every label we cannot name (no model in the request, no agent given). */
export const LABEL_VALUE_UNKNOWN = 'unknown' as const;
export const LABEL_VALUE_DEFAULT_GRAPH = 'default' as const;
export const APP_NAME = 'agentic-otel' as const;
/** `request_type`. */
export const REQUEST_TYPE_CHAT = 'chat' as const;
export const REQUEST_TYPE_COMPLETION = 'completion' as const;
export const REQUEST_TYPE_GENERATE = 'generate' as const;
/** `cache_type`. */
export const CACHE_TYPE_KV_PREFIX = 'kv_prefix' as const;
export const CACHE_TYPE_GENERAL = 'general' as const;
/** `phase` of `<prefix>_step_phase_seconds`: ThunderAgent's four phases. */
export const PHASE_TOOL_CALL = 'tool_call' as const;
export const PHASE_PAUSE = 'pause' as const;
export const PHASE_PREFILL = 'prefill' as const;
export const PHASE_DECODE = 'decode' as const;
export type Phase = typeof PHASE_TOOL_CALL | typeof PHASE_PAUSE | typeof PHASE_PREFILL | typeof PHASE_DECODE;
/** `gen_ai.token.type`. */
export const TOKEN_TYPE_INPUT = 'input' as const;
export const TOKEN_TYPE_OUTPUT = 'output' as const;
export type TokenType = typeof TOKEN_TYPE_INPUT | typeof TOKEN_TYPE_OUTPUT;
/** TinyLLM's `error_type` values. */
export const REQUEST_ERROR_TIMEOUT = 'timeout' as const;
export const REQUEST_ERROR_CONNECTION = 'connection' as const;
export const REQUEST_ERROR_HTTP_4XX = 'http_4xx' as const;
export const REQUEST_ERROR_HTTP_5XX = 'http_5xx' as const;
export const REQUEST_ERROR_ABORTED = 'aborted' as const;
export const REQUEST_ERROR_MALFORMED_RESPONSE = 'malformed_response' as const;
export type RequestErrorType =
  | typeof REQUEST_ERROR_TIMEOUT | typeof REQUEST_ERROR_CONNECTION | typeof REQUEST_ERROR_HTTP_4XX
  | typeof REQUEST_ERROR_HTTP_5XX | typeof REQUEST_ERROR_ABORTED | typeof REQUEST_ERROR_MALFORMED_RESPONSE;
/** Circuit breaker states as TinyLLM names them. */
export const BREAKER_STATE_CLOSED = 'closed' as const;
export const BREAKER_STATE_HALF_OPEN = 'half-open' as const;
export const BREAKER_STATE_OPEN = 'open' as const;
export type BreakerStateName = typeof BREAKER_STATE_CLOSED | typeof BREAKER_STATE_HALF_OPEN | typeof BREAKER_STATE_OPEN;

/** The poller's labels: a backend's identity, its kind and model, a finished reason, Dynamo's. */
export const LABEL_BACKEND_URL = 'backend.url' as const;
export const LABEL_BACKEND_KIND = 'backend.kind' as const;
export const LABEL_BACKEND_NAME = 'backend.name' as const;
export const LABEL_FINISHED_REASON = 'reason' as const;
export const LABEL_STATUS = 'status' as const;
export const LABEL_COMPONENT = 'component' as const;
export const LABEL_ENDPOINT = 'endpoint' as const;
export const PROGRAM_STATUS_REASONING = 'reasoning' as const;
export const PROGRAM_STATUS_ACTING = 'acting' as const;

/** The poller's series, after the prefix (`<prefix>_backend_up`, …). */
export const METRIC_BACKEND_UP = 'backend_up' as const;
export const METRIC_BACKEND_INFO = 'backend_info' as const;
export const METRIC_BACKEND_REQUESTS_RUNNING = 'backend_requests_running' as const;
export const METRIC_BACKEND_REQUESTS_WAITING = 'backend_requests_waiting' as const;
export const METRIC_BACKEND_KV_CACHE_USAGE = 'backend_kv_cache_usage' as const;
export const METRIC_BACKEND_PREFIX_CACHE_HIT_RATE = 'backend_prefix_cache_hit_rate' as const;
export const METRIC_BACKEND_PREFIX_CACHE_HIT_RATE_WINDOW = 'backend_prefix_cache_hit_rate_window' as const;
export const METRIC_BACKEND_CAPACITY_TOKENS = 'backend_capacity_tokens' as const;
export const METRIC_BACKEND_ENGINES = 'backend_engines' as const;
export const METRIC_BACKEND_USED_TOKENS = 'backend_used_tokens' as const;
export const METRIC_BACKEND_PROMPT_TOKENS_TOTAL = 'backend_prompt_tokens_total' as const;
export const METRIC_BACKEND_GENERATION_TOKENS_TOTAL = 'backend_generation_tokens_total' as const;
export const METRIC_BACKEND_PREEMPTIONS_TOTAL = 'backend_preemptions_total' as const;
export const METRIC_BACKEND_REQUESTS_FINISHED_TOTAL = 'backend_requests_finished_total' as const;
export const METRIC_BACKEND_ACTIVE_PROGRAMS = 'backend_active_programs' as const;
export const METRIC_BACKEND_PROGRAM_TOKENS = 'backend_program_tokens' as const;
export const METRIC_BACKEND_SHARED_TOKENS = 'backend_shared_tokens' as const;
export const METRIC_BACKEND_CAPACITY_OVERFLOW_TOKENS = 'backend_capacity_overflow_tokens' as const;

/** A series name under the configurable prefix: `prefixed('agentic', METRIC_REQUESTS_TOTAL)`. */
export function prefixed(prefix: string, name: string): string {
  return prefix + '_' + name;
}

/** The `chat {model}` span's name (GenAI conventions: operation, then the model when known). */
export function operationSpanName(operation: string, model: string | undefined): string {
  return model === undefined ? operation : operation + ' ' + model;
}

/** Omni span names for a stage (`omni.stage 0 thinker`) and a transfer edge (`omni.transfer 0->1`). */
export const SPAN_OMNI_STAGE = 'omni.stage' as const;
export const SPAN_OMNI_TRANSFER = 'omni.transfer' as const;
export function omniStageSpanName(id: string | number, name: string | undefined): string {
  return name === undefined ? SPAN_OMNI_STAGE + ' ' + String(id) : SPAN_OMNI_STAGE + ' ' + String(id) + ' ' + name;
}
export function omniTransferSpanName(edge: string): string {
  return SPAN_OMNI_TRANSFER + ' ' + edge;
}

/** NVIDIA Dynamo's aggregate series and labels (shared/reference/dynamo-metrics-component.md). */
export const METRIC_LLM_KV_BLOCKS_ACTIVE = 'llm_kv_blocks_active' as const;
export const METRIC_LLM_KV_BLOCKS_TOTAL = 'llm_kv_blocks_total' as const;
export const METRIC_LLM_REQUESTS_ACTIVE_SLOTS = 'llm_requests_active_slots' as const;
export const METRIC_LLM_REQUESTS_TOTAL_SLOTS = 'llm_requests_total_slots' as const;
export const METRIC_LLM_LOAD_AVG = 'llm_load_avg' as const;
export const METRIC_LLM_LOAD_STD = 'llm_load_std' as const;
export const METRIC_LLM_KV_HIT_RATE_PERCENT = 'llm_kv_hit_rate_percent' as const;
export const LABEL_WORKER_ID = 'worker_id' as const;

/** An omni stage's or transfer's statistic as a span attribute (`omni.stage.<field>`, `omni.transfer.<field>`). */
export const ATTR_OMNI_STAGE_PREFIX = 'omni.stage.' as const;
export const ATTR_OMNI_TRANSFER_PREFIX = 'omni.transfer.' as const;
export const ATTR_OMNI_TRANSFER_TOTAL_TIME_MS = 'omni.transfer.total_time_ms' as const;
export function omniStageAttribute(field: string): string {
  return ATTR_OMNI_STAGE_PREFIX + field;
}
export function omniTransferAttribute(field: string): string {
  return ATTR_OMNI_TRANSFER_PREFIX + field;
}
