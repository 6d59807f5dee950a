/**
 * What an engine prints is checked before anyone alerts on it. Pure: problems are returned as
 * text for the poller to report (once per backend), never thrown.
 * - A series printed twice (same name, same labels) is counted once: the first value is kept.
 * - Ratios outside 0..1 and negative counts are dropped, not clamped; NaN and ±Inf are dropped.
 */
import type { PromSample } from '../prometheus/parse-prometheus-text.js';

/** `samples` without repeated series (same labels): the first is kept, a problem noted. */
export function uniqueSamples(samples: PromSample[], name: string, problems: string[]): PromSample[] {
  if (samples.length < 2) return samples;
  const seen = new Set<string>();
  const out: PromSample[] = [];
  for (const s of samples) {
    const pairs = Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`);
    const key = JSON.stringify(pairs);
    if (seen.has(key)) {
      problems.push(`series ${name}{${pairs.join(',')}} printed more than once; the first value is kept`);
      continue;
    }
    seen.add(key);
    out.push(s);
  }
  return out;
}

const RATIOS = ['kvCacheUsage', 'prefixCacheHitRate'] as const;
const COUNTS = ['running', 'waiting', 'prefixCacheQueries', 'prefixCacheHits', 'promptTokens', 'generationTokens', 'preemptions', 'usedTokens', 'totalSlots'] as const;

/** The fields checked (an engine snapshot has them; kept structural so the mapper can import this). */
type Checked = { [K in (typeof RATIOS)[number] | (typeof COUNTS)[number]]?: number } & { finishedByReason: Record<string, number>; problems?: string[] };

/** Drops what no engine can mean (a ratio outside 0..1, a negative count, NaN, ±Inf), noting each. */
export function checkSnapshot<T extends Checked>(snapshot: T, problems: string[]): T {
  for (const field of RATIOS) {
    const v = snapshot[field];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 1)) {
      problems.push(`${field} ${String(v)} is not a ratio in 0..1; dropped`);
      delete snapshot[field];
    }
  }
  for (const field of COUNTS) {
    const v = snapshot[field];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      problems.push(`${field} ${String(v)} is not a count; dropped`);
      delete snapshot[field];
    }
  }
  for (const [reason, n] of Object.entries(snapshot.finishedByReason)) {
    if (!(Number.isFinite(n) && n >= 0)) {
      problems.push(`finished requests (${reason}) ${String(n)} is not a count; dropped`);
      delete snapshot.finishedByReason[reason];
    }
  }
  if (problems.length > 0) snapshot.problems = problems;
  return snapshot;
}
