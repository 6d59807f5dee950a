import { describe, expect, test } from 'vitest';
import { getHeader, removeHeader, setHeader, toFlatHeaders } from '../../src/http/headers.js';
import { errorTypeOf } from '../../src/steps/error-type.js';

describe('headers', () => {
  test('every shape undici accepts becomes one flat list', () => {
    expect(toFlatHeaders({ A: '1', b: ['2', '3'], c: undefined })).toEqual(['A', '1', 'b', '2', 'b', '3']);
    expect(toFlatHeaders(['a', '1', 'b', '2'])).toEqual(['a', '1', 'b', '2']);
    expect(toFlatHeaders(new Map([['a', '1']]))).toEqual(['a', '1']);
    expect(toFlatHeaders(null)).toEqual([]);
  });

  test('get and set are case-insensitive; set replaces every value', () => {
    const h = toFlatHeaders({ 'X-Program-Id': 'p', TraceParent: 'old', traceparent: 'older' });
    expect(getHeader(h, 'x-program-id')).toBe('p');
    setHeader(h, 'traceparent', 'new');
    expect(h).toEqual(['X-Program-Id', 'p', 'traceparent', 'new']);
    removeHeader(h, 'x-program-id');
    expect(h).toEqual(['traceparent', 'new']);
  });

  test('a name matches in any case, only whole: not a longer or shorter name that starts alike', () => {
    const h = toFlatHeaders(['CONTENT-LENGTH', '3', 'content-length-x', '4', 'content-lengt', '5', 'Content-Type', 'a']);
    expect(getHeader(h, 'content-length')).toBe('3');
    expect(getHeader(h, 'content-type')).toBe('a');
    expect(getHeader(h, 'content')).toBeUndefined();
    removeHeader(h, 'content-length');
    expect(h).toEqual(['content-length-x', '4', 'content-lengt', '5', 'Content-Type', 'a']);
  });
});

describe('errorTypeOf', () => {
  test('codes, wrapped causes and class names, never free text', () => {
    expect(errorTypeOf(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toBe('UND_ERR_SOCKET');
    expect(errorTypeOf(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('c'), { code: 'ECONNREFUSED' }) }))).toBe('ECONNREFUSED');
    expect(errorTypeOf(new DOMException('aborted', 'AbortError'))).toBe('AbortError');
    expect(errorTypeOf(new Error('plain'))).toBe('_OTHER');
    expect(errorTypeOf('string')).toBe('_OTHER');
  });
});
