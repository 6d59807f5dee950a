import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { describe, expect, test } from 'vitest';
import { ChunkClock, now, turnNow } from '../../src/util/clock.js';

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

describe('ChunkClock', () => {
  const spin = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };

  test('the chunks of one read share its time; the next read has its own', async () => {
    const clock = new ChunkClock();
    const read = new ArrayBuffer(64);
    const before = now();
    const first = clock.at(new Uint8Array(read, 0, 10));
    expect(first).toBeGreaterThanOrEqual(before);
    spin(2);
    const second = clock.at(new Uint8Array(read, 12, 10));
    const third = clock.at(new Uint8Array(read, 24, 10));
    expect(second).toBeGreaterThanOrEqual(first);
    expect(third).toBe(second); // one run: they arrived together
    await nextMacrotask();
    spin(2);
    const next = clock.at(new Uint8Array(new ArrayBuffer(16)));
    expect(next).toBeGreaterThan(third + 1);
  });

  test('one buffer reused across reads still gives each read its own time', async () => {
    const clock = new ChunkClock();
    const reused = new ArrayBuffer(64);
    clock.at(new Uint8Array(reused, 0, 8));
    const a = clock.at(new Uint8Array(reused, 8, 8));
    await nextMacrotask();
    spin(2);
    const b = clock.at(new Uint8Array(reused, 16, 8)); // same buffer, a later turn
    expect(b).toBeGreaterThan(a + 1);
  });

  test('a chunk that does not continue the one before is stamped on its own, even in the same run', () => {
    const clock = new ChunkClock();
    const a = clock.at(new Uint8Array(new ArrayBuffer(64), 3, 40));
    spin(2);
    const b = clock.at(new Uint8Array(new ArrayBuffer(64), 3, 40)); // starts before where the last ended: another read
    expect(b).toBeGreaterThan(a + 1);
  });

  test('what a request already stamped in the run is never predated', () => {
    const clock = new ChunkClock();
    const read = new ArrayBuffer(32);
    clock.at(new Uint8Array(read, 0, 8));
    clock.at(new Uint8Array(read, 8, 8));
    spin(2);
    const dispatched = now();
    expect(clock.at(new Uint8Array(read, 16, 8))).toBeGreaterThanOrEqual(dispatched);
  });
});
