/**
 * The repository's copy of shared/fixtures is byte for byte the original wherever the original is
 * present, so tests never run against captures that drifted from the ones documented there.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';
import { SHARED_DIR, VENDORED_SHARED_DIR } from './fixtures.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test.runIf(SHARED_DIR !== VENDORED_SHARED_DIR)('the copy of shared/fixtures is identical to the original', () => {
  const original = join(SHARED_DIR, 'fixtures');
  const copy = join(VENDORED_SHARED_DIR, 'fixtures');
  const names = (root: string) => files(root).map((f) => relative(root, f)).sort();
  expect(names(copy)).toEqual(names(original));
  for (const name of names(original)) expect(readFileSync(join(copy, name)).equals(readFileSync(join(original, name))), name).toBe(true);
});
