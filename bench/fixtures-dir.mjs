// Where the benches read the real captures: $AGENTIC_OTEL_SHARED_DIR, else shared/ beside the
// repository, else the repository's copy (test/fixtures/shared), as the tests do.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = [process.env.AGENTIC_OTEL_SHARED_DIR, resolve(repo, '../shared'), resolve(repo, 'test/fixtures/shared')].find((d) => d !== undefined && existsSync(join(d, 'fixtures')));

/** A path inside shared/fixtures. */
export function fixturePath(rel) {
  return join(shared, 'fixtures', rel);
}
