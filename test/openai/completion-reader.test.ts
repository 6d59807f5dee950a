import { describe, expect, test } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readCompletion, StreamAccumulator, TAIL_EVENTS } from '../../src/openai/completion-reader.js';
import { kvHitRate, mergeUsage } from '../../src/openai/usage.js';
import { SseParser } from '../../src/sse/sse-parser.js';
import { SSE_EXPECTATIONS, sseFixture } from '../utils/fixtures.js';

/** A full garbage collection, from a context made while `--expose-gc` is set. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The data of every event of an SSE text. */
function eventsOf(text: string): string[] {
  const events: string[] = [];
  const parser = new SseParser((buf, start, end) => events.push(buf.toString('utf8', start, end)));
  parser.pushText(text);
  parser.end();
  return events;
}

/** Reads a stream with each event in a read of its own, arriving at t = its 1-based position. */
function readStream(text: string, captureContent = false) {
  const acc = new StreamAccumulator(captureContent);
  let t = 0;
  for (const e of eventsOf(text)) acc.pushText(`data: ${e}\n\n`, e === '[DONE]' ? t : ++t);
  return acc.finish();
}

describe('StreamAccumulator on the real captures', () => {
  for (const [name, want] of Object.entries(SSE_EXPECTATIONS)) {
    test(name, () => {
      for (const capture of [false, true]) {
        const s = readStream(sseFixture(name), capture);
        expect(s.dataEvents).toBe(want.dataEvents);
        expect(s.lastChoiceAt).toBe(want.lastChoiceEvent);
        expect(s.done).toBe(want.done);
        expect(s.finishReasons).toEqual(want.finishReasons);
        expect(s.malformedEvents).toBe(0);
        expect(s.id).toBe(want.id);
        expect(s.model).toBe(want.model);
        if (want.usage === undefined) expect(s.usage).toBeUndefined();
        else expect(s.usage).toMatchObject(want.usage);
        expect(s.usage?.prompt_tokens_details?.cached_tokens).toBe(want.cached);
      }
    });
  }

  test('the tool call is assembled from escaped argument fragments', () => {
    const s = readStream(sseFixture('vllm-shaped-toolcall-continuous-usage.sse'), true);
    expect(s.output?.toolCalls).toEqual([{ id: 'chatcmpl-tool-b3b307239370432d9910d4b79b4dbbaa', name: 'searchGoogle', arguments: '{"query": "latest news on ai"}' }]);
    const mistral = readStream(sseFixture('toolcall-usage-on-finish-chunk-cached-tokens.chunks.jsonl'), true);
    expect(mistral.output?.toolCalls[0]).toEqual({ id: 'chatcmpl-tool-9f149c74c42f265b', name: 'webSearchTool', arguments: '{"query": "current Berlin weather"}' });
  });

  test('multi-byte content survives', () => {
    const s = readStream(sseFixture('vllm-0.9.2-stream-elided-in-shell-comments.txt'), true);
    expect(s.output?.content).toBe('<think>\n 😊');
  });

  test('many events in one read: the read\'s time, found walking back past the usage chunk', () => {
    const acc = new StreamAccumulator();
    const frames = eventsOf(sseFixture('vllm-shaped-toolcall-continuous-usage.sse')).map((e) => `data: ${e}\n\n`);
    acc.pushText(frames.slice(0, 4).join(''), 10);
    acc.pushText(frames.slice(4).join(''), 20); // ends with the choices: [] usage chunk and [DONE]
    const s = acc.finish();
    expect(s.firstEventAt).toBe(10);
    expect(s.lastChoiceAt).toBe(20);
    expect(s.usage).toMatchObject({ prompt_tokens: 226, completion_tokens: 20 });
    expect(s.finishReasons).toEqual(['tool_calls']);
  });

  test('a read split mid-event: the event arrives with the read that completes it', () => {
    const acc = new StreamAccumulator();
    const text = 'data: {"id":"a","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\ndata: {"id":"a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
    const cut = text.length - 20;
    acc.pushText(text.slice(0, cut), 1);
    acc.pushText(text.slice(cut), 2);
    const s = acc.finish();
    expect(s.lastChoiceAt).toBe(2);
    expect(s.finishReasons).toEqual(['stop']);
  });

  test('a long stream: usage and finish from its tail, early events not re-read', () => {
    const acc = new StreamAccumulator();
    const chunk = (i: number, finish: string | null) => `data: {"id":"x","choices":[{"index":0,"delta":{"content":"t${i}"},"finish_reason":${finish ? `"${finish}"` : 'null'}}]}\n\n`;
    for (let i = 0; i < 500; i++) acc.pushText(chunk(i, i === 499 ? 'length' : null), i + 1);
    acc.pushText('data: {"id":"x","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":500,"total_tokens":509}}\n\ndata: [DONE]\n\n', 600);
    const s = acc.finish();
    expect(s.dataEvents).toBe(501);
    expect(s.lastChoiceAt).toBe(500);
    expect(s.finishReasons).toEqual(['length']);
    expect(s.usage).toEqual({ prompt_tokens: 9, completion_tokens: 500, total_tokens: 509 });
  });

  test('kept events hold on to the reads of the last few events only', async () => {
    // As undici delivers them: each event a small view into a socket read of its own. The tail
    // ring keeps views, not copies: a read is let go once its events have left the ring.
    const gc = collector();
    const acc = new StreamAccumulator();
    const reads: WeakRef<ArrayBuffer>[] = [];
    const READS = 40;
    let control: WeakRef<ArrayBuffer> | undefined; // held by nothing: shows the collection ran
    (() => {
      control = new WeakRef(new ArrayBuffer(32 * 1024));
      for (let k = 0; k < READS; k++) {
        const read = Buffer.alloc(32 * 1024);
        const n = read.write(`data: {"id":"a","choices":[{"index":0,"delta":{"content":"${k}"},"finish_reason":${k === READS - 1 ? '"stop"' : 'null'}}]}\n\n`);
        reads.push(new WeakRef(read.buffer));
        acc.push(read.subarray(0, n), k + 1);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRefs hold their target until the turn ends
    gc();
    const held = reads.map((r, k) => (r.deref() === undefined ? -1 : k)).filter((k) => k >= 0);
    expect(control?.deref()).toBeUndefined(); // the collection ran…
    expect(held.filter((k) => k < READS - TAIL_EVENTS)).toEqual([]); // …and nothing older than the ring's events is held
    const s = acc.finish();
    expect(s.finishReasons).toEqual(['stop']);
    expect(s.lastChoiceAt).toBe(READS);
  });

  test('first event and last choice-carrying event times', () => {
    const s = readStream(sseFixture('vllm-shaped-toolcall-continuous-usage.sse'));
    expect(s.firstEventAt).toBe(1);
    expect(s.lastChoiceAt).toBe(8); // the 9th event is the choices: [] usage chunk
  });

  test('a malformed event is counted and skipped, the rest still read', () => {
    const s = readStream('data: {"id":"x","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\ndata: {"id":"x","choices":[{\n\ndata: not json\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\n');
    expect(s.malformedEvents).toBe(2);
    expect(s.lastChoiceAt).toBe(4);
    expect(s.finishReasons).toEqual(['stop']);
    expect(s.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
  });

  test('usage: null on every chunk (SGLang) is not usage; whitespace around colons is read', () => {
    const s = readStream('data: {"id":"a", "choices": [ {"index": 0, "delta": {"content": "x"}, "finish_reason": null} ], "usage": null}\n\ndata: {"id":"a", "choices": [{"index": 0, "delta": {}, "finish_reason" : "length"}], "usage": null}\n\n');
    expect(s.usage).toBeUndefined();
    expect(s.lastChoiceAt).toBe(2);
    expect(s.finishReasons).toEqual(['length']);
  });

  test('content that quotes JSON keys does not fool the scans', () => {
    const s = readStream('data: {"id":"a","choices":[{"index":0,"delta":{"content":"{\\"usage\\":{\\"prompt_tokens\\":9},\\"finish_reason\\":\\"stop\\"}"},"finish_reason":null}]}\n\ndata: {"id":"a","choices":[{"index":0,"delta":{"content":"\\"choices\\":[]"},"finish_reason":null}]}\n\n');
    expect(s.usage).toBeUndefined();
    expect(s.finishReasons).toEqual([]);
    expect(s.lastChoiceAt).toBe(2);
  });

  test('the tail read as bytes inside a large read: keys bounded by their event, each choice\'s finish', () => {
    const ev = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
    const pad = `: ${'x'.repeat(3000)}\n`; // a comment line after the events: each event lies far inside its read
    const events = [
      ev({ id: 'a', choices: [{ index: 0, delta: { content: 'é' }, finish_reason: null }, { index: 1, delta: { content: 'b' }, finish_reason: null }] }),
      ev({ id: 'a', choices: [{ index: 1, delta: {}, finish_reason: 'length' }] }),
      ev({ id: 'a', choices: [{ index: 0, delta: { content: 'c' }, finish_reason: 'stop' }] }),
      ev({ id: 'a', choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } }),
    ];
    const acc = new StreamAccumulator();
    acc.pushText(events.slice(0, 2).join(''), 5);
    acc.pushText(events.slice(2).join('') + pad + 'data: [DONE]\n\n', 6);
    const s = acc.finish();
    expect(s.finishReasons).toEqual(['length', 'stop']);
    expect(s.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3 });
    expect(s.lastChoiceAt).toBe(6);
    expect(s.done).toBe(true);
  });
});

describe('readCompletion (non-streamed)', () => {
  test('usage, finish reasons and the message', () => {
    const s = readCompletion({
      id: 'chatcmpl-1', model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, prompt_tokens_details: { cached_tokens: 8 } },
    }, true);
    expect(s.usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, prompt_tokens_details: { cached_tokens: 8 } });
    expect(s.finishReasons).toEqual(['tool_calls']);
    expect(s.output).toEqual({ role: 'assistant', content: 'hi', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] });
  });

  test('a body that is not an object is malformed', () => {
    expect(readCompletion(undefined).malformedEvents).toBe(1);
  });
});

describe('usage', () => {
  test('split usage is merged; later values win', () => {
    let u = mergeUsage(undefined, { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105 });
    u = mergeUsage(u, { prompt_tokens_details: { cached_tokens: 64 } });
    u = mergeUsage(u, { completion_tokens: 7, total_tokens: 107 });
    expect(u).toEqual({ prompt_tokens: 100, completion_tokens: 7, total_tokens: 107, prompt_tokens_details: { cached_tokens: 64 } });
    expect(kvHitRate(u)).toBe(0.64);
  });

  test('unknown cached tokens give an unknown hit rate, not 0', () => {
    expect(kvHitRate({ prompt_tokens: 100 })).toBeUndefined();
    expect(kvHitRate({ prompt_tokens: 100, prompt_tokens_details: null })).toBeUndefined();
    expect(kvHitRate({ prompt_tokens: 100, prompt_tokens_details: { cached_tokens: 0 } })).toBe(0);
    expect(kvHitRate({ prompt_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } })).toBeUndefined();
  });

  test('garbage values are ignored', () => {
    expect(mergeUsage(undefined, { prompt_tokens: -1, completion_tokens: 'x', total_tokens: NaN })).toEqual({});
    expect(mergeUsage(undefined, null)).toBeUndefined();
  });
});
