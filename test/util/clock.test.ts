import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { now, turnNow } from '../../src/util/clock.js';

describe('turnNow', () => {
  test('one synchronous run shares one time, taken when it first asks', () => {
    const before = now();
    const first = turnNow();
    const spin = performance.now() + 2; // (not now(): reading it starts a new stamp, below)
    while (performance.now() < spin); // time passes inside the run…
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

  test('never earlier than an instant now() already returned', () => {
    turnNow();
    const spin = now() + 2;
    while (now() < spin);
    const dispatched = now(); // a request leaves within the same run…
    expect(turnNow()).toBeGreaterThanOrEqual(dispatched); // …and its data is stamped after it
  });
});
