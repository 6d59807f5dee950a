/**
 * Public types of the engine simulator.
 */

/** A fault the simulator can apply to a request. */
export type SimFault =
  /** Answer 500 with vLLM's error body. */
  | 'http_500'
  /** Answer 429 with `retry-after` (whole seconds, rounded up) and `retry-after-ms` (`retryAfterMs`). */
  | 'http_429'
  /** Accept the request and never send headers. */
  | 'stall'
  /** Stream some chunks, then destroy the connection midway. */
  | 'cut'
  /** Send one chunk that is not JSON, then go on normally. */
  | 'malformed'
  /** Destroy the connection as soon as the request arrives. */
  | 'reset';

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** The served model. @default 'sim-llama-3-8b' */
  model?: string;
  /** Requests in the running batch; more wait in the queue. @default 16 */
  maxRunning?: number;
  /** Fixed prefill cost of a request, ms. @default 2 */
  prefillBaseMs?: number;
  /** Prefill cost per uncached prompt token, ms. @default 0.02 */
  prefillMsPerToken?: number;
  /** Time per generated token, ms. @default 4 */
  decodeMsPerToken?: number;
  /** Tokens generated when the request sets no max_tokens. @default 24 */
  defaultMaxTokens?: number;
  /** Prefix-cache block size, tokens. @default 16 */
  blockSize?: number;
  /** Prefix-cache capacity, blocks. @default 4096 */
  numGpuBlocks?: number;
  /** Report `usage.prompt_tokens_details.cached_tokens` (vLLM's --enable-prompt-tokens-details). @default true */
  promptTokensDetails?: boolean;
  /** With the `http_429` fault: the wait it asks for, ms. @default 100 */
  retryAfterMs?: number;
  /** With the `cut` fault: chunks sent before the cut. @default 3 */
  cutAfterChunks?: number;
  /** Which engine `/metrics` imitates (SGLang also serves `/get_server_info`). @default 'vllm' */
  flavor?: 'vllm' | 'sglang' | 'skyrl';
}

/** What the simulator actually did to one request: the ground truth tests compare with. */
export interface SimRequestRecord {
  /** The completion id it answered with (`chatcmpl-…`). */
  id: string;
  /** `program_id` / `extra_body.program_id` / `x-program-id` as the engine received it. */
  programId: string | undefined;
  stream: boolean;
  /** `traceparent` header as received. */
  traceparent: string | undefined;
  /** Whether the request asked for `stream_options.include_usage`. */
  includeUsage: boolean;
  fault: SimFault | undefined;
  /** Epoch ms (same clock as `performance.timeOrigin + performance.now()`). */
  receivedAt: number;
  startedAt: number | undefined;
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  finishedAt: number | undefined;
  /** startedAt − receivedAt. */
  queueMs: number | undefined;
  /** firstTokenAt − startedAt. */
  prefillMs: number | undefined;
  /** lastTokenAt − firstTokenAt. */
  decodeMs: number | undefined;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** SSE data events written, `[DONE]` excluded. */
  chunksSent: number;
  finishReason: string | undefined;
}

/** A running simulator. */
export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  readonly port: number;
  readonly model: string;
  /** Every request so far, in arrival order. */
  requests(): readonly SimRequestRecord[];
  /** The record of the request answered with completion id `id`. */
  request(id: string): SimRequestRecord | undefined;
  /** Applies `fault` to the next `count` completion requests. */
  injectFault(fault: SimFault, count?: number): void;
  /** Refuse connections (close the listener and every open socket) until called with false. */
  refuse(on: boolean): Promise<void>;
  /** Requests running and waiting now. */
  load(): { running: number; waiting: number };
  close(): Promise<void>;
}
