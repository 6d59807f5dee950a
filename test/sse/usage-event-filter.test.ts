import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { UsageEventFilter } from '../../src/sse/usage-event-filter.js';
import { ChoicesAt, isUsageOnlyEvent } from '../../src/sse/usage-only-event.js';
import { isOneDataEvent } from '../../src/sse/sse-parser.js';
import { sseFixture } from '../utils/fixtures.js';

const CONTENT = (text: string): string =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;
const USAGE = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n';
const DONE = 'data: [DONE]\n\n';

/** A filter whose sink collects into `parts`; `take()` returns what arrived since the last take. */
function filter(): { f: UsageEventFilter; take: () => Buffer[]; emit: (p: Buffer) => void } {
  let parts: Buffer[] = [];
  const f = new UsageEventFilter((p) => parts.push(p));
  return {
    f,
    emit: (p) => parts.push(p),
    take: () => {
      const out = parts;
      parts = [];
      return out;
    },
  };
}

/** Feeds `pieces` as the observing handler does (`passesWhole`, else `push`), or with `push` alone. */
function run(pieces: Buffer[], pushOnly = false): { out: Buffer; removed: number } {
  const { f, take, emit } = filter();
  for (const p of pieces) {
    if (!pushOnly && f.passesWhole(p, isOneDataEvent(p))) emit(p);
    else f.push(p);
  }
  f.end();
  return { out: Buffer.concat(take()), removed: f.removed };
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out.filter((b) => b.length > 0);
}

