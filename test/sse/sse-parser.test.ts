import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { SseParser } from '../../src/sse/sse-parser.js';

function parse(pieces: (string | Uint8Array)[]): string[] {
  const out: string[] = [];
  const p = new SseParser((buf, start, end) => out.push(buf.toString('utf8', start, end)));
  for (const piece of pieces) {
    if (typeof piece === 'string') p.pushText(piece);
    else p.push(piece);
  }
  p.end();
  return out;
}

describe('SseParser', () => {
  test('splits events on blank lines and strips one leading space', () => {
    expect(parse(['data: {"a":1}\n\ndata:{"b":2}\n\n'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  test('CRLF, lone CR, and a CRLF split across chunks', () => {
    expect(parse(['data: {"a":1}\r\n\r\ndata: {"b":2}\r\rdata: {"c":3}\r', '\n\r\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  test('a line split across many chunks, and a multi-byte character split between bytes', () => {
    const bytes = Buffer.from('data: {"t":"héllo 😊"}\n\n', 'utf8');
    const pieces = [...bytes].map((b) => Uint8Array.of(b));
    expect(parse(pieces)).toEqual(['{"t":"héllo 😊"}']);
  });

  test('comments and other fields are ignored; multi-line data is joined', () => {
    expect(parse([': keep-alive\nevent: message\nid: 4\ndata: {"a":\ndata: 1}\n\n'])).toEqual(['{"a":\n1}']);
  });

  test('events with no blank line between them (KServe) are still separate', () => {
    expect(parse(['data: {"a":1}\ndata: {"b":2}\ndata: [DONE]\n'])).toEqual(['{"a":1}', '{"b":2}', '[DONE]']);
  });

  test('a last event without its blank line is dispatched at the end', () => {
    expect(parse(['data: {"a":1}'])).toEqual(['{"a":1}']);
  });

  test('an event pending across reads survives the caller reusing its buffer', () => {
    const out: string[] = [];
    const p = new SseParser((buf, start, end) => out.push(buf.toString('utf8', start, end)));
    const reused = Buffer.from('data: {"a":1}\n');
    p.push(reused);
    reused.fill(0x78);
    p.push(Buffer.from('\n'));
    expect(out).toEqual(['{"a":1}']);
  });

  test('bytes: [DONE], data with no space, a field that only starts with data', () => {
    expect(parse(['data:[DONE]\n\ndataset: x\ndata\n\n'])).toEqual(['[DONE]', '']);
  });

  test('one event per read (the fast path), any other split, or all at once: the same events', () => {
    const data = fc.oneof(fc.constant('[DONE]'), fc.string({ maxLength: 30 }).map((x) => x.replace(/[\r\n]/g, ' ')), fc.json());
    const event = fc.record({ data, space: fc.boolean(), crlf: fc.boolean(), comment: fc.boolean() });
    fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (events, cuts) => {
      const eol = (e: { crlf: boolean }) => (e.crlf ? '\r\n' : '\n');
      const texts = events.map((e) => `${e.comment ? ': keep-alive' + eol(e) : ''}data:${e.space ? ' ' : ''}${e.data}${eol(e)}${eol(e)}`);
      const whole = texts.join('');
      const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
      const pieces = [0, ...points].map((at, k, all) => whole.slice(at, all[k + 1] ?? whole.length));
      // One space after the colon is stripped, whether we wrote it or the data began with it.
      const expected = events.map((e) => (!e.space && e.data.startsWith(' ') ? e.data.slice(1) : e.data));
      expect(parse([whole])).toEqual(expected);
      expect(parse(texts)).toEqual(expected);
      expect(parse(pieces)).toEqual(expected);
    }), { numRuns: 2000 });
  });
});
