/**
 * Writes every queued profile row synchronously when the process ends: on `beforeExit` (the
 * event loop ran dry), `exit` (`process.exit()` included) and SIGTERM / SIGINT. One set of
 * process handlers serves every writer, installed with the first and removed with the last.
 *
 * A signal handler must not swallow the signal: when ours is the only handler of that signal,
 * the process would have died of it without us, so after the flush we remove our handlers and
 * raise the signal again, and the default behaviour (and exit status) follows. When the
 * application has a handler of its own, it decides, as it would without us.
 */
import { log } from '../util/log.js';

/** What the exit flush needs of a writer. */
export interface SyncFlushable {
  flushSync(): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Flushed before the writers: what still has rows to hand them (steps waiting for a retry). */
const firsts = new Set<SyncFlushable>();
const writers = new Set<SyncFlushable>();
let installed = false;

function flushAll(): void {
  for (const w of [...firsts, ...writers]) {
    try {
      w.flushSync();
    } catch (err) {
      log.error('could not write step profiles at exit', err);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  flushAll();
  if (process.listenerCount(signal) > 1) return; // the application handles it
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('beforeExit', flushAll);
  process.on('exit', flushAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('beforeExit', flushAll);
  process.off('exit', flushAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/**
 * Registers `writer` for the exit flush (`first`: before every writer); returns the function that
 * unregisters it.
 */
export function installExitFlush(writer: SyncFlushable, options: { first?: boolean } = {}): () => void {
  const set = options.first === true ? firsts : writers;
  set.add(writer);
  install();
  return () => {
    set.delete(writer);
    if (writers.size === 0 && firsts.size === 0) uninstall();
  };
}

/** Process handlers currently installed (for tests). */
export function exitFlushInstalled(): boolean {
  return installed;
}
