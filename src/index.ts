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
