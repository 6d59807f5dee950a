/**
 * Public configuration and data types. Nothing here imports from the rest of the package.
 */

/** Configuration of {@link AgenticInstrumentation}. */
export interface AgenticInstrumentationConfig {
  /**
   * Whether the instrumentation enables itself on construction, as every OpenTelemetry
   * instrumentation does.
   * @default true
   */
  enabled?: boolean;
  /**
   * Request paths (without query string) that are OpenAI-compatible completions. Only POST
   * requests to these paths become agent steps; everything else passes through untouched.
   * @default ['/v1/chat/completions', '/v1/completions']
   */
  paths?: string[];
  /**
   * Install the interceptor on the process-wide undici dispatcher, which Node's global `fetch`
   * (and so the official `openai` client) and the `undici` package use. Turn it off when the
   * application sends through its own dispatcher and composes {@link AgenticInstrumentation.interceptor}
   * onto it.
   * @default true
   */
  installGlobalDispatcher?: boolean;
  /**
   * Record message content (`gen_ai.input.messages`, `gen_ai.output.messages`). Also on when
   * the environment variable `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is `true`.
   * @default false
   */
  captureContent?: boolean;
  /**
   * When a streaming request does not ask for `stream_options.include_usage`, ask for it, so
   * that the engine sends token usage (and cached tokens). The usage-only chunk this adds is
   * taken back out of the response: the application receives what it would without us (see
   * the README for the one engine-side difference that can remain).
   * @default true
   */
  injectIncludeUsage?: boolean;
  /**
   * Inject W3C `traceparent` / `tracestate` into the outgoing request, so that an engine
   * started with `--otlp-traces-endpoint` puts its own span inside our `chat` span.
   * @default true
   */
  propagateTraceContext?: boolean;
  /**
   * Which engines receive `traceparent` / `tracestate` / `baggage`: origins
   * (`http://h:8000`), hosts (`h:8000`), host names (`h`) or patterns tested against the
   * origin, or a function of the request's origin. A request that already carries a
   * `traceparent` of the application's keeps it. `propagateTraceContext: false` turns all of
   * it off.
   * @default every origin
   */
  propagateTo?: (string | RegExp)[] | ((origin: URL) => boolean);
  /**
   * `gen_ai.provider.name` of every request.
   * @default 'vllm'
   */
  providerName?: string;
  /**
   * A program whose last request ended longer ago than this, and that has none in flight,
   * is forgotten: its next request starts again at step 1 with no tool_call phase.
   * @default 1800000 (30 minutes)
   */
  programIdleTimeoutMs?: number;
  /**
   * Per-step profiles as ThunderAgent writes them: `{dir}/step_profiles.csv` and the
   * `/profiles` views. `true` uses `<os tmpdir>/agentic_otel_profiles`. The environment variable
   * `AGENTIC_OTEL_PROFILE_DIR` also turns it on, with that directory.
   * @default false
   * `extended: true` appends `error_type` and `inference_s` to ThunderAgent's eight columns (see
   * the README for both headers); a file is never written in two shapes.
   */
  profile?: boolean | { dir?: string; extended?: boolean };
  /**
   * Serve ThunderAgent's JSON views over HTTP: `GET /profiles`, `/profiles/{program_id}`,
   * `/programs`, `/health`. Off unless given.
   * @default undefined (host defaults to 127.0.0.1)
   */
  statusServer?: { port: number; host?: string };
  /**
   * Prefix of TinyLLM's series: `<prefix>_requests_total`, … `'tinyllm'` makes the Prometheus
   * exposition a drop-in for TinyLLM's queries and panels.
   * @default 'agentic'
   */
  metricPrefix?: string;
  /**
   * A circuit breaker per backend (host:port): open after `threshold` consecutive failures
   * (connection, timeout, 5xx, malformed responses), half-open after `cooldownMs`, closed on the
   * next success. Observe-only unless `failFast`: then a request to an open backend fails at
   * once with a `CircuitOpenError`, without being sent.
   * @default { threshold: 5, cooldownMs: 30000, failFast: false }
   */
  circuitBreaker?: { threshold?: number; cooldownMs?: number; failFast?: boolean };
  /**
   * Engines to poll for their own stats (KV cache, queue, prefix cache, preemptions):
   * `{ url, kind?: 'vllm' | 'sglang' | 'skyrl', name?, slots? }`; `kind` is detected from the first
   * response when absent. Published as observable gauges and as `instrumentation.backends`.
   */
  backends?: { url: string; kind?: 'vllm' | 'sglang' | 'skyrl'; name?: string; slots?: number }[];
  /**
   * How `gen_ai.client.operation.time_per_output_chunk` is recorded, for streamed requests:
   * - `'perStream'`: one record per stream, the stream's mean time per output chunk (from its
   *   first chunk to its last, divided by the chunks after the first). The histogram then
   *   describes streams, as vLLM's `request_time_per_output_token_seconds` does: its count is
   *   the number of streams, its sum the sum of their means.
   * - `'perChunk'`: one record per chunk after the first, as the GenAI conventions describe it
   *   (the time since the previous chunk; chunks that arrive in one read record 0). It costs one
   *   `Histogram.record` per chunk in the SDK (see docs/performance.md).
   * - `'off'`: not recorded.
   * @default 'perStream'
   */
  timePerOutputChunk?: 'perChunk' | 'perStream' | 'off';
  /**
   * vLLM-omni: how many of the latest requests `instrumentation.omni`'s tables keep (the summary
   * covers every request, in bounded memory).
   * @default { tableRequests: 1000 }
   */
  omni?: { tableRequests?: number };
  /**
   * Per-request engine snapshots: the engine's own timings of each successful request (queue,
   * prefill, decode, TTFT, e2e, tokens) on its `chat` span as `agentic.engine.*`, from captures
   * of the engine's `/metrics` before and after it; with `dir`, the raw captures as
   * `{request_id}_{before|after}_{YYYYMMDD_HHMMSS_micro}.txt` (`npx agentic-otel snapshots analyze
   * <dir>`). `backends` picks among the configured `backends` by name or URL (default all).
   * Retention: `maxFiles` (default 10000) and `maxAgeMs` (default 7 days). The chat span waits at
   * most `maxWaitMs` (default 2000) for the capture after the request. Off unless given.
   */
  snapshots?: { dir?: string; backends?: string[]; maxFiles?: number; maxAgeMs?: number; maxWaitMs?: number };
  /**
   * How long a failed request of a program may wait for its client's retry to continue the same
   * step (attempts of one logical request). The `openai` client says so itself
   * (`x-stainless-retry-count`); for clients that retry silently, the same bytes sent again by
   * the same explicitly named program, with nothing else of it in flight, after a retriable
   * failure. A failed step whose retry does not come within the window ends then (and at
   * shutdown or exit).
   * @default 60000
   */
  retryWindowMs?: number;
  /** @default 5000 */
  pollIntervalMs?: number;
  /** @default min(pollIntervalMs, 10000) */
  pollTimeoutMs?: number;
}

