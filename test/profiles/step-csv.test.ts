import { describe, expect, test } from 'vitest';
import { csvField, formatSeconds, formatStepRow, programIdField, STEP_CSV_HEADER } from '../../src/profiles/step-csv.js';
import type { StepRecord } from '../../src/types.js';

const record = (over: Partial<StepRecord> = {}): StepRecord => ({
  programId: 'agent-1', stepId: 2, operation: 'chat', streamed: true, attempts: 1,
  phases: { toolCallS: 1.23454, pauseS: 0, prefillS: 0.08214, decodeS: 1.87336 },
  kvHitRate: 0.85, finishReasons: ['stop'], arriveTime: 0, startTime: 0, endTime: 1770532805000, ...over,
});

describe('step_profiles.csv rows', () => {
  test('header and the reference example row, byte for byte', () => {
    expect(STEP_CSV_HEADER).toBe('program_id,step_id,prefill_s,decode_s,pause_s,tool_call_s,kv_hit_rate,completed_at');
    // thunderagent-profiling-and-metrics.md: agent-1,2,0.0821,1.8734,0.0,1.2345,0.85,1770532805.0
    expect(formatStepRow(record())).toBe('agent-1,2,0.0821,1.8734,0.0,1.2345,0.85,1770532805.0\n');
  });

  test('first step: kv_hit_rate empty and tool_call 0, even when known', () => {
    expect(formatStepRow(record({ stepId: 1, phases: { toolCallS: 0, pauseS: 0.5123, prefillS: 0.2011, decodeS: 3.1234 }, endTime: 1770532803000 })))
      .toBe('agent-1,1,0.2011,3.1234,0.5123,0.0,,1770532803.0\n');
  });

  test('unknown kv hit rate is empty, not 0', () => {
    expect(formatStepRow(record({ kvHitRate: undefined })).split(',')[6]).toBe('');
  });

  test('rounding to 4 decimals, printed as Python prints floats', () => {
    expect(formatSeconds(0)).toBe('0.0');
    expect(formatSeconds(2)).toBe('2.0');
    expect(formatSeconds(0.00004)).toBe('0.0');
    expect(formatSeconds(0.00005)).toBe('0.0001');
    expect(formatSeconds(1.23456)).toBe('1.2346');
    expect(formatSeconds(1770532800.123456)).toBe('1770532800.1235');
  });

  test('quoting: commas, quotes and line breaks', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(formatStepRow(record({ programId: 'team,7' })).startsWith('"team,7",2,')).toBe(true);
  });

  test('formula injection is neutralised', () => {
    for (const id of ['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tcmd']) {
      const field = programIdField(id);
      expect(field.replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(programIdField('=1,2')).toBe(`"'=1,2"`);
    expect(programIdField('agent-=1')).toBe('agent-=1');
  });
});
