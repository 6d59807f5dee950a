import { describe, expect, test } from 'vitest';
import { BlockPrefixCache, tokenize } from '../../src/simulator/prefix-cache.js';

const toks = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('BlockPrefixCache', () => {
  test('only full leading blocks hit, and never the last token', () => {
    const c = new BlockPrefixCache(4, 100);
    expect(c.lookupAndInsert(toks(10))).toBe(0);
    expect(c.lookupAndInsert(toks(10))).toBe(8);
    expect(c.lookupAndInsert([...toks(8), 'x', 'y', 'z'])).toBe(8);
    expect(c.lookupAndInsert(toks(8))).toBe(4); // all cached, but the last token is computed
  });

  test('a change in an early block breaks the chain', () => {
    const c = new BlockPrefixCache(4, 100);
    c.lookupAndInsert(toks(12));
    const changed = toks(12);
    changed[1] = 'other';
    expect(c.lookupAndInsert([...changed, 'end'])).toBe(0);
  });

  test('least recently used blocks are evicted', () => {
    const c = new BlockPrefixCache(2, 2);
    c.lookupAndInsert(toks(5, 'a'));
    c.lookupAndInsert(toks(5, 'b'));
    expect(c.size).toBe(2);
    expect(c.lookupAndInsert(toks(5, 'a'))).toBe(0);
  });

  test('tokenize splits words and punctuation', () => {
    expect(tokenize('Hello, wörld 42!')).toEqual(['Hello', ',', 'wörld', '42', '!']);
  });
});
