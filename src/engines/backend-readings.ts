/**
 * What the poller's state says, as metric readings (one list that the in-process observable
 * gauges and `agentic-otel watch`'s own Prometheus endpoint both render), as ThunderAgent's
 * `GET /metrics` JSON, and as NVIDIA Dynamo's aggregate over workers
 * (shared/reference/dynamo-metrics-component.md). Pure: state in, readings out.
 */
import * as sc from '../semconv.js';
import { windowHitRate, type BackendState } from './backend-state.js';

/** One sample of a reading. */
export interface ReadingSample {
  labels: Record<string, string>;
  value: number;
}

/** One metric with its samples. */
export interface Reading {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: ReadingSample[];
}

/** A program as the request hook knows it (from the program views). */
export interface ProgramOnBackend {
  backend: string | null;
  status: 'reasoning' | 'acting';
  total_tokens: number | null;
}

/** ThunderAgent's per-backend program accounting. */
export interface ProgramAccounting {
  active_program_count: number;
  reasoning_program_count: number;
  acting_program_count: number;
  active_program_tokens: number;
  reasoning_program_tokens: number;
  acting_program_tokens: number;
  /** max(0, reasoning tokens − KV usage × capacity): context the running programs must share. */
  shared_tokens: number;
  /** max(0, active program tokens − capacity): context that does not fit at all. */
  capacity_overflow: number;
}

const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

/** Program accounting for one backend, as ThunderAgent computes it. */
export function programAccounting(b: BackendState, programs: readonly ProgramOnBackend[]): ProgramAccounting {
  const origin = originOf(b.url);
  let reasoning = 0;
  let acting = 0;
  let reasoningTokens = 0;
  let actingTokens = 0;
  for (const p of programs) {
    if (p.backend === null || originOf(p.backend) !== origin) continue;
    const tokens = p.total_tokens ?? 0;
    if (p.status === 'reasoning') {
      reasoning++;
      reasoningTokens += tokens;
    } else {
      acting++;
      actingTokens += tokens;
    }
  }
  const capacity = b.last?.snapshot.cache.capacityTokens;
  const usage = b.last?.snapshot.kvCacheUsage;
  return {
    active_program_count: reasoning + acting,
    reasoning_program_count: reasoning,
    acting_program_count: acting,
    active_program_tokens: reasoningTokens + actingTokens,
    reasoning_program_tokens: reasoningTokens,
    acting_program_tokens: actingTokens,
    shared_tokens: capacity !== undefined && usage !== undefined ? Math.max(0, reasoningTokens - usage * capacity) : 0,
    capacity_overflow: capacity !== undefined ? Math.max(0, reasoningTokens + actingTokens - capacity) : 0,
  };
}

/** Dynamo's aggregate labels. */
export interface DynamoLabels {
  component: string;
  endpoint: string;
}

