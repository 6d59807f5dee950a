/**
 * The class NodeSDK registers. It wires the request hook, the program tracker and the step
 * spans together; later features (profiles, metrics, engine polling) subscribe to finished
 * steps through {@link AgenticInstrumentation.onStepEnd}.
 *
 * It implements `@opentelemetry/instrumentation`'s `Instrumentation` interface without
 * depending on that package: we patch no module, so its module-hooking machinery is not needed.
 * The package has no runtime dependency beside the `@opentelemetry/api` peer (`undici` is an
 * optional peer, for the types of {@link AgenticInstrumentation.interceptor}).
 */
import { diag, metrics, trace, type Meter, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { getGlobalDispatcher, interceptDispatcher, setGlobalDispatcher } from './http/global-dispatcher.js';
import { createCompletionInterceptor, type ArrivedRequest, type InterceptorHost } from './http/completion-interceptor.js';
import { ProgramTracker } from './program/program-tracker.js';
import { ProgramProfiles, type ProgramProfile, type ProgramView } from './profiles/program-profiles.js';
import { formatStepRow } from './profiles/step-csv.js';
import { StepProfileWriter } from './profiles/step-profile-writer.js';
import { StatusServer } from './profiles/status-server.js';
import { OmniRecorder } from './omni/omni-recorder.js';
import { AgenticMetrics } from './metrics/agentic-metrics.js';
import { isNoopMeter } from './metrics/noop-meter.js';
import { CircuitOpenError } from './metrics/circuit-breaker.js';
import { now } from './util/clock.js';
import type { StepInit } from './steps/agent-step.js';
import type { Attributes } from '@opentelemetry/api';
import { BackendPoller, type BackendState } from './engines/backend-poller.js';
import { BackendGauges } from './engines/backend-gauges.js';
import { thunderAgentView } from './engines/backend-readings.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_CAPTURE_MESSAGE_CONTENT } from './semconv.js';
import { AgentStep, type StepDeps } from './steps/agent-step.js';
import type { AgenticInstrumentationConfig, StepRecord } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const DEFAULT_PATHS = ['/v1/chat/completions', '/v1/completions'];
const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** How long a redirected step waits for its client to follow (fetch follows at once). */
const REDIRECT_FOLLOW_MS = 1000;
const ENV_PROFILE_DIR = 'AGENTIC_OTEL_PROFILE_DIR';

/** `instrumentation.profiles`: ThunderAgent's per-program views. */
export interface ProfilesApi {
  /** Whether profiling is on (the CSV and the profile views). */
  readonly enabled: boolean;
  /** The CSV being written, when profiling is on. */
  readonly csvPath: string | undefined;
  /** One program's profile (undefined when unknown or profiling is off). */
  get(programId: string): ProgramProfile | undefined;
  /** Every live program's profile (empty when profiling is off). */
  all(): Record<string, ProgramProfile>;
  /** Every live program: backend, status, tokens, steps, and its profile when profiling is on. */
  programs(): Record<string, ProgramView>;
  /** Writes the CSV rows still queued (they are otherwise written within a second, and on shutdown). */
  flush(): Promise<void>;
}

/** Splits every LLM call of every agent program into phases, as spans. */
export class AgenticInstrumentation {
  readonly instrumentationName = PACKAGE_NAME;
  readonly instrumentationVersion = PACKAGE_VERSION;

  private _config!: AgenticInstrumentationConfig & { enabled: boolean };
  private _paths!: Set<string>;
  private _meter: Meter;
  private _enabled = false;
  private _programs!: ProgramTracker;
  private readonly _interceptor: Dispatcher.DispatcherComposeInterceptor;
  private _installed: Dispatcher | undefined;
  private _previous: Dispatcher | undefined;
  private readonly _stepListeners = new Set<(record: StepRecord) => void>();
  private readonly _stepDeps: StepDeps;
  private _profiles!: ProgramProfiles;
  private _writer: StepProfileWriter | undefined;
  private _status: StatusServer | undefined;
  private _omni: OmniRecorder | undefined;
  private _metrics!: AgenticMetrics;
  private _poller: BackendPoller | undefined;
  private _backendGauges: BackendGauges | undefined;
  private _metricsKey = '';
  private readonly _chunkAttributes = new WeakMap<StepInit, Attributes>();
  private _statusListening: Promise<number | undefined> = Promise.resolve(undefined);
  private readonly _propagation = new Map<string, boolean>();
  /** Steps whose last attempt was redirected, by program and location, until the client follows. */
  private readonly _redirects = new Map<string, { step: AgentStep; timer: NodeJS.Timeout }>();

  constructor(config: AgenticInstrumentationConfig = {}) {
    this._meter = metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this._stepDeps = {
      tracer: trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      providerName: 'vllm',
      captureContent: false,
      onStepEnd: (record) => this._stepEnded(record),
      onRedirect: (step, init, location) => this._awaitRedirect(step, init.fingerprint, location),
      chunkMetrics: false,
      onChunks: (step, count, interval) => {
        let attributes = this._chunkAttributes.get(step);
        if (attributes === undefined) {
          attributes = this._metrics.chunkAttributes(step.operation, step.request?.model, step.serverAddress, step.serverPort);
          this._chunkAttributes.set(step, attributes);
        }
        this._metrics.recordChunks(count, interval, attributes);
      },
    };
    this._stepDeps.chunkMetrics = !isNoopMeter(this._meter);
    this._applyConfig(config);
    this._interceptor = createCompletionInterceptor(this._host());
    if (this._config.enabled) this.enable();
  }

  /** Starts observing: installs the hook on the global dispatcher (unless configured not to). */
  enable(): void {
    if (this._enabled) return;
    this._enabled = true;
    this._metrics.updateMetricInstruments(this._meter);
    if (this._config.installGlobalDispatcher !== false) {
      const previous = getGlobalDispatcher();
      if (previous === undefined || typeof previous.dispatch !== 'function') {
        diag.warn('agentic-otel: no undici global dispatcher to hook; compose instrumentation.interceptor() onto your own dispatcher');
      } else {
        this._previous = previous;
        this._installed = interceptDispatcher(previous, this._interceptor);
        setGlobalDispatcher(this._installed);
      }
    }
    this._startStatusServer();
    if (this._poller !== undefined) {
      this._backendGauges?.updateMetricInstruments(this._meter);
      this._poller.start();
    }
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
    this._programs.clear();
    this._metrics.dispose();
    this._poller?.stop();
    this._backendGauges?.dispose();
    void this.shutdown();
  }

  /**
   * Writes every step profile row still queued and closes the status server. Call it before
   * the process exits (NodeSDK's shutdown does not reach instrumentations).
   */
  async shutdown(): Promise<void> {
    for (const [key, pending] of this._redirects) {
      clearTimeout(pending.timer);
      this._redirects.delete(key);
      pending.step.endRedirected();
    }
    const status = this._status;
    this._status = undefined;
    await Promise.all([this._writer?.shutdown(), status?.close()]);
  }

  /** ThunderAgent's per-program views. */
  get profiles(): ProfilesApi {
    const profiles = this._profiles;
    const enabled = this._writer !== undefined;
    return {
      enabled,
      csvPath: this._writer?.path,
      get: (id) => (enabled ? profiles.get(id) : undefined),
      all: () => (enabled ? profiles.all() : {}),
      programs: () => {
        const views = profiles.programs();
        if (!enabled) for (const v of Object.values(views)) v.profile = null;
        return views;
      },
      flush: async () => {
        await this._writer?.flush();
      },
    };
  }

  /** The status server's port once it listens (undefined when it is off or failed to start). */
  statusServerPort(): Promise<number | undefined> {
    return this._statusListening;
  }

  /** Whether the hook is observing. */
  isEnabled(): boolean {
    return this._enabled;
  }

  /** Called by NodeSDK / registerInstrumentations. */
  setTracerProvider(tracerProvider: TracerProvider): void {
    this._stepDeps.tracer = tracerProvider.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
  }

  /** Called by NodeSDK / registerInstrumentations. */
  setMeterProvider(meterProvider: MeterProvider): void {
    this._meter = meterProvider.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this._stepDeps.chunkMetrics = !isNoopMeter(this._meter);
    this._omni?.updateMetricInstruments(this._meter);
    this._metrics.updateMetricInstruments(this._meter);
    if (this._enabled) this._backendGauges?.updateMetricInstruments(this._meter);
  }

  /** The polled engines: their state, and ThunderAgent's `GET /metrics` JSON view. */
  get backends(): { states: readonly BackendState[]; snapshot(): Record<string, unknown>; pollNow(): Promise<void> } {
    const poller = this._poller;
    return {
      states: poller?.backends ?? [],
      snapshot: () => thunderAgentView(poller?.backends ?? [], this._config.pollIntervalMs ?? 5000, Object.values(this._profiles.programs())),
      pollNow: async () => poller?.pollAll(),
    };
  }

  /**
   * TinyLLM's metrics collector API, for what only the application knows (nodes, graphs, queues,
   * model loads); requests, tokens, errors, cache and breakers are recorded automatically.
   */
  get metrics(): AgenticMetrics {
    return this._metrics;
  }

  /** Omni pipelines (vLLM-omni): stage and transfer spans, metrics, the summary and tables. */
  get omni(): OmniRecorder {
    return (this._omni ??= new OmniRecorder(() => this._stepDeps.tracer, this._meter));
  }

  /** The meter our features record with. */
  get meter(): Meter {
    return this._meter;
  }

  /** Replaces the configuration (the `enabled` flag is read by registerInstrumentations). */
  setConfig(config: AgenticInstrumentationConfig): void {
    this._applyConfig(config);
  }

  /** The configuration, with `enabled` resolved. */
  getConfig(): AgenticInstrumentationConfig & { enabled: boolean } {
    return this._config;
  }

  /**
   * The request hook as an undici interceptor, for applications that send through their own
   * dispatcher: `new Agent().compose(instrumentation.interceptor())`. Composing it where the
   * global hook also sees the request is harmless: a request is observed once.
   */
  interceptor(): Dispatcher.DispatcherComposeInterceptor {
    return this._interceptor;
  }

  /** Subscribes to finished steps; returns the function that unsubscribes. */
  onStepEnd(listener: (record: StepRecord) => void): () => void {
    this._stepListeners.add(listener);
    return () => this._stepListeners.delete(listener);
  }

  /** Requests in flight that we observe (0 when everything has ended). */
  inFlight(): number {
    return this._programs.inFlight();
  }

  private _applyConfig(config: AgenticInstrumentationConfig): void {
    const idle = config.programIdleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!(idle > 0)) throw new RangeError(`programIdleTimeoutMs must be a positive number, got ${String(config.programIdleTimeoutMs)}`);
    this._config = { ...config, enabled: config.enabled ?? true };
    this._propagation.clear();
    this._paths = new Set(config.paths ?? DEFAULT_PATHS);
    this._stepDeps.providerName = config.providerName ?? 'vllm';
    this._stepDeps.captureContent = config.captureContent === true || process.env[ENV_CAPTURE_MESSAGE_CONTENT]?.toLowerCase() === 'true';
    const prefix = config.metricPrefix ?? 'agentic';
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(prefix)) throw new RangeError(`metricPrefix must be a Prometheus name prefix, got '${prefix}'`);
    const breaker = config.circuitBreaker ?? {};
    const key = JSON.stringify([prefix, breaker.threshold, breaker.cooldownMs]);
    if (key !== this._metricsKey) {
      this._metrics?.dispose();
      const breakerOptions: { threshold?: number; cooldownMs?: number } = {};
      if (breaker.threshold !== undefined) breakerOptions.threshold = breaker.threshold;
      if (breaker.cooldownMs !== undefined) breakerOptions.cooldownMs = breaker.cooldownMs;
      this._metrics = new AgenticMetrics(this._meter, prefix, () => this._stepDeps.providerName, breakerOptions);
      this._metricsKey = key;
    }
    this._poller?.stop();
    this._backendGauges?.dispose();
    this._poller = undefined;
    this._backendGauges = undefined;
    if (config.backends !== undefined && config.backends.length > 0) {
      const pollerOptions: ConstructorParameters<typeof BackendPoller>[1] = {
        // Breakers follow request outcomes: a poll only adds a failure when the engine cannot be
        // reached at all (its /metrics failing while completions succeed must not open it), and a
        // successful poll never closes a breaker that requests opened.
        onPoll: (b, ok, unreachable) => {
          if (!ok && unreachable) this._metrics.recordBackendUnreachable(new URL(b.url).host, now());
        },
      };
      if (config.pollIntervalMs !== undefined) pollerOptions.pollIntervalMs = config.pollIntervalMs;
      if (config.pollTimeoutMs !== undefined) pollerOptions.pollTimeoutMs = config.pollTimeoutMs;
      this._poller = new BackendPoller(config.backends, pollerOptions);
      this._backendGauges = new BackendGauges(prefix, () => this._poller?.backends ?? [], () => Object.values(this._profiles.programs()));
      if (this._enabled) {
        this._backendGauges.updateMetricInstruments(this._meter);
        this._poller.start();
      }
    }
    this._programs = new ProgramTracker(idle);
    this._profiles = new ProgramProfiles(this._programs);
    const envDir = process.env[ENV_PROFILE_DIR];
    const profileDir = typeof config.profile === 'object' && config.profile.dir !== undefined ? config.profile.dir : envDir;
    const profiling = config.profile === true || typeof config.profile === 'object' || (config.profile === undefined && envDir !== undefined && envDir !== '');
    if (profiling) {
      const dir = profileDir !== undefined && profileDir !== '' ? profileDir : join(tmpdir(), 'agentic_otel_profiles');
      if (this._writer?.dir !== dir) {
        void this._writer?.shutdown();
        this._writer = new StepProfileWriter(dir);
      }
    } else if (this._writer !== undefined) {
      void this._writer.shutdown();
      this._writer = undefined;
    }
  }

  private _startStatusServer(): void {
    const options = this._config.statusServer;
    if (options === undefined || this._status !== undefined) return;
    const server = (this._status = new StatusServer());
    const profilingOff = { status: 400, body: { error: 'profiling is not enabled (set profile: true or AGENTIC_OTEL_PROFILE_DIR)' } };
    server.route('/health', () => {
      const programs = Object.values(this._profiles.programs());
      const reasoning = programs.filter((p) => p.status === 'reasoning').length;
      return { status: 200, body: { status: 'ok', profile_enabled: this.profiles.enabled, programs_count: programs.length, reasoning_count: reasoning, acting_count: programs.length - reasoning } };
    });
    server.route('/programs', () => ({ status: 200, body: this.profiles.programs() }));
    server.route('/metrics', () => ({ status: 200, body: this.backends.snapshot() }));
    server.route('/profiles', () => (this.profiles.enabled ? { status: 200, body: this.profiles.all() } : profilingOff));
    server.route('/profiles', (id) => {
      if (!this.profiles.enabled) return profilingOff;
      const profile = this.profiles.get(id as string);
      return profile === undefined ? { status: 404, body: { error: `no profile for program ${id as string}` } } : { status: 200, body: profile };
    }, { prefix: true });
    this._statusListening = server.listen(options.port, options.host ?? '127.0.0.1').catch((err: unknown) => {
      diag.error(`agentic-otel: status server could not listen on ${options.host ?? '127.0.0.1'}:${options.port}`, err);
      return undefined;
    });
  }

  private _host(): InterceptorHost {
    return {
      isEnabled: () => this._enabled,
      isCompletionPath: (path) => this._paths.has(path),
      injectIncludeUsage: () => this._config.injectIncludeUsage !== false,
      propagateTraceContext: (origin) => this._config.propagateTraceContext !== false && this._propagatesTo(origin),
      captureContent: () => this._stepDeps.captureContent,
      beginStep: (arrived) => this._beginStep(arrived),
      admit: (origin) => {
        if (this._config.circuitBreaker?.failFast !== true) return undefined;
        const server = serverOf(origin);
        if (server === undefined) return undefined;
        const backend = `${server.address}:${server.port}`;
        return this._metrics.breaker(backend).allows(now()) ? undefined : new CircuitOpenError(backend);
      },
    };
  }

  /** Whether `origin` receives our trace context under `propagateTo` (decided once per origin). */
  private _propagatesTo(origin: string | undefined): boolean {
    const rule = this._config.propagateTo;
    if (rule === undefined) return true;
    if (origin === undefined) return false;
    let decision = this._propagation.get(origin);
    if (decision === undefined) {
      decision = propagationAllowed(rule, origin);
      if (this._propagation.size >= MAX_CACHED_SERVERS) this._propagation.clear();
      this._propagation.set(origin, decision);
    }
    return decision;
  }

  /**
   * A step's attempt was redirected: the client's follow-up (the location's URL, the same body)
   * continues the step. fetch and undici's redirect interceptor follow at once (and the hop may
   * run outside the application's async context, so neither context nor program identifies
   * it); when nothing follows within a second, the step ends with the redirect.
   */
  private _awaitRedirect(step: AgentStep, fingerprint: string | undefined, location: URL): boolean {
    const key = `${location.origin}${location.pathname}${location.search}\n${fingerprint ?? ''}`;
    if (this._redirects.has(key)) return false;
    const timer = setTimeout(() => {
      this._redirects.delete(key);
      step.endRedirected();
    }, REDIRECT_FOLLOW_MS);
    this._redirects.set(key, { step, timer });
    return true;
  }

  private _beginStep(arrived: ArrivedRequest): AgentStep {
    if (this._redirects.size > 0 && arrived.url !== undefined) {
      const key = `${arrived.url}\n${arrived.fingerprint ?? ''}`;
      const pending = this._redirects.get(key);
      if (pending !== undefined) {
        clearTimeout(pending.timer);
        this._redirects.delete(key);
        return pending.step;
      }
    }
    const ticket = this._programs.beginStep(arrived.programId, arrived.arrive);
    const server = serverOf(arrived.origin);
    this._metrics.requestStarted(arrived.request?.model ?? 'unknown', arrived.agentName ?? 'default');
    const init: StepInit = {
      programId: arrived.programId,
      agentName: arrived.agentName,
      stepId: ticket.stepId,
      previousEnd: ticket.previousEnd,
      arrive: arrived.arrive,
      parentContext: arrived.parentContext,
      operation: arrived.operation,
      request: arrived.request,
      serverAddress: server?.address,
      serverPort: server?.port,
      backend: arrived.origin,
      url: arrived.url,
      clientTimeoutS: arrived.clientTimeoutS,
      fingerprint: arrived.fingerprint,
    };
    return new AgentStep(this._stepDeps, init);
  }

  private _stepEnded(record: StepRecord): void {
    this._profiles.add(this._programs.endStep(record.programId, record.endTime), record);
    const backend = record.serverAddress !== undefined && record.serverPort !== undefined && record.errorType !== 'CIRCUIT_OPEN' ? `${record.serverAddress}:${record.serverPort}` : undefined;
    this._metrics.recordStep(record, backend, record.endTime);
    this._writer?.write(formatStepRow(record));
    for (const listener of this._stepListeners) {
      try {
        listener(record);
      } catch (err) {
        diag.error('agentic-otel: a step listener failed', err);
      }
    }
  }
}

/** host and port by request origin; an application talks to a handful of engines. */
const servers = new Map<string, { address: string; port: number } | undefined>();
const MAX_CACHED_SERVERS = 256;

function serverOf(origin: string | undefined): { address: string; port: number } | undefined {
  if (origin === undefined) return undefined;
  if (servers.has(origin)) return servers.get(origin);
  let server: { address: string; port: number } | undefined;
  try {
    const url = new URL(origin);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    server = { address: url.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    server = undefined;
  }
  if (servers.size >= MAX_CACHED_SERVERS) servers.clear();
  servers.set(origin, server);
  return server;
}

/** `propagateTo` applied to one origin. */
function propagationAllowed(rule: NonNullable<AgenticInstrumentationConfig['propagateTo']>, origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  try {
    if (typeof rule === 'function') return rule(url) === true;
    return rule.some((r) => (typeof r === 'string' ? r.replace(/\/$/, '') === url.origin || r === url.host || r === url.hostname : r.test(url.origin)));
  } catch (err) {
    diag.error('agentic-otel: propagateTo failed; no trace context sent to ' + url.origin, err);
    return false;
  }
}
