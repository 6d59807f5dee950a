/**
 * docs/reference.md is generated from src/semconv.ts: it lists what the code emits, or this fails
 * (run `node scripts/reference.mjs` after changing a name).
 */
import { expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sc from '../../src/semconv.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('the reference matches src/semconv.ts', () => {
  const r = spawnSync(process.execPath, [resolve(repo, 'scripts/reference.mjs'), '--check'], { cwd: repo, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the reference names every span, attribute, metric and label constant', () => {
  const md = readFileSync(resolve(repo, 'docs/reference.md'), 'utf8');
  const names = Object.entries(sc).filter(([k, v]) => typeof v === 'string' && /^(SPAN|ATTR|METRIC|LABEL)_/.test(k)).map(([, v]) => v as string);
  expect(names.length).toBeGreaterThan(80);
  for (const n of names) expect(md, n).toContain(`| \`${n}\` |`);
});
