/**
 * Per-program profiles in ThunderAgent's JSON shape (`/profiles`, `/programs`), plus what it
 * lacks: p50 / p95 of every phase and bounded memory. Each program's aggregate is keyed by its
 * entry in the program registry ({@link ProgramTracker}) in a WeakMap, so it leaves memory with
 * the program, by the registry's one eviction rule (idle programs leave; their rows stay in the
 * CSV). Pure: it is fed finished steps and asked for views.
 */
import type { ProgramState, ProgramTracker } from '../program/program-tracker.js';
import type { StepRecord } from '../types.js';

/** Phase samples kept per program for percentiles: the most recent ones. */
const PERCENTILE_WINDOW = 256;

/** A program's profile, keyed as ThunderAgent's `/profiles/{id}`; then our additions. */
export interface ProgramProfile {
  step_count: number;
  avg_prefill_s: number;
  avg_decode_s: number;
  avg_pause_s: number;
  /** Over steps 2..n (step 1 has no tool call); 0 with one step. */
  avg_tool_call_s: number;
  avg_prompt_tokens: number | null;
  avg_completion_tokens: number | null;
  avg_cached_tokens: number | null;
  /** Over the steps where it is known (never step 1, as in the CSV); null when never known. */
  avg_kv_hit_rate: number | null;
  p50_prefill_s: number;
  p95_prefill_s: number;
  p50_decode_s: number;
  p95_decode_s: number;
  p50_pause_s: number;
  p95_pause_s: number;
  p50_tool_call_s: number;
  p95_tool_call_s: number;
  /** Ours: steps that failed (any `error.type`), and the model time of non-streamed steps. */
  failed_steps: number;
  avg_inference_s: number | null;
}

/** A program as ThunderAgent's `/programs` shows it. */
export interface ProgramView {
  /** The engine its last request went to. */
  backend: string | null;
  /** Its last step's usage total: its context in the KV cache. */
  total_tokens: number | null;
  step_count: number;
  /** "reasoning" while one of its requests is in flight, "acting" between requests. */
  status: 'reasoning' | 'acting';
  state: 'active';
  /** Unix seconds. */
  last_step_at: number;
  profile: ProgramProfile | null;
}

interface Sums {
  n: number;
  prefill: number;
  decode: number;
  pause: number;
  toolCall: number;
  toolCallN: number;
  kv: number;
  kvN: number;
  prompt: number;
  promptN: number;
  completion: number;
  completionN: number;
  cached: number;
  cachedN: number;
  failed: number;
  inference: number;
  inferenceN: number;
}

/** One program's aggregate, held by its registry entry. */
export interface ProfileEntry {
  sums: Sums;
  samples: { prefill: number[]; decode: number[]; pause: number[]; toolCall: number[] };
  backend: string | undefined;
  totalTokens: number | undefined;
  lastStepAt: number;
}

export class ProgramProfiles {
  private readonly _entries = new WeakMap<Readonly<ProgramState>, ProfileEntry>();

  constructor(private readonly _programs: ProgramTracker) {}

  /** Takes one finished step of the program whose registry entry is `program`. */
  add(program: ProgramState, record: StepRecord): void {
    let e = this._entries.get(program);
    if (e === undefined) {
      e = {
        sums: { n: 0, prefill: 0, decode: 0, pause: 0, toolCall: 0, toolCallN: 0, kv: 0, kvN: 0, prompt: 0, promptN: 0, completion: 0, completionN: 0, cached: 0, cachedN: 0, failed: 0, inference: 0, inferenceN: 0 },
        samples: { prefill: [], decode: [], pause: [], toolCall: [] },
        backend: undefined,
        totalTokens: undefined,
        lastStepAt: 0,
      };
      this._entries.set(program, e);
    }
    const s = e.sums;
    const p = record.phases;
    // Sums of the values as the CSV rows hold them (4 decimals), so the averages here equal the
    // averages a script computes from step_profiles.csv.
    s.n++;
    s.prefill += round4(p.prefillS);
    s.decode += round4(p.decodeS);
    s.pause += round4(p.pauseS);
    push(e.samples.prefill, p.prefillS);
    push(e.samples.decode, p.decodeS);
    push(e.samples.pause, p.pauseS);
    if (record.stepId > 1) {
      s.toolCall += round4(p.toolCallS);
      s.toolCallN++;
      push(e.samples.toolCall, p.toolCallS);
      if (record.kvHitRate !== undefined) {
        s.kv += round4(record.kvHitRate);
        s.kvN++;
      }
    }
    if (record.inputTokens !== undefined) {
      s.prompt += record.inputTokens;
      s.promptN++;
    }
    if (record.outputTokens !== undefined) {
      s.completion += record.outputTokens;
      s.completionN++;
    }
    if (record.cachedTokens !== undefined) {
      s.cached += record.cachedTokens;
      s.cachedN++;
    }
    if (record.errorType !== undefined) s.failed++;
    if (p.inferenceS !== undefined) {
      s.inference += round4(p.inferenceS);
      s.inferenceN++;
    }
    if (record.backend !== undefined) e.backend = record.backend;
    if (record.totalTokens !== undefined) e.totalTokens = record.totalTokens;
    e.lastStepAt = record.endTime;
  }

