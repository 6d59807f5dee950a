import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { readTopLevelFields } from '../../src/openai/top-level-fields.js';

const WANTED = new Set(['model', 'stream', 'stream_options', 'program_id', 'extra_body', 'max_tokens', 'a"b', 'é']);
const key = fc.oneof(fc.constantFrom(...WANTED), fc.constantFrom('messages', 'tools', 'x\\y', 'model_x', ''), fc.string());
// Values as agents send them, and as a fuzzer would: quotes, backslashes, brackets in strings.
const value = fc.oneof(fc.jsonValue(), fc.string().map((s) => `${s}"}]\\{[`), fc.array(fc.record({ role: fc.string(), content: fc.string({ unit: 'binary' }) })));
const whitespace = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

/** An object's text from its entries in order, duplicates kept, with chosen white space. */
const objectText = fc.tuple(fc.array(fc.tuple(key, value), { maxLength: 8 }), fc.array(whitespace, { minLength: 4, maxLength: 4 })).map(([entries, [w1, w2, w3, w4]]) =>
  `${w1}{${w2}${entries.map(([k, v]) => `${JSON.stringify(k)}${w3}:${w4}${JSON.stringify(v)}`).join(`${w3},${w2}`)}${w4}}${w1}`,
);

describe('readTopLevelFields', () => {
  test('reads every wanted field as JSON.parse reads it (last duplicate wins), and nothing else', () => {
    fc.assert(
      fc.property(objectText, (text) => {
        const whole = JSON.parse(text) as Record<string, unknown>;
        const expected = Object.fromEntries(Object.entries(whole).filter(([k]) => WANTED.has(k)));
        expect(readTopLevelFields(text, WANTED)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  test('every cut-off prefix of an object is not an object', () => {
    fc.assert(
      fc.property(objectText, fc.nat(), (text, n) => {
        const trimmed = text.trimEnd();
        const prefix = trimmed.slice(0, n % trimmed.length);
        expect(readTopLevelFields(prefix, WANTED)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  test('what is not an object', () => {
    for (const text of ['', 'null', '[1]', '"{}"', '1', '{"model" "m"}', '{"model":"m",}', '{"model":"m"} x', '{"model":}', '{model:"m"}', '{"model":"m"']) {
      expect(readTopLevelFields(text, WANTED), text).toBeUndefined();
    }
    expect(readTopLevelFields('{"model":tru}', WANTED)).toBeUndefined(); // a wanted value JSON.parse rejects
    expect(readTopLevelFields('{"messages":[{"content":"a\\\\"}],"model":"m"}', WANTED)).toEqual({ model: 'm' }); // an escaped backslash ends the string
  });
});
