/**
 * `withProgram`: everything called inside `fn`, async included, belongs to one agent program.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProgramOptions } from '../types.js';

/** The program a piece of code runs for. */
export interface ProgramScope {
  programId: string;
  agent?: string;
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