/** Every reading: per-backend gauges and counters, program accounting, the Dynamo aggregate. */
export function backendReadings(prefix: string, backends: readonly BackendState[], programs: readonly ProgramOnBackend[] | undefined, dynamo: DynamoLabels = { component: 'backend', endpoint: 'generate' }): Reading[] {
  const r = (name: string, type: Reading['type'], help: string): Reading => ({ name, type, help, samples: [] });
  const up = r(sc.prefixed(prefix, sc.METRIC_BACKEND_UP), 'gauge', 'Whether the last poll of the backend succeeded');
  const info = r(sc.prefixed(prefix, sc.METRIC_BACKEND_INFO), 'gauge', 'The model and engine kind an up backend serves (always 1)');
  const running = r(sc.prefixed(prefix, sc.METRIC_BACKEND_REQUESTS_RUNNING), 'gauge', 'Requests in the running batch, all engines');
  const waiting = r(sc.prefixed(prefix, sc.METRIC_BACKEND_REQUESTS_WAITING), 'gauge', 'Requests queued, all engines');
  const kv = r(sc.prefixed(prefix, sc.METRIC_BACKEND_KV_CACHE_USAGE), 'gauge', 'KV cache usage, 0..1, capacity-weighted over engines');
  const hit = r(sc.prefixed(prefix, sc.METRIC_BACKEND_PREFIX_CACHE_HIT_RATE), 'gauge', 'Prefix-cache hit rate since the engine started (tokens)');
  const hitWindow = r(sc.prefixed(prefix, sc.METRIC_BACKEND_PREFIX_CACHE_HIT_RATE_WINDOW), 'gauge', 'Prefix-cache hit rate over the last 12 polls (tokens)');
  const capacity = r(sc.prefixed(prefix, sc.METRIC_BACKEND_CAPACITY_TOKENS), 'gauge', 'KV cache capacity in tokens');
  const engines = r(sc.prefixed(prefix, sc.METRIC_BACKEND_ENGINES), 'gauge', 'Engines behind the backend');
  const used = r(sc.prefixed(prefix, sc.METRIC_BACKEND_USED_TOKENS), 'gauge', 'Tokens the KV cache holds now (SGLang num_used_tokens)');
  const prompt = r(sc.prefixed(prefix, sc.METRIC_BACKEND_PROMPT_TOKENS_TOTAL), 'counter', 'Prompt tokens the engine processed');
  const generation = r(sc.prefixed(prefix, sc.METRIC_BACKEND_GENERATION_TOKENS_TOTAL), 'counter', 'Tokens the engine generated');
  const preemptions = r(sc.prefixed(prefix, sc.METRIC_BACKEND_PREEMPTIONS_TOTAL), 'counter', 'Preemptions');
  const finished = r(sc.prefixed(prefix, sc.METRIC_BACKEND_REQUESTS_FINISHED_TOTAL), 'counter', 'Requests finished, by reason');
  const out = [up, info, running, waiting, kv, hit, hitWindow, capacity, engines, used, prompt, generation, preemptions, finished];
  const activePrograms = r(sc.prefixed(prefix, sc.METRIC_BACKEND_ACTIVE_PROGRAMS), 'gauge', 'Agent programs whose last request went to the backend');
  const programTokens = r(sc.prefixed(prefix, sc.METRIC_BACKEND_PROGRAM_TOKENS), 'gauge', 'Context tokens of those programs, by status');
  const shared = r(sc.prefixed(prefix, sc.METRIC_BACKEND_SHARED_TOKENS), 'gauge', 'Reasoning programs\' tokens beyond what the KV cache holds');
  const overflow = r(sc.prefixed(prefix, sc.METRIC_BACKEND_CAPACITY_OVERFLOW_TOKENS), 'gauge', 'Active programs\' tokens beyond the KV capacity');
  if (programs !== undefined) out.push(activePrograms, programTokens, shared, overflow);

  const add = (reading: Reading, labels: Record<string, string>, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) reading.samples.push({ labels, value });
  };
  for (const b of backends) {
    // A backend's series carry its identity alone (URL, configured name), so `up` is one series
    // whatever the engine serves; what it serves is `backend_info`, which exists only while up.
    const labels: Record<string, string> = { [sc.LABEL_BACKEND_URL]: b.url, [sc.LABEL_BACKEND_NAME]: b.name };
    add(up, labels, b.up ? 1 : 0);
    if (b.up && b.last !== undefined) add(info, { ...labels, [sc.LABEL_MODEL]: b.last.snapshot.model ?? sc.LABEL_VALUE_UNKNOWN, [sc.LABEL_BACKEND_KIND]: b.kind ?? sc.LABEL_VALUE_UNKNOWN }, 1);
    if (programs !== undefined && b.up) {
      const a = programAccounting(b, programs);
      add(activePrograms, labels, a.active_program_count);
      add(programTokens, { ...labels, [sc.LABEL_STATUS]: sc.PROGRAM_STATUS_REASONING }, a.reasoning_program_tokens);
      add(programTokens, { ...labels, [sc.LABEL_STATUS]: sc.PROGRAM_STATUS_ACTING }, a.acting_program_tokens);
      add(shared, labels, a.shared_tokens);
      add(overflow, labels, a.capacity_overflow);
    }
    const s = b.up ? b.last?.snapshot : undefined;
    if (s === undefined) continue; // down: only `up`, no stale values
    add(running, labels, s.running);
    add(waiting, labels, s.waiting);
    add(kv, labels, s.kvCacheUsage);
    add(hit, labels, s.prefixCacheHitRate);
    add(hitWindow, labels, windowHitRate(b.history));
    add(capacity, labels, s.cache.capacityTokens);
    add(engines, labels, s.engines);
    add(used, labels, s.usedTokens);
    add(prompt, labels, s.promptTokens);
    add(generation, labels, s.generationTokens);
    add(preemptions, labels, s.preemptions);
    for (const [reason, n] of Object.entries(s.finishedByReason)) add(finished, { ...labels, [sc.LABEL_FINISHED_REASON]: reason }, n);
  }
  out.push(...dynamoReadings(backends, dynamo));
  return out.filter((x) => x.samples.length > 0 || x.name === up.name);
}

/**
 * Dynamo's aggregate: per worker KV blocks active / total and request slots active / total;
 * across workers the mean and (population) standard deviation of each worker's active KV blocks,
 * as Dynamo's router scores load (ai-dynamo/dynamo lib/llm/src/kv_router/scoring.rs; its README:
 * workers at 77 and 29 blocks give 53.0 / 24.0), and the KV hit rate from prefix-cache deltas over
 * the history window, in percent. Active blocks are usage × total blocks when the engine reports usage.
 */
