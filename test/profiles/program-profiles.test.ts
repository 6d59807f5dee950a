import { describe, expect, test } from 'vitest';
import { ProgramProfiles, quantile } from '../../src/profiles/program-profiles.js';
import type { StepRecord } from '../../src/types.js';

const step = (programId: string, stepId: number, p: [number, number, number, number], over: Partial<StepRecord> = {}): StepRecord => ({
  programId, stepId, operation: 'chat', streamed: true,
  phases: { toolCallS: p[0], pauseS: p[1], prefillS: p[2], decodeS: p[3] },
  finishReasons: [], arriveTime: 0, startTime: 0, endTime: 1_000_000 + stepId * 1000, backend: 'http://e:8000', ...over,
});

describe('ProgramProfiles', () => {
  test('ThunderAgent averages: tool_call over steps 2..n, kv over known steps 2..n', () => {
    const p = new ProgramProfiles(60_000, () => false);
    p.add(step('a', 1, [0, 0, 0.1, 1.0], { kvHitRate: 0.9, inputTokens: 100, outputTokens: 10, totalTokens: 110 }));
    p.add(step('a', 2, [2.0, 0, 0.2, 2.0], { kvHitRate: 0.5, inputTokens: 200, outputTokens: 20, cachedTokens: 100, totalTokens: 220 }));
    p.add(step('a', 3, [4.0, 0, 0.3, 3.0], { inputTokens: 300, outputTokens: 30, totalTokens: 330 }));
    expect(p.get('a')).toMatchObject({
      step_count: 3, avg_prefill_s: 0.2, avg_decode_s: 2, avg_pause_s: 0, avg_tool_call_s: 3,
      avg_kv_hit_rate: 0.5, avg_prompt_tokens: 200, avg_completion_tokens: 20, avg_cached_tokens: 100,
      p50_prefill_s: 0.2, p95_prefill_s: 0.3, p50_tool_call_s: 2, p95_tool_call_s: 4,
    });
    expect(p.programs()['a']).toEqual({ backend: 'http://e:8000', total_tokens: 330, step_count: 3, status: 'acting', state: 'active', last_step_at: 1003, profile: p.get('a') });
  });

  test('one step: tool_call 0; nothing known: nulls, like the real ThunderAgent output', () => {
    const p = new ProgramProfiles(60_000, () => true);
    p.add(step('b', 1, [0, 0.0001, 0, 0]));
    expect(p.get('b')).toMatchObject({ step_count: 1, avg_tool_call_s: 0, avg_kv_hit_rate: null, avg_cached_tokens: null, avg_prompt_tokens: null });
    expect(p.programs()['b']!.status).toBe('reasoning');
  });

  test('quantiles by nearest rank', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(quantile([], 0.5)).toBe(0);
  });

  test('idle programs leave memory; programs in flight stay', () => {
    const inFlight = new Set(['busy']);
    const p = new ProgramProfiles(1000, (id) => inFlight.has(id));
    p.add(step('idle', 1, [0, 0, 0, 0], { endTime: 0 }));
    p.add(step('busy', 1, [0, 0, 0, 0], { endTime: 0 }));
    p.sweep(10_000);
    expect(p.get('idle')).toBeUndefined();
    expect(p.get('busy')).toBeDefined();
  });
});
