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
import { getGlobalDispatcher, setGlobalDispatcher } from './http/global-dispatcher.js';
import { createCompletionInterceptor, type ArrivedRequest, type InterceptorHost } from './http/completion-interceptor.js';
import { ProgramTracker } from './program/program-tracker.js';
import { ENV_CAPTURE_MESSAGE_CONTENT } from './semconv.js';
import { AgentStep, type StepDeps } from './steps/agent-step.js';
import type { AgenticInstrumentationConfig, StepRecord } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const DEFAULT_PATHS = ['/v1/chat/completions', '/v1/completions'];
const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

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

  constructor(config: AgenticInstrumentationConfig = {}) {
    this._meter = metrics.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
    this._stepDeps = {
      tracer: trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION),
      providerName: 'vllm',
      captureContent: false,
      onStepEnd: (record) => this._stepEnded(record),
    };
    this._applyConfig(config);
    this._interceptor = createCompletionInterceptor(this._host());
    if (this._config.enabled) this.enable();
  }

  /** Starts observing: installs the hook on the global dispatcher (unless configured not to). */
  enable(): void {
    if (this._enabled) return;
    this._enabled = true;
    if (this._config.installGlobalDispatcher !== false) {
      const previous = getGlobalDispatcher();
      if (previous === undefined || typeof previous.compose !== 'function') {
        diag.warn('agentic-otel: no undici global dispatcher with compose() (undici >= 6.21) to hook; compose instrumentation.interceptor() onto your own dispatcher');
        return;
      }
      this._previous = previous;
      this._installed = previous.compose(this._interceptor);
      setGlobalDispatcher(this._installed);
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
    this._paths = new Set(config.paths ?? DEFAULT_PATHS);
    this._stepDeps.providerName = config.providerName ?? 'vllm';
    this._stepDeps.captureContent = config.captureContent === true || process.env[ENV_CAPTURE_MESSAGE_CONTENT]?.toLowerCase() === 'true';
    this._programs = new ProgramTracker(idle);
  }

  private _host(): InterceptorHost {
    return {
      isEnabled: () => this._enabled,
      isCompletionPath: (path) => this._paths.has(path),
      injectIncludeUsage: () => this._config.injectIncludeUsage !== false,
      propagateTraceContext: () => this._config.propagateTraceContext !== false,
      beginStep: (arrived) => this._beginStep(arrived),
    };
  }

  private _beginStep(arrived: ArrivedRequest): AgentStep {
    const ticket = this._programs.beginStep(arrived.programId, arrived.arrive);
    const server = serverOf(arrived.origin);
    return new AgentStep(this._stepDeps, {
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
    });
  }

  private _stepEnded(record: StepRecord): void {
    this._programs.endStep(record.programId, record.endTime);
    for (const listener of this._stepListeners) {
      try {
        listener(record);
      } catch (err) {
        diag.error('agentic-otel: a step listener failed', err);
      }
    }
  }
}

function serverOf(origin: string | undefined): { address: string; port: number } | undefined {
  if (origin === undefined) return undefined;
  try {
    const url = new URL(origin);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { address: url.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}
