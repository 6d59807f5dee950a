/**
 * The real captures in shared/fixtures (beside this repository, as CI lays it out), read with
 * their documented wrapping removed the way a person would remove it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The copy of shared/fixtures kept in this repository, so a clone anywhere can run the tests. */
export const VENDORED_SHARED_DIR = resolve(repoRoot, 'test/fixtures/shared');

/**
 * The shared/ folder: $AGENTIC_OTEL_SHARED_DIR, else the one beside the repository (as the
 * workplace lays it out), else the copy in this repository. The copy is tested to be identical to
 * shared/fixtures wherever that is present (fixtures-copy.test.ts).
 */
export const SHARED_DIR = [process.env['AGENTIC_OTEL_SHARED_DIR'], resolve(repoRoot, '../shared'), VENDORED_SHARED_DIR].find(
  (d): d is string => d !== undefined && existsSync(resolve(d, 'fixtures')),
) ?? VENDORED_SHARED_DIR;

export function fixturePath(rel: string): string {
  return resolve(SHARED_DIR, 'fixtures', rel);
}

export function readFixture(rel: string): string {
  return readFileSync(fixturePath(rel), 'utf8');
}

/** A fixture as the SSE bytes an engine sent. */
export function sseFixture(name: string): string {
  const text = readFixture(`sse/${name}`);
  if (name.endsWith('.chunks.jsonl')) {
    // One chunk payload a line, no framing: frame each as an SSE event.
    return text.split('\n').filter((l) => l.trim()).map((l) => `data: ${l}\n\n`).join('');
  }
  if (name === 'vllm-0.9.2-stream-elided-in-shell-comments.txt') {
    // The stream sits in `# ` comments after the curl command; `# ...` marks elided events.
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.startsWith('# data: '));
    return lines
      .slice(from)
      .filter((l) => l.startsWith('#') && l.trim() !== '# ...')
      .map((l) => (l === '#' ? '' : l.replace(/^# /, '')))
      .join('\n') + '\n\n';
  }
  return text;
}

/**
 * Fixture file names with what a person reads off each by hand. `lastChoiceEvent` is the
 * 1-based position of the last data event whose `choices` is not empty (the last token).
 */
export const SSE_EXPECTATIONS = {
  'vllm-shaped-toolcall-continuous-usage.sse': {
    dataEvents: 9, lastChoiceEvent: 8, done: true, finishReasons: ['tool_calls'],
    usage: { prompt_tokens: 226, completion_tokens: 20, total_tokens: 246 }, cached: undefined,
    id: 'chat-2267f7e2910a4254bac0650ba74cfc1c', model: 'meta/llama-3.1-8b-instruct:fp8',
  },
  'toolcall-usage-on-finish-chunk-cached-tokens.chunks.jsonl': {
    dataEvents: 3, lastChoiceEvent: 3, done: false, finishReasons: ['tool_calls'],
    usage: { prompt_tokens: 171, completion_tokens: 14, total_tokens: 185 }, cached: 128,
    id: '735e434874a24f68a2390b3cab149242', model: 'zai-glm-5-2',
  },
  'vllm-0.9.2-stream-elided-in-shell-comments.txt': {
    dataEvents: 6, lastChoiceEvent: 6, done: true, finishReasons: ['stop'],
    usage: undefined, cached: undefined,
    id: 'chatcmpl-dc461701bc424bac9de697c529922071', model: 'Qwen/Qwen3-0.6B',
  },
  'kserve-hf-runtime-elided-no-blank-lines.sse': {
    dataEvents: 6, lastChoiceEvent: 6, done: true, finishReasons: [],
    usage: undefined, cached: undefined,
    id: 'cmpl-22e12eb9fa5e4b0c9726cef4a9ac993c', model: 'llama3',
  },
} as const;
