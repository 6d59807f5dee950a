/**
 * `agentic-otel/omni`: vLLM-omni's per-request statistics, summary and tables, and the reader of
 * its `--log-stats` logs. The recorder itself comes from `instrumentation.omni`.
 */
export type { OmniRecorder, OmniRequestHandle, OmniRequestInput } from './omni-recorder.js';
export { OmniSummaryAggregator, checkInvariants, computeE2E, formatSummary, formatTable } from './omni-stats.js';
export type { OmniE2E, OmniRequestRecord, OmniStageStats, OmniSummary, OmniTransferStats, OmniViolation } from './omni-stats.js';
export { readOmniLog } from './omni-log-reader.js';
export type { OmniLogReading } from './omni-log-reader.js';
