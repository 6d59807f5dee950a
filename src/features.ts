/**
 * Builds the features of one resolved configuration, in the order the lifecycle visits them:
 * the instruments first (so the others find them fresh on a new meter), then step metrics,
 * TinyLLM's facade with the breaker gauge, the breakers, profiles, omni, the application's
 * listeners, the engine poller and the status server.
 */
import type { Meter } from '@opentelemetry/api';
import { BreakerRegistry } from './breakers/breaker-registry.js';
import type { ResolvedConfig } from './config.js';
import { EnginePollerFeature } from './engines/poller-feature.js';
import type { AdmissionRequest, Feature } from './feature.js';
import { log } from './util/log.js';
import { Instruments } from './metrics/instruments.js';
import { StepMetrics } from './metrics/step-metrics.js';
import { SnapshotFeature } from './snapshots/snapshot-feature.js';
import { TinyLlmMetrics } from './metrics/tinyllm-metrics.js';
import type { OmniFeature } from './omni/omni-feature.js';
import { ProfilesFeature } from './profiles/profiles-feature.js';
import { StatusFeature } from './profiles/status-feature.js';
import type { StepProfileWriter } from './profiles/step-profile-writer.js';
import type { ProgramTracker } from './program/program-tracker.js';
import type { StepListeners } from './steps/step-listeners.js';

/** The features of one configuration, by role; `list` is what the lifecycle loops over. */
export interface Features {
  list: Feature[];
  /** The features with a step hook, for the per-step loops (no lookup per step). */
  onStepStart: Feature[];
  onStepEnd: Feature[];
  onAttemptFailed: Feature[];
  onRetry: Feature[];
  holdSpans: Feature[];
  snapshots: SnapshotFeature | undefined;
  /** The features that decide admission (the breakers only under failFast). */
  admit: Feature[];
  /** Features that outlive a configuration (they are not shut down when it is replaced). */
  shared: ReadonlySet<Feature>;
  instruments: Instruments;
  breakers: BreakerRegistry;
  tinyllm: TinyLlmMetrics;
  profiles: ProfilesFeature;
  status: StatusFeature | undefined;
  poller: EnginePollerFeature;
}

/** What outlives one configuration, handed in by the instrumentation. */
export interface FeatureContext {
  programs: ProgramTracker;
  writer: StepProfileWriter | undefined;
  meter: Meter;
  omni: OmniFeature;
  listeners: StepListeners;
  providerName: () => string;
  /** ThunderAgent's `GET /metrics` view, for the status server. */
  backendsView: () => Record<string, unknown>;
  /** Whether the instrumentation is enabled now (metric callbacks register only then). */
  enabled: boolean;
  /** Whether the engine metric producer is registered (the poller then publishes no observable gauges). */
  produced: () => boolean;
}

export function buildFeatures(c: ResolvedConfig, x: FeatureContext): Features {
  const instruments = new Instruments(x.meter, c.metricPrefix);
  const breakers = new BreakerRegistry(c.circuitBreaker);
  const tinyllm = new TinyLlmMetrics(instruments, breakers);
  tinyllm.enable(); // the facade works whether the hook is enabled or not; disable() takes its callback off
  const profiles = new ProfilesFeature(x.programs, x.writer);
  const poller = new EnginePollerFeature(c.backends, { prefix: c.metricPrefix, pollIntervalMs: c.pollIntervalMs, pollTimeoutMs: c.pollTimeoutMs, meter: x.meter }, breakers, () => Object.values(profiles.views.programs()), x.produced);
  const status = c.statusServer === undefined ? undefined : new StatusFeature(c.statusServer, () => profiles.api(), x.backendsView);
  const list: Feature[] = [instruments, new StepMetrics(instruments, x.providerName, c.timePerOutputChunk), tinyllm, breakers, profiles, x.omni, x.listeners];
  if (c.backends.length > 0) list.push(poller);
  const snapshots = c.snapshots === undefined ? undefined : new SnapshotFeature(c.snapshots, c.backends, c.pollTimeoutMs ?? Math.min(c.pollIntervalMs, 10_000));
  if (snapshots !== undefined) list.push(snapshots);
  if (status !== undefined) list.push(status);
  return { list, onStepStart: list.filter((f) => f.onStepStart !== undefined), onStepEnd: list.filter((f) => f.onStepEnd !== undefined), onAttemptFailed: list.filter((f) => f.onAttemptFailed !== undefined), onRetry: list.filter((f) => f.onRetry !== undefined), holdSpans: list.filter((f) => f.holdSpans !== undefined), snapshots, admit: list.filter((f) => f.admit !== undefined && (f !== breakers || c.circuitBreaker.failFast)), shared: new Set<Feature>([profiles, x.omni, x.listeners]), instruments, breakers, tinyllm, profiles, status, poller };
}

/**
 * Asks every admitting feature: the first error refuses the request; holds are awaited
 * together; a feature that throws is reported and lets the request go.
 */
export function admitAll(features: readonly Feature[], request: AdmissionRequest): Error | undefined | Promise<void> {
  const holds: Promise<void>[] = [];
  for (const f of features) {
    let answer: Error | undefined | Promise<void>;
    try {
      answer = f.admit?.(request);
    } catch (err) {
      log.error(`${f.name}: admission failed; the request goes`, err);
      continue;
    }
    if (answer instanceof Promise) holds.push(answer);
    else if (answer !== undefined) return answer;
  }
  return holds.length === 0 ? undefined : Promise.all(holds).then(() => undefined);
}
