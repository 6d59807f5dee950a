/**
 * The class NodeSDK registers. It resolves the configuration once (config.ts), builds the
 * features (metrics, breakers, profiles, status server, engine poller, omni, the application's
 * listeners), installs the request hook, and loops over the features at every point of the
 * step lifecycle, isolating each: a feature that throws is reported through `diag` and never
 * stops the next, nor the request.
 *
 * It implements `@opentelemetry/instrumentation`'s `Instrumentation` interface without that
 * package (we patch no module); our one runtime dependency is the `@opentelemetry/api` peer.
 */
import { metrics, trace, type Meter, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { resolveConfig, type ResolvedConfig } from './config.js';
import type { Feature } from './feature.js';
import type { BackendsApi } from './engines/poller-feature.js';
import { EngineMetricProducer } from './engines/engine-metric-producer.js';
import { admitAll, buildFeatures, type Features } from './features.js';
import { createCompletionInterceptor } from './http/completion-interceptor.js';
import { poolWait, responseEnded, watchConnects } from './http/connect-times.js';
import { getGlobalDispatcher, interceptDispatcher, setGlobalDispatcher } from './http/global-dispatcher.js';
import { PropagationPolicy } from './http/propagation-policy.js';
import { backendOf } from './http/server-of.js';
import type { TinyLlmMetrics } from './metrics/tinyllm-metrics.js';
import { OmniFeature } from './omni/omni-feature.js';
import type { OmniRecorder } from './omni/omni-recorder.js';
import type { ProfilesApi } from './profiles/profiles-feature.js';
import { StepProfileWriter } from './profiles/step-profile-writer.js';
import { STEP_CSV_EXTENDED_HEADER as EXTENDED, STEP_CSV_HEADER } from './profiles/step-csv.js';
import { ProgramTracker } from './program/program-tracker.js';
import type { StepDeps } from './steps/agent-step.js';
import { StepLifecycle } from './steps/step-lifecycle.js';
import { StepListeners } from './steps/step-listeners.js';
import type { AgenticInstrumentationConfig, DispatchInterceptor, StepRecord } from './types.js';
import { log } from './util/log.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

/** Splits every LLM call of every agent program into phases, as spans. */
export class AgenticInstrumentation {
  readonly instrumentationName = PACKAGE_NAME;
  readonly instrumentationVersion = PACKAGE_VERSION;

  private _userConfig: AgenticInstrumentationConfig & { enabled: boolean } = { enabled: true };
  private _config!: ResolvedConfig;
  private _meter: Meter;
  private _enabled = false;
  private _features!: Features;
  private _propagation = new PropagationPolicy(undefined);
  private _programs: ProgramTracker | undefined;
  private readonly _stepDeps: StepDeps;
  private readonly _interceptor: Dispatcher.DispatcherComposeInterceptor;
  private readonly _lifecycle: StepLifecycle;
  private readonly _listeners = new StepListeners();
  private readonly _omni: OmniFeature;
  private _installed: Dispatcher | undefined;
  private _previous: Dispatcher | undefined;
  private _writer: StepProfileWriter | undefined;
  private _producer: EngineMetricProducer | undefined;

  constructor(config: AgenticInstrumentationConfig = {}) {
    this._meter = metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this._stepDeps = {
      tracer: trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      providerName: 'vllm',
      captureContent: false,
      onStepEnd: (record, init) => this._lifecycle.ended(record, init),
      onRedirect: (step, init, location) => this._lifecycle.redirects.await(step, init.fingerprint, location),
      onAttemptFailed: (step, init, attempt) => this._lifecycle.attemptFailed(step, init, attempt),
      poolWait,
      responseEnded,
      holdSpans: (record, init, chatSpanId) => this._lifecycle.holdSpans(record, init, chatSpanId),
    };
    this._lifecycle = new StepLifecycle(this._stepDeps, () => this._programs as ProgramTracker, () => this._features, () => this._config.retryWindowMs);
    this._omni = new OmniFeature(() => this._stepDeps.tracer, this._meter, () => this._userConfig.omni?.tableRequests);
    this._applyConfig(config);
    this._interceptor = createCompletionInterceptor({
      isEnabled: () => this._enabled,
      isCompletionPath: (path) => this._config.paths.has(path),
      injectIncludeUsage: () => this._config.injectIncludeUsage,
      propagateTraceContext: (origin) => this._config.propagateTraceContext && this._propagation.allows(origin),
      captureContent: () => this._stepDeps.captureContent,
      beginStep: (arrived) => this._lifecycle.begin(arrived),
      admit: (programId, origin) => (this._features.admit.length === 0 ? undefined : admitAll(this._features.admit, { programId, origin, backend: backendOf(origin) })),
    });
    if (this._config.enabled) this.enable();
  }

  /** Starts observing: the hook on the global dispatcher (unless told not to), and every feature. */
  enable(): void {
    if (this._enabled) return;
    this._enabled = true;
    watchConnects();
    if (this._config.installGlobalDispatcher) {
      const previous = getGlobalDispatcher();
      if (previous === undefined || typeof previous.dispatch !== 'function') {
        log.warn('no undici global dispatcher to hook; compose instrumentation.interceptor() onto your own dispatcher');
      } else {
        this._previous = previous;
        this._installed = interceptDispatcher(previous, this._interceptor);
        setGlobalDispatcher(this._installed);
      }
    }
    this._each('enable', (f) => f.enable?.());
  }

  /**
   * Stops observing and undoes what `enable()` did. When something else has wrapped the global
   * dispatcher since, that wrapper is left in place and our hook inside it passes through.
   */
  disable(): void {
    if (!this._enabled) return;
    this._enabled = false;
    if (this._installed !== undefined && getGlobalDispatcher() === this._installed && this._previous !== undefined) {
      setGlobalDispatcher(this._previous);
    }
    this._installed = undefined;
    this._previous = undefined;
    this._programs?.clear();
    this._each('disable', (f) => f.disable?.());
    void this.shutdown();
  }

  /** Writes queued profile rows, ends steps waiting on a redirect, closes what features opened. */
  async shutdown(): Promise<void> {
    this._lifecycle.endAll();
    const pending: Promise<void>[] = [];
    this._each('shutdown', (f) => {
      const p = f.shutdown?.();
      if (p !== undefined) pending.push(p.catch((err: unknown) => log.error(`${f.name}: shutdown failed`, err)));
    });
    await Promise.all(pending);
  }

  /**
   * Ends now every step that waits for a client's retry or a redirect's follow-up, with its last
   * attempt (as shutdown and exit do): call it when a batch of work is over and its rows and
   * metrics are wanted at once.
   */
  settle(): void {
    this._lifecycle.endAll();
  }

  /** Engine snapshots (`snapshots` option): the scrapes sent per engine so far. */
  get snapshots(): { scrapes(): Record<string, number> } {
    const feature = this._features.snapshots;
    return { scrapes: () => feature?.scrapes() ?? {} };
  }

  /** ThunderAgent's per-program views. */
  get profiles(): ProfilesApi {
    return this._features.profiles.api();
  }

  /** The status server's port once it listens (undefined when off or failed). */
  statusServerPort(): Promise<number | undefined> {
    return this._features.status?.listening ?? Promise.resolve(undefined);
  }

  isEnabled(): boolean {
    return this._enabled;
  }

  /** Called by NodeSDK / registerInstrumentations. */
  setTracerProvider(tracerProvider: TracerProvider): void {
    this._stepDeps.tracer = tracerProvider.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
  }

  /** Called by NodeSDK / registerInstrumentations: every feature moves its instruments to the new meter. */
  setMeterProvider(meterProvider: MeterProvider): void {
    this._meter = meterProvider.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this._each('updateMetricInstruments', (f) => f.updateMetricInstruments?.(this._meter));
  }

  /**
   * The engine series as a MetricProducer: register it on your metric readers
   * (`new PrometheusExporter({ metricProducers: [instrumentation.engineMetricProducer()] })`) and
   * a backend that is down, renamed or removed leaves no series behind, which the SDK's
   * observable gauges cannot promise under cumulative temporality. The gauges then go.
   */
  engineMetricProducer(): EngineMetricProducer {
    if (this._producer === undefined) {
      this._producer = new EngineMetricProducer(() => this._features.poller.readings());
      this._features.poller.useProducer();
    }
    return this._producer;
  }

  /** The polled engines: their state, and ThunderAgent's `GET /metrics` JSON view. */
  get backends(): BackendsApi {
    return this._features.poller.api(this._config.pollIntervalMs);
  }

  /** TinyLLM's collector API, for what only the application knows (steps are recorded automatically). */
  get metrics(): TinyLlmMetrics {
    return this._features.tinyllm;
  }

  /** Omni pipelines (vLLM-omni): stage and transfer spans, metrics, the summary and tables. */
  get omni(): OmniRecorder {
    return this._omni.recorder;
  }

  /** The meter our features record with. */
  get meter(): Meter {
    return this._meter;
  }

  /** Replaces the configuration; steps in flight keep their program state and finish normally. */
  setConfig(config: AgenticInstrumentationConfig): void {
    const wasEnabled = this._enabled;
    if (wasEnabled) this._each('disable', (f) => f.disable?.());
    this._applyConfig(config);
    if (wasEnabled) this._each('enable', (f) => f.enable?.());
  }

  /** The configuration, with `enabled` resolved. */
  getConfig(): AgenticInstrumentationConfig & { enabled: boolean } {
    return this._userConfig;
  }

  /** The hook as an undici interceptor: `new Agent().compose(instrumentation.interceptor())` (observed once). */
  interceptor(): DispatchInterceptor {
    return this._interceptor;
  }

  /** Subscribes to finished steps; returns the function that unsubscribes. */
  onStepEnd(listener: (record: StepRecord) => void): () => void {
    return this._listeners.add(listener);
  }

  /** Requests in flight that we observe (0 when everything has ended). */
  inFlight(): number {
    return this._programs?.inFlight() ?? 0;
  }

  private _applyConfig(config: AgenticInstrumentationConfig): void {
    const resolved = resolveConfig(config);
    const previous = this._config;
    this._config = resolved;
    this._userConfig = { ...config, enabled: resolved.enabled };
    this._stepDeps.providerName = resolved.providerName;
    this._stepDeps.captureContent = resolved.captureContent;
    this._propagation = new PropagationPolicy(resolved.propagateTo);
    // The program registry outlives a new configuration unless its eviction rule changed.
    if (this._programs === undefined || previous?.programIdleTimeoutMs !== resolved.programIdleTimeoutMs) this._programs = new ProgramTracker(resolved.programIdleTimeoutMs);
    const header = resolved.profileExtended ? EXTENDED : STEP_CSV_HEADER;
    if (this._writer?.dir !== resolved.profileDir || this._writer?.header !== header) {
      void this._writer?.shutdown();
      this._writer = resolved.profileDir === undefined ? undefined : new StepProfileWriter(resolved.profileDir, undefined, header);
    }
    const old = this._features;
    if (old !== undefined) for (const f of old.list) if (!old.shared.has(f)) guard(f, 'shutdown', () => void f.shutdown?.());
    this._features = buildFeatures(resolved, {
      programs: this._programs,
      writer: this._writer,
      meter: this._meter,
      omni: this._omni,
      listeners: this._listeners,
      providerName: () => this._stepDeps.providerName,
      backendsView: () => this.backends.snapshot(),
      enabled: this._enabled,
      produced: () => this._producer !== undefined,
    });
  }

  /** Runs `fn` for every feature, each isolated from the others. */
  private _each(what: string, fn: (f: Feature) => void): void {
    for (const f of this._features.list) guard(f, what, () => fn(f));
  }

}

function guard(f: Feature, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error(`${f.name}: ${what} failed`, err);
  }
}
