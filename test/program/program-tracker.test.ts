import { describe, expect, test } from 'vitest';
import { ProgramTracker } from '../../src/program/program-tracker.js';
import { currentProgram, withProgram } from '../../src/program/program-context.js';

describe('ProgramTracker', () => {
  test('step ids are 1-based per program; previous end is the last end', () => {
    const t = new ProgramTracker(60_000);
    expect(t.beginStep('a', 1000)).toEqual({ stepId: 1, previousEnd: undefined });
    expect(t.beginStep('b', 1001)).toEqual({ stepId: 1, previousEnd: undefined });
    t.endStep('a', 1500);
    expect(t.beginStep('a', 2000)).toEqual({ stepId: 2, previousEnd: 1500 });
    expect(t.inFlight()).toBe(2);
  });

  test('an earlier end never moves previous end back (overlapping steps)', () => {
    const t = new ProgramTracker(60_000);
    t.beginStep('a', 0);
    t.beginStep('a', 1);
    t.endStep('a', 50);
    t.endStep('a', 40);
    expect(t.beginStep('a', 60).previousEnd).toBe(50);
  });

  test('idle programs with nothing in flight are forgotten', () => {
    const t = new ProgramTracker(1000);
    t.beginStep('idle', 0);
    t.endStep('idle', 10);
    t.beginStep('busy', 0);
    t.sweep(5000);
    expect(t.get('idle')).toBeUndefined();
    expect(t.get('busy')).toBeDefined();
    expect(t.beginStep('idle', 5001)).toEqual({ stepId: 1, previousEnd: undefined });
  });

  test('100,000 one-step programs do not stay in memory', () => {
    const t = new ProgramTracker(1000);
    for (let i = 0; i < 100_000; i++) {
      t.beginStep(`p${i}`, i * 10);
      t.endStep(`p${i}`, i * 10 + 5);
    }
    expect(t.size).toBeLessThan(1000);
  });
});

describe('withProgram', () => {
  test('the scope follows async code and nests', async () => {
    expect(currentProgram()).toBeUndefined();
    await withProgram('outer', async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(currentProgram()).toEqual({ programId: 'outer' });
      await withProgram('inner', async () => {
        await Promise.resolve();
        expect(currentProgram()).toEqual({ programId: 'inner', agent: 'a' });
      }, { agent: 'a' });
      expect(currentProgram()?.programId).toBe('outer');
    });
  });
});
