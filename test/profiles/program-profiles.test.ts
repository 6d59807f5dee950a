import { describe, expect, test } from 'vitest';
import { ProgramTracker } from '../../src/program/program-tracker.js';
import { ProgramProfiles, quantile } from '../../src/profiles/program-profiles.js';
import type { StepRecord } from '../../src/types.js';

/** The registry and the profiles over it, fed as the instrumentation feeds them. */
function registry(idleTimeoutMs = 60_000) {
  const programs = new ProgramTracker(idleTimeoutMs);
  const profiles = new ProgramProfiles(programs);
  return {
    programs,
    profiles,
    add(record: StepRecord): void {
      programs.beginStep(record.programId, record.arriveTime);
      profiles.add(programs.endStep(record.programId, record.endTime), record);
    },
  };
}

const step = (programId: string, stepId: number, p: [number, number, number, number], over: Partial<StepRecord> = {}): StepRecord => ({
  programId, stepId, operation: 'chat', streamed: true, attempts: 1,
  phases: { toolCallS: p[0], pauseS: p[1], prefillS: p[2], decodeS: p[3] },
  finishReasons: [], arriveTime: 0, startTime: 0, endTime: 1_000_000 + stepId * 1000, backend: 'http://e:8000', ...over,
});

describe('ProgramProfiles', () => {
  test('ThunderAgent averages: tool_call over steps 2..n, kv over known steps 2..n', () => {
    const r = registry();
    const p = r.profiles;
    r.add(step('a', 1, [0, 0, 0.1, 1.0], { kvHitRate: 0.9, inputTokens: 100, outputTokens: 10, totalTokens: 110 }));
    r.add(step('a', 2, [2.0, 0, 0.2, 2.0], { kvHitRate: 0.5, inputTokens: 200, outputTokens: 20, cachedTokens: 100, totalTokens: 220 }));
    r.add(step('a', 3, [4.0, 0, 0.3, 3.0], { inputTokens: 300, outputTokens: 30, totalTokens: 330 }));
    expect(p.get('a')).toMatchObject({
      step_count: 3, avg_prefill_s: 0.2, avg_decode_s: 2, avg_pause_s: 0, avg_tool_call_s: 3,
      avg_kv_hit_rate: 0.5, avg_prompt_tokens: 200, avg_completion_tokens: 20, avg_cached_tokens: 100,
      p50_prefill_s: 0.2, p95_prefill_s: 0.3, p50_tool_call_s: 2, p95_tool_call_s: 4,
    });
    expect(p.programs()['a']).toEqual({ backend: 'http://e:8000', total_tokens: 330, step_count: 3, status: 'acting', state: 'active', last_step_at: 1003, profile: p.get('a') });
  });

  test('one step: tool_call 0; nothing known: nulls, like the real ThunderAgent output', () => {
    const r = registry();
    const p = r.profiles;
    r.add(step('b', 1, [0, 0.0001, 0, 0]));
    expect(p.get('b')).toMatchObject({ step_count: 1, avg_tool_call_s: 0, avg_kv_hit_rate: null, avg_cached_tokens: null, avg_prompt_tokens: null });
    expect(p.programs()['b']!.status).toBe('acting');
    r.programs.beginStep('b', 1_002_000); // its second request is in flight
    expect(p.programs()['b']!.status).toBe('reasoning');
    r.programs.beginStep('c', 1_002_000); // a program with no finished step has no profile yet
    expect(p.programs()['c']).toBeUndefined();
    expect(p.get('c')).toBeUndefined();
  });

  test('quantiles by nearest rank', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(quantile([], 0.5)).toBe(0);
  });

  test('idle programs leave memory with their profile; programs in flight stay', () => {
    const r = registry(1000);
    r.add(step('idle', 1, [0, 0, 0, 0], { endTime: 0 }));
    r.add(step('busy', 1, [0, 0, 0, 0], { endTime: 0 }));
    r.programs.beginStep('busy', 1);
    r.programs.sweep(10_000);
    expect(r.profiles.get('idle')).toBeUndefined();
    expect(r.profiles.get('busy')).toMatchObject({ step_count: 1 });
    expect(Object.keys(r.profiles.all())).toEqual(['busy']);
  });

  test('a step that ends after the registry forgot its program still counts', () => {
    const r = registry();
    r.programs.beginStep('a', 0);
    r.programs.clear(); // disable() while the request was in flight
    r.profiles.add(r.programs.endStep('a', 10), step('a', 1, [0, 0, 0.1, 0.2], { endTime: 10 }));
    expect(r.profiles.get('a')).toMatchObject({ step_count: 1, avg_decode_s: 0.2 });
    expect(r.programs.inFlight()).toBe(0);
  });
});
