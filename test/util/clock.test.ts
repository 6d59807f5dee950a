import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { now, turnNow } from '../../src/util/clock.js';

describe('turnNow', () => {
  test('one synchronous run shares one time, taken when it first asks', () => {
    const before = now();
    const first = turnNow();
    const spin = now() + 2;
    while (now() < spin); // time passes inside the run…
    expect(turnNow()).toBe(first); // …but the run's chunks arrived together
    expect(first).toBeGreaterThanOrEqual(before);
  });

  test('the time is forgotten when the microtask queue drains', async () => {
    const first = turnNow();
    const spin = now() + 2;
    while (now() < spin);
    await Promise.resolve(); // our reset was queued first, so it has run
    const second = turnNow();
    expect(second).toBeGreaterThan(first);
    await nextMacrotask();
    expect(turnNow()).toBeGreaterThan(second);
  });
});
