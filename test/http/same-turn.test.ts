/**
 * A dispatcher that answers within the call (a mock agent, an in-process engine): every chunk
 * of every request arrives in one turn of the event loop. Each request's data must still be
 * stamped no earlier than its dispatch, so no phase is negative and the phases still add up.
 */
import { describe, expect, test } from 'vitest';
import { AgenticInstrumentation, withProgram } from '../../src/index.js';
import type { StepRecord } from '../../src/types.js';
import { now } from '../../src/util/clock.js';

const body = Buffer.from('data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
type Handler = { onRequestStart?: (c: unknown, x: unknown) => void; onResponseStart?: (...a: unknown[]) => void; onResponseData?: (c: unknown, b: Buffer) => void; onResponseEnd?: (c: unknown, t: unknown) => void };

describe('data delivered in the turn that dispatched it', () => {
  test('steps of one synchronous run: no negative phase, phases add up', () => {
    const engine = (_o: unknown, handler: Handler) => {
      handler.onRequestStart?.({}, {});
      handler.onResponseStart?.({}, 200, { 'content-type': 'text/event-stream' }, 'OK');
      handler.onResponseData?.({}, body);
      handler.onResponseEnd?.({}, {});
      return true;
    };
    const inst = new AgenticInstrumentation({ installGlobalDispatcher: false });
    const records: StepRecord[] = [];
    inst.onStepEnd((r) => records.push(r));
    const dispatch = inst.interceptor()(engine as never);
    const noop = { onRequestStart() {}, onResponseStart() {}, onResponseData() {}, onResponseEnd() {}, onResponseError() {} };
    withProgram('sync', () => {
      for (let s = 0; s < 3; s++) {
        const spin = now() + 2; // the tool runs, synchronously
        while (now() < spin);
        dispatch({ origin: 'http://127.0.0.1:8000', path: '/v1/chat/completions', method: 'POST', headers: {}, body: '{"model":"m","stream":true}' }, noop as never);
      }
    });
    inst.disable();
    expect(records.map((r) => r.stepId)).toEqual([1, 2, 3]);
    for (const r of records) {
      expect(r.phases.prefillS).toBeGreaterThanOrEqual(0);
      expect(r.phases.decodeS).toBeGreaterThanOrEqual(0);
      expect(r.endTime).toBeGreaterThanOrEqual(r.startTime);
      const { toolCallS, pauseS, prefillS, decodeS } = r.phases;
      const stepStart = r.stepId === 1 ? r.arriveTime : r.arriveTime - toolCallS * 1000;
      expect(toolCallS + pauseS + prefillS + decodeS).toBeCloseTo((r.endTime - stepStart) / 1000, 9);
    }
    expect(records[1]!.phases.toolCallS).toBeGreaterThan(0.0015); // the 2 ms tool ran between steps
  });
});
