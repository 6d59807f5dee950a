import { describe, expect, test } from 'vitest';
import { bodyWithIncludeUsage, inspectRequestBody } from '../../src/openai/request-body.js';
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
    const out = bodyWithIncludeUsage(inspectRequestBody(text)!, text);
    expect(out).toBe(' {"stream_options":{"include_usage":true},\n  "model": "m", "stream": true, "messages": [{"role": "user", "content": "{\\"a\\": 1}"}]}');
    expect(JSON.parse(out!)).toEqual({ ...JSON.parse(text), stream_options: { include_usage: true } });
    expect(JSON.parse(bodyWithIncludeUsage(inspectRequestBody('{ }')!, '{ }')!)).toEqual({ stream_options: { include_usage: true } });
  });

  test('bodyWithIncludeUsage keeps every other field and stream option (include_usage: false overridden)', () => {
    for (const keepJson of [false, true]) {
      const text = '{"model":"m","stream":true,"stream_options":{"continuous_usage_stats":true,"include_usage":false},"messages":[]}';
      const r = inspectRequestBody(text, keepJson);
      expect(r?.includeUsage).toBe(false);
      expect(JSON.parse(bodyWithIncludeUsage(r!, text)!)).toEqual({ model: 'm', stream: true, stream_options: { continuous_usage_stats: true, include_usage: true }, messages: [] });
    }
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
