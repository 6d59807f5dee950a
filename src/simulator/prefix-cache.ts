/**
 * A block-level prefix cache in the manner of vLLM's automatic prefix caching: the prompt is cut
 * into full blocks of `blockSize` tokens, each block is named by a hash chained over every block
 * before it, and a prompt hits the cache for its longest run of leading blocks already stored.
 * Least recently used blocks are evicted beyond `numBlocks`. Pure; no I/O.
 */
export class BlockPrefixCache {
  private readonly _blocks = new Map<string, true>();

  constructor(readonly blockSize: number, readonly numBlocks: number) {
    if (!(blockSize >= 1) || !(numBlocks >= 1)) throw new RangeError('blockSize and numBlocks must be >= 1');
  }

  /**
   * Looks `tokens` up and stores its full blocks. Returns the cached token count; like vLLM it
   * never counts the last prompt token as cached, since the engine must compute at least one.
   */
  lookupAndInsert(tokens: readonly string[]): number {
    const hashes = this._blockHashes(tokens);
    let hit = 0;
    while (hit < hashes.length && this._blocks.has(hashes[hit] as string)) hit++;
    for (const h of hashes) {
      this._blocks.delete(h); // re-insert: most recently used last
      this._blocks.set(h, true);
    }
    while (this._blocks.size > this.numBlocks) {
      const oldest = this._blocks.keys().next().value as string;
      this._blocks.delete(oldest);
    }
    const usable = Math.floor(Math.max(0, tokens.length - 1) / this.blockSize) * this.blockSize;
    return Math.min(hit * this.blockSize, usable);
  }

  /** Blocks stored. */
  get size(): number {
    return this._blocks.size;
  }

  private _blockHashes(tokens: readonly string[]): string[] {
    const out: string[] = [];
    let prev = 0x811c9dc5;
    for (let b = 0; (b + 1) * this.blockSize <= tokens.length; b++) {
      let h = prev;
      for (let i = b * this.blockSize; i < (b + 1) * this.blockSize; i++) h = fnv1a(tokens[i] as string, h);
      out.push(`${b}:${h.toString(36)}:${prev.toString(36)}`);
      prev = h;
    }
    return out;
  }
}

/** Splits text into word and punctuation tokens: a stand-in tokenizer, deterministic. */
export function tokenize(text: string): string[] {
  return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= 0x20; // token separator
  return Math.imul(h, 0x01000193) >>> 0;
}
