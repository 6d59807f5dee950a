/**
 * The simulator's `/metrics`, in the three flavours engines print (shared/reference/engines.md),
 * from its real state: running, waiting, KV blocks in use, prefix-cache lookups and hits,
 * tokens, preemptions, finished requests. Pure: state in, text or JSON out.
 */
import type { EngineCounters } from './engine.js';
import { LATENCY_BUCKETS, type LatencyHistogram } from './latency.js';

/** Which engine the simulator's `/metrics` imitates. */
export type SimFlavor = 'vllm' | 'sglang' | 'skyrl';

export interface EngineState {
  model: string;
  running: number;
  waiting: number;
  blocksInUse: number;
  numGpuBlocks: number;
  blockSize: number;
  maxRunning: number;
  counters: EngineCounters;
  /** Epoch seconds the engine started (for `_created`). */
  startedAt: number;
}

/** Python's repr of a float as prometheus_client prints it: `0.0`, `18.0`, `8.128902e+06`, `9.75e-06`. */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  if (v !== 0 && (Math.abs(v) >= 1e16 || Math.abs(v) < 1e-4)) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** vLLM V1: `engine` label, `_created` gauges, `cache_config_info`. */
export function renderVllm(s: EngineState): string {
  const l = `engine="0",model_name="${s.model}"`;
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${l}} ${pyFloat(value)}`);
  const counter = (name: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name}_total ${help}`, `# TYPE ${name}_total counter`);
    for (const [labels, v] of samples) lines.push(`${name}_total{${labels}} ${pyFloat(v)}`);
    lines.push(`# HELP ${name}_created ${help}`, `# TYPE ${name}_created gauge`);
    for (const [labels] of samples) lines.push(`${name}_created{${labels}} ${pyFloat(s.startedAt)}`);
  };
  const c = s.counters;
  gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', s.running);
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', s.waiting);
  gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', s.blocksInUse / s.numGpuBlocks);
  counter('vllm:prefix_cache_queries', 'Prefix cache queries, in terms of number of queried tokens.', [[l, c.prefixQueries]]);
  counter('vllm:prefix_cache_hits', 'Prefix cache hits, in terms of number of cached tokens.', [[l, c.prefixHits]]);
  counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.', [[l, c.preemptions]]);
  counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', [[l, c.promptTokens]]);
  counter('vllm:generation_tokens', 'Number of generation tokens processed.', [[l, c.generationTokens]]);
  counter('vllm:request_success', 'Count of successfully processed requests.', ['stop', 'length', 'abort'].map((r) => [`engine="0",finished_reason="${r}",model_name="${s.model}"`, c.finished[r === 'length' ? 'length' : r] ?? 0] as [string, number]).concat([[`engine="0",finished_reason="tool_calls",model_name="${s.model}"`, c.finished['tool_calls'] ?? 0]]));
  const histogram = (name: string, help: string, h: LatencyHistogram) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    LATENCY_BUCKETS.forEach((le, i) => lines.push(`${name}_bucket{${l},le="${pyFloat(le)}"} ${pyFloat(h.buckets[i] as number)}`));
    lines.push(`${name}_bucket{${l},le="+Inf"} ${pyFloat(h.count)}`, `${name}_count{${l}} ${pyFloat(h.count)}`, `${name}_sum{${l}} ${pyFloat(h.sum)}`);
    lines.push(`# HELP ${name}_created ${help}`, `# TYPE ${name}_created gauge`, `${name}_created{${l}} ${pyFloat(s.startedAt)}`);
  };
  const h = c.latency;
  histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', h.ttft);
  histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', h.e2e);
  histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', h.queue);
  histogram('vllm:request_inference_time_seconds', 'Histogram of time spent in RUNNING phase for request.', h.inference);
  histogram('vllm:request_prefill_time_seconds', 'Histogram of time spent in PREFILL phase for request.', h.prefill);
  histogram('vllm:request_decode_time_seconds', 'Histogram of time spent in DECODE phase for request.', h.decode);
  lines.push('# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig', '# TYPE vllm:cache_config_info gauge');
  lines.push(`vllm:cache_config_info{block_size="${s.blockSize}",cache_dtype="auto",enable_prefix_caching="True",engine="0",gpu_memory_utilization="0.9",num_cpu_blocks="None",num_gpu_blocks="${s.numGpuBlocks}",num_gpu_blocks_override="None"} 1.0`);
  return lines.join('\n') + '\n';
}

/** SGLang: `model_name` label, running / queued / usage gauges, token counters. */
export function renderSglang(s: EngineState): string {
  const l = `model_name="${s.model}"`;
  const c = s.counters;
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, v: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${l}} ${pyFloat(v)}`);
  metric('sglang:num_running_reqs', 'gauge', 'The number of running requests.', s.running);
  metric('sglang:num_queue_reqs', 'gauge', 'The number of requests in the waiting queue.', s.waiting);
  metric('sglang:num_used_tokens', 'gauge', 'The number of used tokens.', s.blocksInUse * s.blockSize);
  metric('sglang:token_usage', 'gauge', 'The token usage.', s.blocksInUse / s.numGpuBlocks);
  metric('sglang:cache_hit_rate', 'gauge', 'The prefix cache hit rate (reset on every decode log: do not use).', 0);
  metric('sglang:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', c.promptTokens);
  metric('sglang:generation_tokens_total', 'counter', 'Number of generation tokens processed.', c.generationTokens);
  metric('sglang:cached_tokens_total', 'counter', 'Number of cached prompt tokens.', c.prefixHits);
  metric('sglang:num_requests_total', 'counter', 'Number of requests processed.', Object.values(c.finished).reduce((a, b) => a + b, 0));
  return out.join('\n') + '\n';
}

/** SGLang's `GET /get_server_info`. */
export function sglangServerInfo(s: EngineState): unknown {
  return { model_path: s.model, max_total_num_tokens: s.numGpuBlocks * s.blockSize, page_size: s.blockSize };
}

/** SkyRL's `GET /metrics` JSON. */
export function renderSkyrl(s: EngineState): unknown {
  return {
    timestamp: Date.now() / 1000,
    engines: [{
      engine_id: 0,
      kv_cache_usage_pct: (100 * s.blocksInUse) / s.numGpuBlocks,
      num_running_reqs: s.running,
      num_waiting_reqs: s.waiting,
      num_cumulative_preemption: s.counters.preemptions,
      num_in_flight_requests: s.running + s.waiting,
      block_size: s.blockSize,
      num_gpu_blocks: s.numGpuBlocks,
    }],
  };
}
