/**
 * agentic-otel: OpenTelemetry for agentic LLM workloads on vLLM / SGLang. The root exports the
 * instrumentation, program scoping, the names we emit and the types public methods return;
 * omni (`agentic-otel/omni`) and the engine simulator (`agentic-otel/simulator`) are subpaths.
 */
export { AgenticInstrumentation } from './instrumentation.js';
export type { AgenticInstrumentationConfig, DispatchFunction, DispatchInterceptor, ProgramOptions, StepPhases, StepRecord } from './types.js';
export { withProgram, currentProgram, pausing } from './program/program-context.js';
export type { ProgramScope } from './program/program-context.js';
export type { ProfilesApi } from './profiles/profiles-feature.js';
export type { ProgramProfile, ProgramView } from './profiles/program-profiles.js';
export { STEP_CSV_HEADER } from './profiles/step-csv.js';
export type { BackendsApi } from './engines/poller-feature.js';
export type { EngineMetricProducer } from './engines/engine-metric-producer.js';
export type { BackendConfig, BackendState, TimedSnapshot } from './engines/backend-state.js';
export type { EngineKind, EngineSnapshot } from './engines/engine-snapshot.js';
export type { TinyLlmMetrics, CacheType, RequestType } from './metrics/tinyllm-metrics.js';
export type { TinyLlmMetrics as AgenticMetrics } from './metrics/tinyllm-metrics.js';
export type { OmniRecorder, OmniRequestHandle, OmniRequestInput } from './omni/omni-recorder.js';
export { requestErrorType } from './breakers/request-error-type.js';
export { BreakerState, CircuitOpenError } from './breakers/circuit-breaker.js';
export type { BreakerStateName, RequestErrorType } from './semconv.js';
export * as semconv from './semconv.js';
export { PACKAGE_VERSION } from './version.js';