export function dynamoReadings(backends: readonly BackendState[], labels: DynamoLabels): Reading[] {
  const r = (name: string, help: string): Reading => ({ name, type: 'gauge', help, samples: [] });
  const active = r(sc.METRIC_LLM_KV_BLOCKS_ACTIVE, 'Active KV cache blocks');
  const total = r(sc.METRIC_LLM_KV_BLOCKS_TOTAL, 'Total KV cache blocks');
  const slotsActive = r(sc.METRIC_LLM_REQUESTS_ACTIVE_SLOTS, 'Active request slots');
  const slotsTotal = r(sc.METRIC_LLM_REQUESTS_TOTAL_SLOTS, 'Total request slots');
  const loadAvg = r(sc.METRIC_LLM_LOAD_AVG, 'Average load across workers');
  const loadStd = r(sc.METRIC_LLM_LOAD_STD, 'Standard deviation of load across workers');
  const hitRate = r(sc.METRIC_LLM_KV_HIT_RATE_PERCENT, 'KV cache hit rate across workers, percent, over the history window');
  const loads: number[] = [];
  let dHits = 0;
  let dQueries = 0;
  for (const b of backends) {
    const s = b.up ? b.last?.snapshot : undefined;
    if (s === undefined) continue;
    const worker = { [sc.LABEL_COMPONENT]: labels.component, [sc.LABEL_ENDPOINT]: labels.endpoint, [sc.LABEL_WORKER_ID]: b.name };
    const blocks = s.cache.numGpuBlocks ?? (s.cache.capacityTokens !== undefined && s.cache.blockSize !== undefined ? s.cache.capacityTokens / s.cache.blockSize : undefined);
    if (blocks !== undefined && s.kvCacheUsage !== undefined) {
      const activeBlocks = Math.round(s.kvCacheUsage * blocks);
      active.samples.push({ labels: worker, value: activeBlocks });
      total.samples.push({ labels: worker, value: blocks });
      loads.push(activeBlocks);
    }
    if (s.running !== undefined) slotsActive.samples.push({ labels: worker, value: s.running });
    // Slots from the engine's own arguments (SGLang's max_running_requests), else the configuration.
    const slots = s.totalSlots ?? b.config.slots;
    if (slots !== undefined) slotsTotal.samples.push({ labels: worker, value: slots });
    const first = b.history.find((h) => h.snapshot.prefixCacheQueries !== undefined);
    if (first !== undefined && s.prefixCacheQueries !== undefined && s.prefixCacheHits !== undefined) {
      dQueries += s.prefixCacheQueries - (first.snapshot.prefixCacheQueries as number);
      dHits += s.prefixCacheHits - (first.snapshot.prefixCacheHits as number);
    }
  }
  if (loads.length > 0) {
    const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
    loadAvg.samples.push({ labels: { [sc.LABEL_COMPONENT]: labels.component, [sc.LABEL_ENDPOINT]: labels.endpoint }, value: mean });
    loadStd.samples.push({ labels: { [sc.LABEL_COMPONENT]: labels.component, [sc.LABEL_ENDPOINT]: labels.endpoint }, value: Math.sqrt(loads.reduce((a, b) => a + (b - mean) ** 2, 0) / loads.length) });
  }
  if (dQueries > 0) hitRate.samples.push({ labels: { [sc.LABEL_COMPONENT]: labels.component, [sc.LABEL_ENDPOINT]: labels.endpoint }, value: (100 * dHits) / dQueries });
  return [active, total, slotsActive, slotsTotal, loadAvg, loadStd, hitRate];
}

/** ThunderAgent's `GET /metrics` JSON. */
export function thunderAgentView(backends: readonly BackendState[], intervalMs: number, programs: readonly ProgramOnBackend[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const b of backends) {
    const s = b.last?.snapshot;
    const a = programAccounting(b, programs);
    out[b.url] = {
      url: b.url,
      healthy: b.up,
      monitoring: true,
      ...a,
      cache_config: { block_size: s?.cache.blockSize ?? null, num_gpu_blocks: s?.cache.numGpuBlocks ?? null, total_tokens_capacity: s?.cache.capacityTokens ?? null },
      metrics: s === undefined ? null : {
        num_requests_running: s.running ?? null,
        num_requests_waiting: s.waiting ?? null,
        kv_cache_usage_perc: s.kvCacheUsage ?? null,
        // As ThunderAgent computes it: since the engine started (hits / queries); the window rate apart.
        prefix_cache_hit_rate: s.prefixCacheHitRate ?? null,
        prefix_cache_hit_rate_window: windowHitRate(b.history) ?? null,
        used_tokens: s.usedTokens ?? null,
        total_slots: s.totalSlots ?? b.config.slots ?? null,
        prefix_cache_queries: s.prefixCacheQueries ?? null,
        prefix_cache_hits: s.prefixCacheHits ?? null,
        prompt_tokens_total: s.promptTokens ?? null,
        generation_tokens_total: s.generationTokens ?? null,
        num_preemptions: s.preemptions ?? null,
        requests_completed: Object.values(s.finishedByReason).reduce((x, y) => x + y, 0),
        last_updated: (b.last as { at: number }).at / 1000,
        history_size: b.history.length,
      },
    };
  }
  return { metrics_enabled: true, metrics_interval: intervalMs / 1000, backends: out };
}

/** Readings as the Prometheus text format (what `agentic-otel watch` serves). */
export function renderReadings(readings: readonly Reading[]): string {
  const lines: string[] = [];
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  for (const reading of readings) {
    lines.push(`# HELP ${reading.name} ${reading.help}`, `# TYPE ${reading.name} ${reading.type}`);
    for (const s of reading.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${esc(v)}"`).join(',');
      lines.push(`${reading.name}${labels ? `{${labels}}` : ''} ${String(s.value)}`);
    }
  }
  return lines.join('\n') + '\n';
}
