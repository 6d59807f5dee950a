/**
 * `step_profiles.csv`, exactly as ThunderAgent writes it
 * (shared/reference/thunderagent-profiling-and-metrics.md), plus what it lacks: RFC 4180
 * quoting and neutralised spreadsheet formulas. Pure.
 */
import type { StepRecord } from '../types.js';

/** The header line (without its newline). */
export const STEP_CSV_HEADER = 'program_id,step_id,prefill_s,decode_s,pause_s,tool_call_s,kv_hit_rate,completed_at';
/**
 * The extended shape (`profile: { extended: true }`): ThunderAgent's eight columns first and
 * unchanged, then what they cannot say: `error_type` (empty when the step succeeded) and
 * `inference_s` (a non-streamed step's model time, start → end; empty when streamed).
 */
export const STEP_CSV_EXTENDED_HEADER = `${STEP_CSV_HEADER},error_type,inference_s`;

/**
 * Seconds rounded to 4 decimals, printed as Python prints a float (`0.0`, `1.2345`,
 * `1770532800.0`), so scripts written against ThunderAgent's file read ours unchanged.
 */
export function formatSeconds(value: number): string {
  const rounded = Math.round(value * 1e4) / 1e4;
  const text = String(rounded === 0 ? 0 : rounded);
  return Number.isInteger(rounded) ? `${text}.0` : text;
}

/** One CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A program id as a CSV field. An id that starts like a formula (`=`, `+`, `-`, `@`, tab, CR)
 * is prefixed with `'` so a spreadsheet shows it as text instead of evaluating it (OWASP CSV
 * injection).
 */
export function programIdField(programId: string): string {
  return csvField(/^[=+\-@\t\r]/.test(programId) ? `'${programId}` : programId);
}

/**
 * The row of one finished step, with its newline. kv_hit_rate is empty on a program's first
 * step (as ThunderAgent writes it) and when unknown; tool_call_s is 0 on the first step.
 */
export function formatStepRow(record: StepRecord, extended = false): string {
  const p = record.phases;
  const kv = record.stepId > 1 && record.kvHitRate !== undefined ? formatSeconds(record.kvHitRate) : '';
  return [
    programIdField(record.programId),
    String(record.stepId),
    formatSeconds(p.prefillS),
    formatSeconds(p.decodeS),
    formatSeconds(p.pauseS),
    formatSeconds(record.stepId > 1 ? p.toolCallS : 0),
    kv,
    formatSeconds(record.endTime / 1000),
    ...(extended ? [csvField(record.errorType ?? ''), p.inferenceS === undefined ? '' : formatSeconds(p.inferenceS)] : []),
  ].join(',') + '\n';
}