/** Options of {@link withProgram}. */
export interface ProgramOptions {
  /** The agent's name: `gen_ai.agent.name` on the program's steps. */
  agent?: string;
}

/** The time a step spent in each phase, in seconds. */
export interface StepPhases {
  toolCallS: number;
  pauseS: number;
  prefillS: number;
  decodeS: number;
  /** Non-streamed requests only: start → end. */
  inferenceS?: number;
}

/** One finished agent step, as every consumer of steps (profiles, metrics) sees it. */
export interface StepRecord {
  programId: string;
  agentName?: string;
  /** 1-based per program. */
  stepId: number;
  model?: string;
  operation: 'chat' | 'text_completion';
  streamed: boolean;
  phases: StepPhases;
  /** cached_tokens / prompt_tokens, when the engine reported cached tokens. */
  kvHitRate?: number;
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  totalTokens?: number;
  finishReasons: string[];
  /** The engine the request went to (its origin, e.g. `http://127.0.0.1:8000`). */
  backend?: string;
  /** `server.address` / `server.port` of the engine. */
  serverAddress?: string;
  serverPort?: number;
  /** The model the request asked for (`model` is the one that answered, when known). */
  requestModel?: string;
  /** Set when the request failed; the low-cardinality `error.type`. */
  errorType?: string;
  /** The engine's response id (`chatcmpl-…`), when it sent one. */
  responseId?: string;
  /** Attempts the step took (retries and followed redirects included); 1 for most steps. */
  attempts: number;
  /** The wait the last attempt's response asked for (`retry-after` / `retry-after-ms`), seconds. */
  retryAfterS?: number;
  /** Epoch milliseconds: the request reached us (its first attempt). */
  arriveTime: number;
  /** Epoch milliseconds: the attempt that counts (the last) started on a connection; prefill begins here. */
  startTime: number;
  endTime: number;
}

/**
 * undici's `Dispatcher.Dispatch`, written structurally so that our declarations need no `undici`
 * types: a consumer without the optional `undici` peer compiles, and one with undici 7 can hand
 * {@link DispatchInterceptor} to `Agent.compose()`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DispatchFunction = (options: any, handler: any) => boolean;

/** undici's `Dispatcher.DispatcherComposeInterceptor`: `new Agent().compose(interceptor)`. */
export type DispatchInterceptor = (dispatch: DispatchFunction) => DispatchFunction;
