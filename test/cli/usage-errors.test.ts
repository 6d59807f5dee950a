/**
 * The command line refuses what makes no sense, with exit status 2 and a message that never
 * echoes a URL's credentials.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', resolve(repo, 'src/cli/main.ts'), ...args], { cwd: repo, encoding: 'utf8', timeout: 20_000 });

describe('agentic-otel watch', () => {
  test.each([
    [['--prefix', '9bad'], /--prefix must be a Prometheus metric name prefix/],
    [['--prefix', 'a-b'], /--prefix/],
    [['--port', '1.5e3'], /--port must be an integer 0..65535/],
    [['--port', '65536'], /--port/],
    [['--port', '-1'], /--port/],
    [['--port', '0x50'], /--port/],
    [['--interval', 'soon'], /interval/],
  ])('%j is a usage error (exit 2)', (extra, message) => {
    const r = cli('watch', '--backend', 'http://127.0.0.1:1', ...extra);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test('a bad backend URL is a usage error that does not echo its credentials', () => {
    const r = cli('watch', '--backend', 'ftp://admin:s3cret@host:21/x');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--backend must be http/);
    expect(r.stderr).not.toContain('s3cret');
  });

  test('an unknown command and no backend are usage errors too', () => {
    expect(cli('nonsense').status).toBe(2);
    expect(cli('watch').status).toBe(2);
  });
});
