/**
 * agentic-otel: OpenTelemetry for agentic LLM workloads on vLLM / SGLang.
 */
export { AgenticInstrumentation } from './instrumentation.js';
export type { ProfilesApi } from './instrumentation.js';
export type { ProgramProfile, ProgramView } from './profiles/program-profiles.js';
export { STEP_CSV_HEADER } from './profiles/step-csv.js';
export { withProgram, currentProgram } from './program/program-context.js';
export type { ProgramScope } from './program/program-context.js';
export type { AgenticInstrumentationConfig, ProgramOptions, StepPhases, StepRecord } from './types.js';
export * as semconv from './semconv.js';
export { PACKAGE_VERSION } from './version.js';
export { OmniRecorder } from './omni/omni-recorder.js';
export type { OmniRequestHandle, OmniRequestInput } from './omni/omni-recorder.js';
export { OmniSummaryAggregator, checkInvariants, computeE2E, formatSummary, formatTable } from './omni/omni-stats.js';
export type { OmniE2E, OmniRequestRecord, OmniStageStats, OmniSummary, OmniTransferStats, OmniViolation } from './omni/omni-stats.js';
export { readOmniLog } from './omni/omni-log-reader.js';
export type { OmniLogReading } from './omni/omni-log-reader.js';
export { AgenticMetrics, requestErrorType } from './metrics/agentic-metrics.js';
export type { BreakerStateName, CacheType, RequestErrorType, RequestType } from './metrics/agentic-metrics.js';
export { BreakerState, CircuitBreaker, CircuitOpenError } from './metrics/circuit-breaker.js';
