import { describe, expect, test } from 'vitest';
import { now } from '../../src/util/clock.js';

describe('now', () => {
  test('epoch milliseconds, finer than Date.now, never going back', () => {
    const before = Date.now();
    const a = now();
    const b = now();
    const after = Date.now();
    expect(a).toBeGreaterThanOrEqual(before - 1);
    expect(b).toBeLessThanOrEqual(after + 1);
    expect(b).toBeGreaterThanOrEqual(a);
    let distinct = false;
    for (let i = 0; i < 1000 && !distinct; i++) distinct = now() !== a && !Number.isInteger(now());
    expect(distinct).toBe(true); // sub-millisecond readings
  });
});
