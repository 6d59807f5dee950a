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
import { thunderAgentView, type ProgramOnBackend } from './backend-readings.js';
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

  constructor(
    backends: readonly BackendConfig[],
    options: { prefix: string; pollIntervalMs: number; pollTimeoutMs: number | undefined; meter: Meter },
    breakers: BreakerRegistry,
    private readonly _programs: () => readonly ProgramOnBackend[],
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
    this._meter = options.meter;
  }

  updateMetricInstruments(meter: Meter): void {
    this._meter = meter;
    if (this._enabled) this._gauges.updateMetricInstruments(meter);
  }

  enable(): void {
    if (this._enabled) return;
    this._enabled = true;
    this._gauges.updateMetricInstruments(this._meter);
    this.poller.start();
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
