/**
 * The engine poller as a feature: polls each configured engine's own stats while enabled,
 * publishes them as observable gauges, and tells the breakers when an engine cannot be reached
 * at all (an answer it cannot read does not count: breakers follow request outcomes).
 */
import type { Meter } from '@opentelemetry/api';
import type { BreakerRegistry } from '../breakers/breaker-registry.js';
import type { Feature } from '../feature.js';
import { now } from '../util/clock.js';
import { BackendGauges } from './backend-gauges.js';
import { BackendPoller } from './backend-poller.js';
import { backendReadings, thunderAgentView, type ProgramOnBackend, type Reading } from './backend-readings.js';
import type { BackendConfig, BackendState } from './backend-state.js';

/** `instrumentation.backends`. */
export interface BackendsApi {
  readonly states: readonly BackendState[];
  /** ThunderAgent's `GET /metrics` JSON view. */
  snapshot(): Record<string, unknown>;
  /** Polls every backend now. */
  pollNow(): Promise<void>;
}

export class EnginePollerFeature implements Feature {
  readonly name = 'engine poller';
  readonly poller: BackendPoller;
  private readonly _gauges: BackendGauges;
  private _meter: Meter;
  private _enabled = false;
  private readonly _prefix: string;

  constructor(
    backends: readonly BackendConfig[],
    options: { prefix: string; pollIntervalMs: number; pollTimeoutMs: number | undefined; meter: Meter },
    breakers: BreakerRegistry,
    private readonly _programs: () => readonly ProgramOnBackend[],
    /** True once the application registered the engine metric producer: no observable gauges then. */
    private readonly _produced: () => boolean = () => false,
  ) {
    const pollerOptions: ConstructorParameters<typeof BackendPoller>[1] = {
      pollIntervalMs: options.pollIntervalMs,
      onPoll: (b, ok, unreachable) => {
        if (!ok && unreachable) breakers.unreachable(new URL(b.url).host, now());
      },
    };
    if (options.pollTimeoutMs !== undefined) pollerOptions.pollTimeoutMs = options.pollTimeoutMs;
    this.poller = new BackendPoller([...backends], pollerOptions);
    this._gauges = new BackendGauges(options.prefix, () => this.poller.backends, _programs);
    this._prefix = options.prefix;
    this._meter = options.meter;
  }

  updateMetricInstruments(meter: Meter): void {
    this._meter = meter;
    if (this._enabled && !this._produced()) this._gauges.updateMetricInstruments(meter);
  }

  enable(): void {
    if (this._enabled) return;
    this._enabled = true;
    if (!this._produced()) this._gauges.updateMetricInstruments(this._meter);
    this.poller.start();
  }

  /** The series the backends' state gives now (for the metric producer); none while disabled. */
  readings(): Reading[] {
    return this._enabled ? backendReadings(this._prefix, this.poller.backends, this._programs()) : [];
  }

  /** The producer took over: the observable gauges go. */
  useProducer(): void {
    this._gauges.dispose();
  }

  disable(): void {
    this._enabled = false;
    this.poller.stop();
    this._gauges.dispose();
  }

  shutdown(): void {
    this.disable();
  }

  api(intervalMs: number): BackendsApi {
    return {
      states: this.poller.backends,
      snapshot: () => thunderAgentView(this.poller.backends, intervalMs, this._programs()),
      pollNow: () => this.poller.pollAll(),
    };
  }
}