describe('UsageEventFilter', () => {
  test('takes out the usage-only event and nothing else', () => {
    const stream = CONTENT('Hel') + CONTENT('lo') + USAGE + DONE;
    const { out, removed } = run([Buffer.from(stream)]);
    expect(out.toString()).toBe(CONTENT('Hel') + CONTENT('lo') + DONE);
    expect(removed).toBe(1);
  });

  test('a chunk with nothing to hold or drop is forwarded as the same object', () => {
    const { f, take } = filter();
    const chunk = Buffer.from(CONTENT('a') + CONTENT('b'));
    f.push(chunk);
    const parts = take();
    expect(parts).toHaveLength(1);
    expect(parts[0]).toBe(chunk);
  });

  test('bytes of an event that carries a choice are forwarded at once, before the event ends', () => {
    const { f, take } = filter();
    const event = Buffer.from(CONTENT('partial'));
    const cut = event.indexOf('"delta"');
    f.push(event.subarray(0, cut));
    const first = take();
    expect(Buffer.concat(first).toString()).toBe(event.subarray(0, cut).toString());
    f.push(event.subarray(cut));
    const second = take();
    expect(Buffer.concat([...first, ...second]).toString()).toBe(event.toString());
  });

  test('only the current partial event is held back while it could still be usage-only', () => {
    const { f, take } = filter();
    const usage = Buffer.from(USAGE);
    const head = Buffer.from(CONTENT('x'));
    f.push(Buffer.concat([head, usage.subarray(0, 40)]));
    expect(Buffer.concat(take()).toString()).toBe(head.toString());
    f.push(usage.subarray(40));
    expect(Buffer.concat(take()).length).toBe(0);
    f.push(Buffer.from(DONE));
    expect(Buffer.concat(take()).toString()).toBe(DONE);
  });

  test('CRLF framing, comments, events with an event field, and an unterminated usage event', () => {
    const crlf = USAGE.replace(/\n/g, '\r\n');
    expect(run([Buffer.from(`: ping\r\n\r\n${crlf}`)]).out.toString()).toBe(': ping\r\n\r\n');
    const named = `event: usage\n${USAGE}`;
    expect(run([Buffer.from(named)]).out.toString()).toBe(named);
    expect(run([Buffer.from(CONTENT('a') + USAGE.trimEnd())]).out.toString()).toBe(CONTENT('a'));
  });

  test('usage on a chunk with a choice, usage: null, and an empty choices chunk without usage stay', () => {
    const withChoice = `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}\n\n`;
    const nullUsage = `data: {"choices":[],"usage":null}\n\n`;
    const empty = `data: {"choices":[]}\n\n`;
    const stream = withChoice + nullUsage + empty;
    expect(run([Buffer.from(stream)]).out.toString()).toBe(stream);
  });

  test('a lone CR turns filtering off and loses nothing', () => {
    const stream = `data: {"a":1}\r\r${USAGE}`;
    expect(run([Buffer.from(stream)]).out.toString()).toBe(stream);
  });

  test.each([
    ['vllm-shaped-toolcall-continuous-usage.sse', 1],
    ['qwen3-max-reasoning-usage-chunk.chunks.jsonl', 1],
    ['deepseek-api-reasoning-content.chunks.jsonl', 0],
    ['toolcall-usage-on-finish-chunk-cached-tokens.chunks.jsonl', 0],
  ])('real capture %s: the final usage-only chunk goes (%i), every other byte stays, however it is split', (name, expectedRemoved) => {
    const bytes = Buffer.from(sseFixture(name), 'utf8');
    const whole = run([bytes]);
    expect(whole.removed).toBe(expectedRemoved);
    const kept = whole.out.toString();
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        for (const pushOnly of [false, true]) {
          const r = run(split(bytes, cuts), pushOnly);
          expect(r.out.toString()).toBe(kept);
          expect(r.removed).toBe(expectedRemoved);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('property: the output is the input less its usage-only events, for any event sequence, framing and split', () => {
    const event = fc.oneof(
      fc.string({ maxLength: 12 }).map((t) => ({ text: CONTENT(t), usage: false })),
      fc.constant({ text: USAGE, usage: true }),
      fc.constant({ text: ': keep-alive\n\n', usage: false }),
      fc.constant({ text: 'data: {"choices": [ ], "usage": {"total_tokens": 3}}\n\n', usage: true }),
      fc.constant({ text: 'data: {"choices":[],"usage":null}\n\n', usage: false }),
      fc.constant({ text: DONE, usage: false }),
      fc.constant({ text: '\n', usage: false }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 20 }), (events, crlf, cuts) => {
        const framed = (t: string): string => (crlf ? t.replace(/\n/g, '\r\n') : t);
        const bytes = Buffer.from(events.map((e) => framed(e.text)).join(''), 'utf8');
        const expected = events.filter((e) => !e.usage).map((e) => framed(e.text)).join('');
        expect(run(split(bytes, cuts)).out.toString()).toBe(expected);
        expect(run(split(bytes, cuts), true).out.toString()).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  test('isUsageOnlyEvent reads multi-line data as a decoder joins it', () => {
    expect(isUsageOnlyEvent(Buffer.from('data: {"choices":[],\ndata: "usage":{"a":1}}\n\n'))).toBe(true);
    expect(isUsageOnlyEvent(Buffer.from('data: not json "usage"\n\n'))).toBe(false);
  });
});

describe('ChoicesAt', () => {
  const head = (id: string): string => `data: {"id":"${id}","object":"chat.completion.chunk","created":1,"model":"m","choices":`;
  const content = (id: string, text: string): Buffer => Buffer.from(`${head(id)}[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`);

  test('learns where a stream carries its choices, and recognises its other events there', () => {
    const c = new ChoicesAt();
    expect(c.carriesChoice(content('a', 'x'))).toBe(false); // nothing learnt yet
    c.learn(content('a', 'x'));
    expect(c.carriesChoice(content('a', 'a much longer piece of text, with "choices":[{ in it'))).toBe(true);
    // A usage-only event of the same stream: an empty array there.
    expect(c.carriesChoice(Buffer.from(`${head('a')}[],"usage":{"prompt_tokens":1}}\n\n`))).toBe(false);
    // Another head (a longer id): not there, so not recognised (searched instead).
    expect(c.carriesChoice(content('abc', 'x'))).toBe(false);
    expect(c.carriesChoice(Buffer.from('data: [DONE]\n\n'))).toBe(false);
  });

  test('white space around the colon and the bracket, as Python writes JSON', () => {
    const c = new ChoicesAt();
    const e = (t: string): Buffer => Buffer.from(`data: {"id": "a", "choices": [ {"index": 0, "delta": {"content": "${t}"}}], "usage": null}\n\n`);
    c.learn(e('x'));
    expect(c.carriesChoice(e('y'))).toBe(true);
    expect(c.carriesChoice(Buffer.from('data: {"id": "a", "choices": [ ], "usage": {"total_tokens": 3}}\n\n'))).toBe(false);
  });

  test('the place is a key: text that only looks like it, in a string, is not learnt', () => {
    const c = new ChoicesAt();
    c.learn(Buffer.from('data: {"id":"a","text":"choices\\":[{","choices":[]}\n\n'));
    expect(c.carriesChoice(Buffer.from('data: {"id":"a","text":"choices\\":[{","choices":[]}\n\n'))).toBe(false);
  });

  test('through the filter: one event per read, the usage-only one taken out, however the heads vary', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'abc', 'x1'), fc.string({ maxLength: 8 }), fc.boolean()), { maxLength: 10 }), (events) => {
        const pieces: Buffer[] = [];
        let expected = '';
        for (const [id, text, usage] of events) {
          const piece = usage ? Buffer.from(`${head(id)}[],"usage":{"total_tokens":2}}\n\n`) : content(id, text);
          pieces.push(piece);
          if (!usage) expected += piece.toString();
        }
        pieces.push(Buffer.from(DONE));
        expected += DONE;
        expect(run(pieces).out.toString()).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