  /** One program's profile, if it is live and has finished a step. */
  get(programId: string): ProgramProfile | undefined {
    const program = this._programs.get(programId);
    const e = program === undefined ? undefined : this._entries.get(program);
    return e === undefined ? undefined : profileOf(e);
  }

  /** Every live program's profile. */
  all(): Record<string, ProgramProfile> {
    const out = byProgram<ProgramProfile>();
    for (const program of this._programs.states()) {
      const e = this._entries.get(program);
      if (e !== undefined) out[program.id] = profileOf(e);
    }
    return out;
  }

  /** Every live program that has finished a step, as ThunderAgent's `/programs` shows it. */
  programs(): Record<string, ProgramView> {
    const out = byProgram<ProgramView>();
    for (const program of this._programs.states()) {
      const e = this._entries.get(program);
      if (e === undefined) continue;
      out[program.id] = {
        backend: e.backend ?? null,
        total_tokens: e.totalTokens ?? null,
        step_count: e.sums.n,
        status: program.inFlight > 0 ? 'reasoning' : 'acting',
        state: 'active',
        last_step_at: round4(e.lastStepAt / 1000),
        profile: profileOf(e),
      };
    }
    return out;
  }
}

function profileOf(e: ProfileEntry): ProgramProfile {
  const s = e.sums;
  const avg = (sum: number, n: number) => (n > 0 ? round4(sum / n) : 0);
  const avgOrNull = (sum: number, n: number) => (n > 0 ? round4(sum / n) : null);
  return {
    step_count: s.n,
    avg_prefill_s: avg(s.prefill, s.n),
    avg_decode_s: avg(s.decode, s.n),
    avg_pause_s: avg(s.pause, s.n),
    avg_tool_call_s: avg(s.toolCall, s.toolCallN),
    avg_prompt_tokens: avgOrNull(s.prompt, s.promptN),
    avg_completion_tokens: avgOrNull(s.completion, s.completionN),
    avg_cached_tokens: avgOrNull(s.cached, s.cachedN),
    avg_kv_hit_rate: avgOrNull(s.kv, s.kvN),
    p50_prefill_s: quantile(e.samples.prefill, 0.5),
    p95_prefill_s: quantile(e.samples.prefill, 0.95),
    p50_decode_s: quantile(e.samples.decode, 0.5),
    p95_decode_s: quantile(e.samples.decode, 0.95),
    p50_pause_s: quantile(e.samples.pause, 0.5),
    p95_pause_s: quantile(e.samples.pause, 0.95),
    p50_tool_call_s: quantile(e.samples.toolCall, 0.5),
    p95_tool_call_s: quantile(e.samples.toolCall, 0.95),
    failed_steps: s.failed,
    avg_inference_s: avgOrNull(s.inference, s.inferenceN),
  };
}

/** Nearest-rank quantile of the kept samples, rounded to 4 decimals; 0 with none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return round4(sorted[rank - 1] as number);
}

function push(window: number[], value: number): void {
  if (window.length >= PERCENTILE_WINDOW) window.shift();
  window.push(value);
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/**
 * An object keyed by program id with no prototype: ids come from untrusted headers, and on a
 * plain object `__proto__` would set its prototype and `constructor` read Object's, instead of
 * being ordinary programs. JSON.stringify writes such an object as any other.
 */
function byProgram<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
