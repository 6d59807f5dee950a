import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { bodyWithIncludeUsage, includeUsageSplice, inspectRequestBody } from '../../src/openai/request-body.js';
import { inputMessagesJson, outputMessagesJson } from '../../src/openai/messages.js';

describe('inspectRequestBody', () => {
  test('reads model, stream, usage option, sampling and program id', () => {
    const r = inspectRequestBody(JSON.stringify({ model: 'm', stream: true, stream_options: { include_usage: true }, max_tokens: 9, temperature: 0.2, top_p: 0.9, program_id: 'p' }));
    expect(r).toMatchObject({ model: 'm', stream: true, includeUsage: true, maxTokens: 9, temperature: 0.2, topP: 0.9, programId: 'p' });
  });

  test('program_id wins over extra_body.program_id; numbers become strings', () => {
    expect(inspectRequestBody('{"program_id":"a","extra_body":{"program_id":"b"}}')?.programId).toBe('a');
    expect(inspectRequestBody('{"extra_body":{"program_id":7}}')?.programId).toBe('7');
    expect(inspectRequestBody('{"program_id":""}')?.programId).toBeUndefined();
  });

  test('max_completion_tokens is preferred over max_tokens', () => {
    expect(inspectRequestBody('{"max_completion_tokens":5,"max_tokens":9}')?.maxTokens).toBe(5);
  });

  test('not JSON, or not an object: undefined', () => {
    expect(inspectRequestBody('nope')).toBeUndefined();
    expect(inspectRequestBody('[1]')).toBeUndefined();
    expect(inspectRequestBody('null')).toBeUndefined();
  });

  test('bodyWithIncludeUsage splices the field into the original text when there are no stream options', () => {
    const text = ' {\n  "model": "m", "stream": true, "messages": [{"role": "user", "content": "{\\"a\\": 1}"}]}';
    const out = bodyWithIncludeUsage(text);
    expect(out).toBe(' {"stream_options":{"include_usage":true},\n  "model": "m", "stream": true, "messages": [{"role": "user", "content": "{\\"a\\": 1}"}]}');
    expect(JSON.parse(out!)).toEqual({ ...JSON.parse(text), stream_options: { include_usage: true } });
    expect(JSON.parse(bodyWithIncludeUsage('{ }')!)).toEqual({ stream_options: { include_usage: true } });
  });

  test('inside existing stream options, every other byte unchanged (the numbers JSON.parse would lose)', () => {
    const text = '{"model":"m","seed": 12345678901234567891,"x":1e400,"t":1.0,"stream":true,"stream_options":{"continuous_usage_stats":true}}';
    expect(bodyWithIncludeUsage(text)).toBe(
      '{"model":"m","seed": 12345678901234567891,"x":1e400,"t":1.0,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}',
    );
    expect(bodyWithIncludeUsage('{"stream":true,"stream_options":{ }}')).toBe('{"stream":true,"stream_options":{"include_usage":true }}');
    const bom = '\ufeff{"stream":true}';
    expect(bodyWithIncludeUsage(bom)).toBe('\ufeff{"stream_options":{"include_usage":true},"stream":true}');
    expect(inspectRequestBody(bom)?.stream).toBe(true);
  });

  test('left alone: an explicit include_usage (false included), stream options that are not one object', () => {
    for (const text of [
      '{"stream":true,"stream_options":{"include_usage":false}}',
      '{"stream":true,"stream_options":{"include_usage":null}}',
      '{"stream":true,"stream_options":null}',
      '{"stream":true,"stream_options":[]}',
      '{"stream":true,"stream_options":"x"}',
      '{"stream":true,"stream_options":{},"stream_options":{}}',
      '{"stream":true,"stream_\\u006fptions":{},"stream_options":{}}',
      'not json',
      '{"stream":true',
    ]) {
      expect(includeUsageSplice(text), text).toBeUndefined();
      const layout = inspectRequestBody(text)?.layout;
      if (layout !== undefined) expect(includeUsageSplice(text, layout), text).toBeUndefined();
    }
  });

  test('property: for arbitrary JSON bodies, the spliced body parses as the original plus that one field, other bytes unchanged', () => {
    const ws = fc.constantFrom('', ' ', '\n', '\t ', '\r\n  ');
    const options = fc.option(fc.dictionary(fc.string().filter((k) => k !== 'include_usage'), fc.jsonValue(), { maxKeys: 3 }), { nil: undefined });
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => k !== 'stream_options' && k !== '__proto__'), fc.jsonValue(), { maxKeys: 6 }), options, ws, ws, fc.boolean(), (obj, so, w1, w2, bom) => {
        const value = so === undefined ? obj : { ...obj, stream_options: so };
        const text = `${bom ? '\ufeff' : ''}${w1}${JSON.stringify(value, null, w2.length > 1 ? 2 : undefined)}${w2}`;
        const splice = includeUsageSplice(text);
        expect(splice).toBeDefined();
        // The layout read in the hook's single walk gives the same splice as a walk of its own.
        expect(includeUsageSplice(text, inspectRequestBody(text)!.layout)).toEqual(splice);
        const [at, field] = splice!;
        const out = text.slice(0, at) + field + text.slice(at);
        expect(out.slice(0, at)).toBe(text.slice(0, at));
        expect(out.slice(at + field.length)).toBe(text.slice(at));
        const original = JSON.parse(text.replace(/^\ufeff/, '')) as Record<string, unknown>;
        const expected = { ...original, stream_options: { include_usage: true, ...((original['stream_options'] as object | undefined) ?? {}) } };
        expect(JSON.parse(out.replace(/^\ufeff/, ''))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('GenAI message content', () => {
  test('input messages in the structured form', () => {
    const json = inputMessagesJson({ messages: [
      { role: 'system', content: 's' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'result' },
    ] });
    expect(JSON.parse(json!)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 's' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'f', arguments: '{"a":1}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 'result' }] },
    ]);
    expect(JSON.parse(inputMessagesJson({ prompt: 'p' })!)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'p' }] }]);
  });

  test('output message with its finish reason', () => {
    expect(JSON.parse(outputMessagesJson({ role: 'assistant', content: 'x', toolCalls: [] }, 'stop'))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'x' }], finish_reason: 'stop' }]);
  });
});
