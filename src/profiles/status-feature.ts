/**
 * The status server as a feature: ThunderAgent's JSON views over HTTP (`/health`, `/programs`,
 * `/profiles`, `/profiles/{id}`, `/metrics`), started by `enable()`, closed by `disable()`.
 */
import type { Feature } from '../feature.js';
import { log } from '../util/log.js';
import type { ProfilesApi } from './profiles-feature.js';
import { StatusServer } from './status-server.js';

export class StatusFeature implements Feature {
  readonly name = 'status server';
  private _server: StatusServer | undefined;
  /** The port once listening (undefined when off or failed). */
  listening: Promise<number | undefined> = Promise.resolve(undefined);

  constructor(
    private readonly _options: { port: number; host: string },
    private readonly _profiles: () => ProfilesApi,
    private readonly _backends: () => Record<string, unknown>,
  ) {}

  enable(): void {
    if (this._server !== undefined) return;
    const server = (this._server = new StatusServer());
    const profilingOff = { status: 400, body: { error: 'profiling is not enabled (set profile: true or AGENTIC_OTEL_PROFILE_DIR)' } };
    server.route('/health', () => {
      const profiles = this._profiles();
      const programs = Object.values(profiles.programs());
      const reasoning = programs.filter((p) => p.status === 'reasoning').length;
      return { status: 200, body: { status: 'ok', profile_enabled: profiles.enabled, programs_count: programs.length, reasoning_count: reasoning, acting_count: programs.length - reasoning } };
    });
    server.route('/programs', () => ({ status: 200, body: this._profiles().programs() }));
    server.route('/metrics', () => ({ status: 200, body: this._backends() }));
    server.route('/profiles', () => (this._profiles().enabled ? { status: 200, body: this._profiles().all() } : profilingOff));
    server.route('/profiles', (id) => {
      const profiles = this._profiles();
      if (!profiles.enabled) return profilingOff;
      const profile = profiles.get(id as string);
      return profile === undefined ? { status: 404, body: { error: `no profile for program ${id as string}` } } : { status: 200, body: profile };
    }, { prefix: true });
    const { port, host } = this._options;
    this.listening = server.listen(port, host).catch((err: unknown) => {
      log.error(`status server could not listen on ${host}:${port}`, err);
      return undefined;
    });
  }

  disable(): Promise<void> {
    const server = this._server;
    this._server = undefined;
    return server?.close() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.disable();
  }
}
