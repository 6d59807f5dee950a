/**
 * The one registry of live programs: step counters, the end of each program's previous step
 * (from which the tool_call phase is measured) and requests in flight. One map, one eviction
 * rule: a program with nothing in flight, idle for longer than the timeout, leaves memory.
 * Features that keep per-program state key it by the program's entry here (a WeakMap), so it
 * leaves with the program (its rows stay in step_profiles.csv). Nothing here imports them.
 */

/** What we remember of one program. */
export interface ProgramState {
  readonly id: string;
  /** Steps begun so far. */
  stepCount: number;
  /** End (epoch ms) of the latest finished step. */
  lastEnd: number | undefined;
  /** Requests of this program in flight. */
  inFlight: number;
  /** Epoch ms of the last begin or end. */
  lastActivity: number;
}

/** What a new step learns from its program. */
export interface StepTicket {
  stepId: number;
  /** End of the program's previous step; undefined on its first. */
  previousEnd: number | undefined;
}

/** Tracks every live program. */
export class ProgramTracker {
  private readonly _programs = new Map<string, ProgramState>();
  private _lastSweep = 0;

  /** @param _idleTimeoutMs programs with nothing in flight and idle this long are forgotten. */
  constructor(private readonly _idleTimeoutMs: number) {}

  /** Starts a step of `programId` arriving at `arrive` (epoch ms). */
  beginStep(programId: string, arrive: number): StepTicket {
    this._maybeSweep(arrive);
    let state = this._programs.get(programId);
    if (state === undefined) {
      state = { id: programId, stepCount: 0, lastEnd: undefined, inFlight: 0, lastActivity: arrive };
      this._programs.set(programId, state);
    }
    state.stepCount++;
    state.inFlight++;
    state.lastActivity = arrive;
    return { stepId: state.stepCount, previousEnd: state.lastEnd };
  }

  /**
   * Ends a step of `programId` at `end` (epoch ms): the next step's tool_call starts here.
   * Returns the program's state, registered again if it was forgotten while the step ran
   * (`disable()` clears the registry).
   */
  endStep(programId: string, end: number): ProgramState {
    let state = this._programs.get(programId);
    if (state === undefined) {
      state = { id: programId, stepCount: 0, lastEnd: undefined, inFlight: 0, lastActivity: end };
      this._programs.set(programId, state);
    } else {
      state.inFlight = Math.max(0, state.inFlight - 1);
    }
    if (state.lastEnd === undefined || end > state.lastEnd) state.lastEnd = end;
    state.lastActivity = Math.max(state.lastActivity, end);
    this._maybeSweep(end);
    return state;
  }

  /**
   * A request of `programId` failed at `end` and may still be retried: the program lived that
   * failure, so its next step's tool_call starts there (the step itself is still in flight).
   */
  noteEnd(programId: string, end: number): void {
    const state = this._programs.get(programId);
    if (state === undefined) return;
    if (state.lastEnd === undefined || end > state.lastEnd) state.lastEnd = end;
    state.lastActivity = Math.max(state.lastActivity, end);
  }

  /** The state of one program, if it is live. */
  get(programId: string): Readonly<ProgramState> | undefined {
    return this._programs.get(programId);
  }

  /** Every live program, in the order they were first seen. */
  states(): IterableIterator<Readonly<ProgramState>> {
    return this._programs.values();
  }

  /** Requests in flight across all programs. */
  inFlight(): number {
    let n = 0;
    for (const p of this._programs.values()) n += p.inFlight;
    return n;
  }

  /** Number of live programs. */
  get size(): number {
    return this._programs.size;
  }

  /** Forgets programs idle since before `now − timeout` with nothing in flight. */
  sweep(now: number): void {
    this._lastSweep = now;
    const cutoff = now - this._idleTimeoutMs;
    for (const [id, state] of this._programs) {
      if (state.inFlight === 0 && state.lastActivity < cutoff) this._programs.delete(id);
    }
  }

  /** Sweeps at most every quarter timeout, so eviction costs O(1) amortised per step. */
  private _maybeSweep(now: number): void {
    if (now - this._lastSweep >= Math.max(1000, this._idleTimeoutMs / 4)) this.sweep(now);
  }

  /** Drops all state. */
  clear(): void {
    this._programs.clear();
  }
}
