/**
 * What an engine did between two captures of its `/metrics`: the deltas of its per-request
 * latency histograms (sum and count) and token counters, summed over every series of a family
 * (engine indexes, models). vLLM V1 and V0 names, and SGLang's where it has them
 * (shared/reference/engines.md). A delta that went down (a counter reset, an engine restart) is
 * flagged and never used. Pure: text in, numbers out.
 */
import * as n from '../engine-names.js';
import { parsePrometheusText, samplesNamed, type PromParseResult } from '../prometheus/parse-prometheus-text.js';

/** The quantities a before / after pair yields. */
export type SnapshotQuantity = 'queue' | 'prefill' | 'decode' | 'inference' | 'ttft' | 'e2e' | 'promptTokens' | 'generationTokens';

/** Histograms (summed seconds, and how many requests they counted) by quantity, every name an engine uses for it. */
const HISTOGRAMS: Record<Exclude<SnapshotQuantity, 'promptTokens' | 'generationTokens'>, readonly string[]> = {
  queue: [n.ENGINE_VLLM_REQUEST_QUEUE_TIME_SECONDS, n.ENGINE_SGLANG_QUEUE_TIME_SECONDS],
  prefill: [n.ENGINE_VLLM_REQUEST_PREFILL_TIME_SECONDS],
  decode: [n.ENGINE_VLLM_REQUEST_DECODE_TIME_SECONDS],
  inference: [n.ENGINE_VLLM_REQUEST_INFERENCE_TIME_SECONDS],
  ttft: [n.ENGINE_VLLM_TIME_TO_FIRST_TOKEN_SECONDS, n.ENGINE_SGLANG_TIME_TO_FIRST_TOKEN_SECONDS],
  e2e: [n.ENGINE_VLLM_E2E_REQUEST_LATENCY_SECONDS, n.ENGINE_SGLANG_E2E_REQUEST_LATENCY_SECONDS],
};
const COUNTERS: Record<'promptTokens' | 'generationTokens', readonly string[]> = {
  promptTokens: [n.ENGINE_VLLM_PROMPT_TOKENS_TOTAL, n.ENGINE_SGLANG_PROMPT_TOKENS_TOTAL],
  generationTokens: [n.ENGINE_VLLM_GENERATION_TOKENS_TOTAL, n.ENGINE_SGLANG_GENERATION_TOKENS_TOTAL],
};

/** One capture, reduced to what deltas need: each histogram's sum and count, each counter's value. */
export interface SnapshotTotals {
  histograms: Partial<Record<keyof typeof HISTOGRAMS, { sum: number; count: number }>>;
  counters: Partial<Record<keyof typeof COUNTERS, number>>;
}

/** The deltas of one before / after pair. */
export interface SnapshotDelta {
  /** Seconds summed over the requests that finished between the captures, by quantity. */
  seconds: Partial<Record<keyof typeof HISTOGRAMS, number>>;
  /** Requests each histogram counted between the captures. */
  counts: Partial<Record<keyof typeof HISTOGRAMS, number>>;
  promptTokens?: number;
  generationTokens?: number;
  /** Requests that finished between the captures (the e2e count, else TTFT's). */
  requests: number | undefined;
  /** Quantities whose delta went down (counter reset, engine restart): left out. */
  resets: SnapshotQuantity[];
}

/** Reads a capture's totals. */
export function snapshotTotals(text: string | PromParseResult): SnapshotTotals {
  const parsed = typeof text === 'string' ? parsePrometheusText(text) : text;
  const totals: SnapshotTotals = { histograms: {}, counters: {} };
  for (const [q, names] of Object.entries(HISTOGRAMS) as [keyof typeof HISTOGRAMS, readonly string[]][]) {
    for (const name of names) {
      const sums = samplesNamed(parsed, name + n.PROM_SUFFIX_SUM);
      const counts = samplesNamed(parsed, name + n.PROM_SUFFIX_COUNT);
      if (sums.length === 0 && counts.length === 0) continue;
      totals.histograms[q] = { sum: total(sums.map((s) => s.value)), count: total(counts.map((s) => s.value)) };
      break;
    }
  }
  for (const [q, names] of Object.entries(COUNTERS) as [keyof typeof COUNTERS, readonly string[]][]) {
    for (const name of names) {
      const samples = samplesNamed(parsed, name);
      if (samples.length === 0) continue;
      totals.counters[q] = total(samples.map((s) => s.value));
      break;
    }
  }
  return totals;
}

/** after − before, quantity by quantity; what went down is flagged, what is missing on either side is absent. */
export function snapshotDelta(before: SnapshotTotals, after: SnapshotTotals): SnapshotDelta {
  const delta: SnapshotDelta = { seconds: {}, counts: {}, requests: undefined, resets: [] };
  for (const q of Object.keys(HISTOGRAMS) as (keyof typeof HISTOGRAMS)[]) {
    const b = before.histograms[q];
    const a = after.histograms[q];
    if (b === undefined || a === undefined) continue;
    const sum = a.sum - b.sum;
    const count = a.count - b.count;
    if (sum < 0 || count < 0) {
      delta.resets.push(q);
      continue;
    }
    delta.seconds[q] = sum;
    delta.counts[q] = count;
  }
  for (const q of Object.keys(COUNTERS) as (keyof typeof COUNTERS)[]) {
    const b = before.counters[q];
    const a = after.counters[q];
    if (b === undefined || a === undefined) continue;
    if (a < b) delta.resets.push(q);
    else delta[q] = a - b;
  }
  delta.requests = delta.counts.e2e ?? delta.counts.ttft;
  return delta;
}

function total(values: number[]): number {
  let s = 0;
  for (const v of values) if (Number.isFinite(v)) s += v;
  return s;
}
