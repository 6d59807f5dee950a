/** The simulator's per-request latency histograms, kept as prometheus_client keeps them. */

export type LatencyName = 'queue' | 'prefill' | 'decode' | 'inference' | 'ttft' | 'e2e';
/** Upper bounds of the latency histograms' buckets, seconds (vLLM's request latency buckets, shortened). */
export const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60] as const;

/** A histogram as prometheus_client keeps it: cumulative bucket counts, sum, count. */
export class LatencyHistogram {
  readonly buckets: number[] = LATENCY_BUCKETS.map(() => 0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= (LATENCY_BUCKETS[i] as number)) this.buckets[i] = (this.buckets[i] as number) + 1;
    }
  }
}

export function latencyHistograms(): Record<LatencyName, LatencyHistogram> {
  return { queue: new LatencyHistogram(), prefill: new LatencyHistogram(), decode: new LatencyHistogram(), inference: new LatencyHistogram(), ttft: new LatencyHistogram(), e2e: new LatencyHistogram() };
}
