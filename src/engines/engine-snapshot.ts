/**
 * Engine mappers: one normalised snapshot from what vLLM, SGLang or SkyRL expose
 * (shared/reference/engines.md). Pure. Two of ThunderAgent's bugs are not copied: numbers are
 * parsed properly (exponents), and every series is aggregated, not only engine 0's.
 */
import * as sc from '../semconv.js';
import { samplesNamed, type PromParseResult, type PromSample } from '../prometheus/parse-prometheus-text.js';
import { checkSnapshot, uniqueSamples } from './snapshot-checks.js';

/** The samples of one series name, each label set once. */
const named = (p: PromParseResult, name: string, problems: string[]): PromSample[] => uniqueSamples(samplesNamed(p, name), name, problems);

export type EngineKind = 'vllm' | 'sglang' | 'skyrl';

/** KV-cache geometry; unknown stays unknown (never 0, never NaN). */
export interface CacheConfig {
  blockSize?: number;
  numGpuBlocks?: number;
  /** blockSize × numGpuBlocks summed over engines, or the engine's own token capacity. */
  capacityTokens?: number;
}

/** One poll of one backend. Counters are cumulative; undefined means the engine does not say. */
export interface EngineSnapshot {
  kind: EngineKind;
  model?: string;
  /** Engines (data-parallel ranks) behind the backend. */
  engines: number;
  running?: number;
  waiting?: number;
  /** 0..1, capacity-weighted over engines. */
  kvCacheUsage?: number;
  /** Prefix-cache lookups and hits, in tokens (SGLang: prompt and cached tokens). */
  prefixCacheQueries?: number;
  prefixCacheHits?: number;
  /** hits / queries since start; V0's own gauge when that is all there is. */
  prefixCacheHitRate?: number;
  promptTokens?: number;
  generationTokens?: number;
  preemptions?: number;
  finishedByReason: Record<string, number>;
  cache: CacheConfig;
  /** SGLang's `num_used_tokens`: tokens the KV cache holds now. */
  usedTokens?: number;
  /** Request slots (max running requests) from the engine's own arguments (SGLang's server info). */
  totalSlots?: number;
  /** What the checks dropped or doubted, for the poller to report once (snapshot-checks.ts). */
  problems?: string[];
}

