/**
 * ThunderAgent's profiles as a feature: every finished step goes into its program's profile
 * and, with profiling on, a row of step_profiles.csv.
 */
import type { Feature, StepStart } from '../feature.js';
import type { ProgramState, ProgramTracker } from '../program/program-tracker.js';
import type { StepRecord } from '../types.js';
import { ProgramProfiles, type ProgramProfile, type ProgramView } from './program-profiles.js';
import { formatStepRow, STEP_CSV_EXTENDED_HEADER } from './step-csv.js';
import { StepProfileWriter } from './step-profile-writer.js';

/** `instrumentation.profiles`: ThunderAgent's per-program views. */
export interface ProfilesApi {
  /** Whether profiling is on (the CSV and the profile views). */
  readonly enabled: boolean;
  /** The CSV being written, when profiling is on. */
  readonly csvPath: string | undefined;
  /** One program's profile (undefined when unknown or profiling is off). */
  get(programId: string): ProgramProfile | undefined;
  /** Every live program's profile (empty when profiling is off). */
  all(): Record<string, ProgramProfile>;
  /** Every live program: backend, status, tokens, steps, and its profile when profiling is on. */
  programs(): Record<string, ProgramView>;
  /** Writes the CSV rows still queued (they are otherwise written within a second, and at exit). */
  flush(): Promise<void>;
}

export class ProfilesFeature implements Feature {
  readonly name = 'profiles';
  readonly views: ProgramProfiles;

  constructor(programs: ProgramTracker, private readonly _writer: StepProfileWriter | undefined) {
    this.views = new ProgramProfiles(programs);
  }

  /** The CSV's directory, when profiling is on. */
  get dir(): string | undefined {
    return this._writer?.dir;
  }

  onStepEnd(record: StepRecord, _step: StepStart, program: ProgramState): void {
    this.views.add(program, record);
    this._writer?.write(formatStepRow(record, this._writer.header === STEP_CSV_EXTENDED_HEADER));
  }

  async shutdown(): Promise<void> {
    await this._writer?.shutdown();
  }

  /** The public view of it. */
  api(): ProfilesApi {
    const views = this.views;
    const enabled = this._writer !== undefined;
    return {
      enabled,
      csvPath: this._writer?.path,
      get: (id) => (enabled ? views.get(id) : undefined),
      all: () => (enabled ? views.all() : {}),
      programs: () => {
        const out = views.programs();
        if (!enabled) for (const v of Object.values(out)) v.profile = null;
        return out;
      },
      flush: async () => {
        await this._writer?.flush();
      },
    };
  }
}
