/**
 * agentic-otel: OpenTelemetry for agentic LLM workloads on vLLM / SGLang.
 */
export { AgenticInstrumentation } from './instrumentation.js';
export { withProgram, currentProgram } from './program/program-context.js';
export type { ProgramScope } from './program/program-context.js';
export type { AgenticInstrumentationConfig, ProgramOptions, StepPhases, StepRecord } from './types.js';
export * as semconv from './semconv.js';
export { PACKAGE_VERSION } from './version.js';