/** The sum of the finite values; undefined when there are none (NaN everywhere is unknown, not 0). */
const sum = (samples: PromSample[]): number | undefined => {
  let total: number | undefined;
  for (const x of samples) if (Number.isFinite(x.value)) total = (total ?? 0) + x.value;
  return total;
};
const first = (...lists: PromSample[][]): PromSample[] => lists.find((l) => l.length > 0) ?? [];
const positiveInt = (v: string | undefined): number | undefined => {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/** vLLM, V1 names first, V0 names as fallback; every `engine` series aggregated. */
export function mapVllm(p: PromParseResult): EngineSnapshot {
  const problems: string[] = [];
  const running = named(p, sc.ENGINE_VLLM_NUM_REQUESTS_RUNNING, problems);
  const waiting = named(p, sc.ENGINE_VLLM_NUM_REQUESTS_WAITING, problems);
  const usage = first(named(p, sc.ENGINE_VLLM_KV_CACHE_USAGE_PERC, problems), named(p, sc.ENGINE_VLLM_GPU_CACHE_USAGE_PERC, problems));
  const queries = first(named(p, sc.ENGINE_VLLM_PREFIX_CACHE_QUERIES_TOTAL, problems), named(p, sc.ENGINE_VLLM_GPU_PREFIX_CACHE_QUERIES_TOTAL, problems));
  const hits = first(named(p, sc.ENGINE_VLLM_PREFIX_CACHE_HITS_TOTAL, problems), named(p, sc.ENGINE_VLLM_GPU_PREFIX_CACHE_HITS_TOTAL, problems));
  // Per-engine capacity from cache_config_info, for the weights and the total.
  const capacityByEngine = new Map<string, number>();
  let blockSize: number | undefined;
  let numGpuBlocks: number | undefined;
  for (const s of named(p, sc.ENGINE_VLLM_CACHE_CONFIG_INFO, problems)) {
    const bs = positiveInt(s.labels['block_size']);
    const nb = positiveInt(s.labels['num_gpu_blocks']);
    blockSize ??= bs;
    if (nb !== undefined) numGpuBlocks = (numGpuBlocks ?? 0) + nb;
    if (bs !== undefined && nb !== undefined) capacityByEngine.set(s.labels['engine'] ?? '0', bs * nb);
  }
  const engines = new Set([...running, ...usage].map((s) => s.labels['engine'] ?? '0'));
  const snapshot: EngineSnapshot = { kind: 'vllm', engines: Math.max(1, engines.size), finishedByReason: {}, cache: {} };
  const model = running[0]?.labels['model_name'] ?? usage[0]?.labels['model_name'];
  if (model !== undefined) snapshot.model = model;
  const r = sum(running);
  if (r !== undefined) snapshot.running = r;
  const w = sum(waiting);
  if (w !== undefined) snapshot.waiting = w;
  const finite = usage.filter((s) => Number.isFinite(s.value));
  if (finite.length > 0) {
    let weight = 0;
    let total = 0;
    for (const s of finite) {
      const wgt = capacityByEngine.get(s.labels['engine'] ?? '0') ?? 1;
      weight += wgt;
      total += wgt * s.value;
    }
    snapshot.kvCacheUsage = total / weight;
  }
  const q = sum(queries);
  const hh = sum(hits);
  if (q !== undefined) snapshot.prefixCacheQueries = q;
  if (hh !== undefined) snapshot.prefixCacheHits = hh;
  if (q !== undefined && hh !== undefined && q > 0) snapshot.prefixCacheHitRate = hh / q;
  else {
    const v0 = named(p, sc.ENGINE_VLLM_GPU_PREFIX_CACHE_HIT_RATE, problems).find((s) => s.value >= 0);
    if (v0 !== undefined) snapshot.prefixCacheHitRate = v0.value; // V0's gauge; -1 means unknown
  }
  const prompt = sum(named(p, sc.ENGINE_VLLM_PROMPT_TOKENS_TOTAL, problems));
  if (prompt !== undefined) snapshot.promptTokens = prompt;
  const gen = sum(named(p, sc.ENGINE_VLLM_GENERATION_TOKENS_TOTAL, problems));
  if (gen !== undefined) snapshot.generationTokens = gen;
  const pre = sum(named(p, sc.ENGINE_VLLM_NUM_PREEMPTIONS_TOTAL, problems));
  if (pre !== undefined) snapshot.preemptions = pre;
  for (const s of named(p, sc.ENGINE_VLLM_REQUEST_SUCCESS_TOTAL, problems)) {
    const reason = s.labels['finished_reason'] ?? 'unknown';
    snapshot.finishedByReason[reason] = (snapshot.finishedByReason[reason] ?? 0) + s.value;
  }
  if (blockSize !== undefined) snapshot.cache.blockSize = blockSize;
  if (numGpuBlocks !== undefined) snapshot.cache.numGpuBlocks = numGpuBlocks;
  if (capacityByEngine.size > 0) snapshot.cache.capacityTokens = [...capacityByEngine.values()].reduce((a, b) => a + b, 0);
  return checkSnapshot(snapshot, problems);
}

/**
 * SGLang: ranks summed; the hit rate from the cached / prompt token counters (the
 * `cache_hit_rate` gauge is reset on every decode log line, so it is not used); capacity from
 * `GET /get_server_info` when given.
 */
export function mapSglang(p: PromParseResult, serverInfo?: unknown): EngineSnapshot {
  const problems: string[] = [];
  const running = named(p, sc.ENGINE_SGLANG_NUM_RUNNING_REQS, problems);
  const snapshot: EngineSnapshot = { kind: 'sglang', engines: Math.max(1, running.length), finishedByReason: {}, cache: {} };
  const model = running[0]?.labels['model_name'];
  if (model !== undefined) snapshot.model = model;
  const r = sum(running);
  if (r !== undefined) snapshot.running = r;
  const w = sum(named(p, sc.ENGINE_SGLANG_NUM_QUEUE_REQS, problems));
  if (w !== undefined) snapshot.waiting = w;
  const usage = named(p, sc.ENGINE_SGLANG_TOKEN_USAGE, problems).filter((s) => Number.isFinite(s.value));
  if (usage.length > 0) snapshot.kvCacheUsage = usage.reduce((s, x) => s + x.value, 0) / usage.length;
  const prompt = sum(named(p, sc.ENGINE_SGLANG_PROMPT_TOKENS_TOTAL, problems));
  if (prompt !== undefined) snapshot.promptTokens = prompt;
  const gen = sum(named(p, sc.ENGINE_SGLANG_GENERATION_TOKENS_TOTAL, problems));
  if (gen !== undefined) snapshot.generationTokens = gen;
  const cached = sum(named(p, sc.ENGINE_SGLANG_CACHED_TOKENS_TOTAL, problems));
  if (cached !== undefined && prompt !== undefined) {
    snapshot.prefixCacheHits = cached;
    snapshot.prefixCacheQueries = prompt;
    if (prompt > 0) snapshot.prefixCacheHitRate = cached / prompt;
  }
  const aborted = sum(named(p, sc.ENGINE_SGLANG_NUM_ABORTED_REQUESTS_TOTAL, problems));
  if (aborted !== undefined) snapshot.finishedByReason['abort'] = aborted;
  const capacity = sglangCapacity(serverInfo);
  if (capacity !== undefined) snapshot.cache.capacityTokens = capacity;
  // SGLang's KV "page" is its block: `page_size` (top level or under server_info).
  const info = (serverInfo ?? {}) as Record<string, unknown>;
  const page = info['page_size'] ?? (info['server_info'] as Record<string, unknown> | undefined)?.['page_size'];
  if (typeof page === 'number' && page > 0) {
    snapshot.cache.blockSize = page;
    if (capacity !== undefined) snapshot.cache.numGpuBlocks = Math.floor(capacity / page);
  }
  const used = sum(named(p, sc.ENGINE_SGLANG_NUM_USED_TOKENS, problems));
  if (used !== undefined) snapshot.usedTokens = used;
  const slots = sglangMaxRunning(serverInfo);
  if (slots !== undefined) snapshot.totalSlots = slots;
  return checkSnapshot(snapshot, problems);
}

/** `max_total_num_tokens` (top level or under `server_info`), else the largest `internal_states[].memory_usage.token_capacity`. */
export function sglangCapacity(info: unknown): number | undefined {
  if (info === null || typeof info !== 'object') return undefined;
  const o = info as Record<string, unknown>;
  const nested = (o['server_info'] ?? {}) as Record<string, unknown>;
  const direct = o['max_total_num_tokens'] ?? nested['max_total_num_tokens'];
  if (typeof direct === 'number' && direct > 0) return direct;
  let best: number | undefined;
  const states = o['internal_states'];
  if (Array.isArray(states)) {
    for (const st of states) {
      const cap = (st as { memory_usage?: { token_capacity?: unknown } })?.memory_usage?.token_capacity;
      if (typeof cap === 'number' && cap > 0 && (best === undefined || cap > best)) best = cap;
    }
  }
  return best;
}

/** SkyRL's JSON: engines carrying `error` are skipped; running / waiting / preemptions summed, KV usage averaged. */
export function mapSkyrl(json: unknown): EngineSnapshot {
  const snapshot: EngineSnapshot = { kind: 'skyrl', engines: 0, finishedByReason: {}, cache: {} };
  const engines = json !== null && typeof json === 'object' && Array.isArray((json as { engines?: unknown }).engines) ? ((json as { engines: unknown[] }).engines) : [];
  let usage = 0;
  let usageN = 0;
  let capacity = 0;
  for (const e of engines) {
    if (e === null || typeof e !== 'object' || 'error' in e) continue;
    const x = e as Record<string, unknown>;
    snapshot.engines++;
    const num = (k: string) => (typeof x[k] === 'number' && Number.isFinite(x[k]) ? (x[k] as number) : undefined);
    const add = (field: 'running' | 'waiting' | 'preemptions', v: number | undefined) => {
      if (v !== undefined) snapshot[field] = (snapshot[field] ?? 0) + v;
    };
    add('running', num('num_running_reqs'));
    add('waiting', num('num_waiting_reqs'));
    add('preemptions', num('num_cumulative_preemption'));
    const pct = num('kv_cache_usage_pct');
    if (pct !== undefined) {
      usage += pct / 100;
      usageN++;
    }
    const bs = num('block_size');
    const nb = num('num_gpu_blocks');
    if (bs !== undefined && nb !== undefined && bs > 0 && nb > 0) {
      capacity += bs * nb;
      snapshot.cache.blockSize ??= bs;
      snapshot.cache.numGpuBlocks = (snapshot.cache.numGpuBlocks ?? 0) + nb;
    }
  }
  if (usageN > 0) snapshot.kvCacheUsage = usage / usageN;
  if (capacity > 0) snapshot.cache.capacityTokens = capacity;
  return snapshot;
}

/** `max_running_requests` of SGLang's server arguments (top level or under `server_info`). */
export function sglangMaxRunning(info: unknown): number | undefined {
  if (info === null || typeof info !== 'object') return undefined;
  const o = info as Record<string, unknown>;
  const v = o['max_running_requests'] ?? (o['server_info'] as Record<string, unknown> | undefined)?.['max_running_requests'];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}
