/**
 * `withProgram`: everything called inside `fn`, async included, belongs to one agent program.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProgramOptions } from '../types.js';
import { now } from '../util/clock.js';
import { HoldLog } from './hold-log.js';

/** The program a piece of code runs for. */
export interface ProgramScope {
  programId: string;
  agent?: string;
  /** What the program awaited inside `pausing()`, since its last request. */
  holds?: HoldLog;
}

// One store per process, even when both the ESM and the CommonJS build of this package are
// loaded (the dual-package hazard): a `withProgram` from one copy must reach the other's hook.
const STORAGE_KEY = Symbol.for('agentic-otel.program-scope');
const globalStore = globalThis as unknown as Record<symbol, AsyncLocalStorage<ProgramScope> | undefined>;
const storage: AsyncLocalStorage<ProgramScope> = (globalStore[STORAGE_KEY] ??= new AsyncLocalStorage<ProgramScope>());

/**
 * Runs `fn` as part of program `programId`: every LLM request made inside it, however deep in
 * async code, is a step of that program. This wins over the `x-program-id` header and the
 * body's `program_id`.
 *
 * @example
 * await withProgram('agent-7', () => runAgentLoop(task), { agent: 'swe-agent' });
 */
export function withProgram<T>(programId: string, fn: () => T, options?: ProgramOptions): T {
  const scope: ProgramScope = { programId: String(programId) };
  if (options?.agent !== undefined) scope.agent = options.agent;
  return storage.run(scope, fn);
}

/** The program of the calling code, if it runs inside {@link withProgram}. */
export function currentProgram(): ProgramScope | undefined {
  return storage.getStore();
}

/**
 * Runs `fn`, an await of the program's own hold (its semaphore, a token bucket, a human
 * approval), and counts the time until it settles as the program's pause, not its tool time:
 * `await pausing(() => limiter.acquire())`. Overlapping holds count once. Returns what `fn`
 * returns (a promise that settles as `fn`'s does); outside {@link withProgram} it only runs `fn`.
 */
export function pausing<T>(fn: () => T): T {
  const scope = storage.getStore();
  if (scope === undefined) return fn();
  const holds = (scope.holds ??= new HoldLog());
  holds.begin(now());
  let result: T;
  try {
    result = fn();
  } catch (err) {
    holds.end(now());
    throw err;
  }
  if (result === null || typeof result !== 'object' || typeof (result as { then?: unknown }).then !== 'function') {
    holds.end(now());
    return result;
  }
  return Promise.resolve(result).finally(() => holds.end(now())) as T;
}
