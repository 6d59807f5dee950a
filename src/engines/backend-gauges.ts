/**
 * The poller's readings as OpenTelemetry observables: one instrument per reading name, one
 * batch callback that reads the latest state (never the network), removed on dispose or when
 * the meter changes.
 */
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import type { BackendState } from './backend-state.js';
import { backendReadings, type ProgramOnBackend, type Reading } from './backend-readings.js';

export class BackendGauges {
  private _meter: Meter | undefined;
  private _instruments = new Map<string, Observable>();
  private readonly _callback = (result: BatchObservableResult) => this._observe(result);

  constructor(private readonly _prefix: string, private readonly _backends: () => readonly BackendState[], private readonly _programs: () => readonly ProgramOnBackend[]) {}

  /** (Re)creates the instruments on `meter`. */
  updateMetricInstruments(meter: Meter): void {
    this.dispose();
    this._meter = meter;
    // The full set of names: every reading that could ever be produced, with empty samples.
    const names = backendReadings(this._prefix, [fullBackend()], [], undefined);
    for (const r of names) {
      const options = { description: r.help };
      this._instruments.set(r.name, r.type === 'counter' ? meter.createObservableCounter(r.name, options) : meter.createObservableGauge(r.name, options));
    }
    meter.addBatchObservableCallback(this._callback, [...this._instruments.values()]);
  }

  dispose(): void {
    if (this._meter !== undefined) this._meter.removeBatchObservableCallback(this._callback, [...this._instruments.values()]);
    this._meter = undefined;
    this._instruments = new Map();
  }

  private _observe(result: BatchObservableResult): void {
    const readings: Reading[] = backendReadings(this._prefix, this._backends(), this._programs());
    for (const r of readings) {
      const instrument = this._instruments.get(r.name);
      if (instrument === undefined) continue;
      for (const s of r.samples) result.observe(instrument, s.value, s.labels);
    }
  }
}

/** A backend with every field known, so that every reading name appears once. */
function fullBackend(): BackendState {
  const snapshot = { kind: 'vllm' as const, engines: 1, running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheQueries: 1, prefixCacheHits: 0, prefixCacheHitRate: 0, promptTokens: 0, generationTokens: 0, preemptions: 0, finishedByReason: { stop: 0 }, cache: { blockSize: 1, numGpuBlocks: 1, capacityTokens: 1 } };
  const at = { at: 0, snapshot };
  return { config: { url: 'http://x', slots: 1 }, url: 'http://x', name: 'x', kind: 'vllm', up: true, polled: true, last: { at: 1, snapshot: { ...snapshot, prefixCacheQueries: 2 } }, history: [at, { at: 1, snapshot: { ...snapshot, prefixCacheQueries: 2 } }], lastError: undefined, serverInfo: undefined };
}
