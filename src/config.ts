/**
 * Resolves the configuration once: defaults, environment variables, validation, one frozen
 * object that every feature reads. Options that make no sense throw here, from the constructor
 * (or `setConfig`); nothing on the request path validates again.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_CAPTURE_MESSAGE_CONTENT } from './semconv.js';
import type { AgenticInstrumentationConfig } from './types.js';
import type { SnapshotsConfig } from './snapshots/snapshot-feature.js';

const DEFAULT_PATHS = ['/v1/chat/completions', '/v1/completions'];
const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
/** Turns profiling on, with that directory. */
export const ENV_PROFILE_DIR = 'AGENTIC_OTEL_PROFILE_DIR';

/** The configuration as features read it. */
export interface ResolvedConfig {
  readonly enabled: boolean;
  readonly paths: ReadonlySet<string>;
  readonly installGlobalDispatcher: boolean;
  readonly captureContent: boolean;
  readonly injectIncludeUsage: boolean;
  readonly propagateTraceContext: boolean;
  readonly propagateTo: AgenticInstrumentationConfig['propagateTo'];
  readonly providerName: string;
  readonly programIdleTimeoutMs: number;
  /** The directory of step_profiles.csv, when profiling is on. */
  readonly profileDir: string | undefined;
  /** step_profiles.csv with `error_type` and `inference_s` after ThunderAgent's columns. */
  readonly profileExtended: boolean;
  readonly statusServer: { readonly port: number; readonly host: string } | undefined;
  readonly metricPrefix: string;
  readonly timePerOutputChunk: 'perChunk' | 'perStream' | 'off';
  readonly circuitBreaker: { readonly threshold: number; readonly cooldownMs: number; readonly failFast: boolean };
  readonly backends: readonly NonNullable<AgenticInstrumentationConfig['backends']>[number][];
  readonly retryWindowMs: number;
  readonly snapshots: SnapshotsConfig | undefined;
  readonly pollIntervalMs: number;
  readonly pollTimeoutMs: number | undefined;
}

/** Resolves `config` against `env`; throws a RangeError on options that make no sense. */
export function resolveConfig(config: AgenticInstrumentationConfig, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const idle = config.programIdleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (!(idle > 0)) throw new RangeError(`programIdleTimeoutMs must be a positive number, got ${String(config.programIdleTimeoutMs)}`);
  const prefix = config.metricPrefix ?? 'agentic';
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(prefix)) throw new RangeError(`metricPrefix must be a Prometheus name prefix, got '${prefix}'`);
  const breaker = config.circuitBreaker ?? {};
  const threshold = breaker.threshold ?? 5;
  const cooldownMs = breaker.cooldownMs ?? 30_000;
  if (!(threshold >= 1) || !(cooldownMs >= 0)) throw new RangeError('circuitBreaker needs threshold >= 1 and cooldownMs >= 0');
  const retryWindowMs = config.retryWindowMs ?? 60_000;
  if (!(retryWindowMs >= 0)) throw new RangeError(`retryWindowMs must be >= 0, got ${String(config.retryWindowMs)}`);
  const snap = config.snapshots;
  const snapshots = snap === undefined ? undefined : Object.freeze({
    dir: snap.dir,
    backends: snap.backends === undefined ? undefined : Object.freeze([...snap.backends]),
    maxFiles: snap.maxFiles ?? 10_000,
    maxAgeMs: snap.maxAgeMs ?? 7 * 24 * 3600_000,
    maxWaitMs: snap.maxWaitMs ?? 2000,
  });
  if (snapshots !== undefined && !(snapshots.maxFiles >= 1 && snapshots.maxAgeMs > 0 && snapshots.maxWaitMs >= 0)) throw new RangeError('snapshots needs maxFiles >= 1, maxAgeMs > 0 and maxWaitMs >= 0');
  const tpoc = config.timePerOutputChunk ?? 'perStream';
  if (tpoc !== 'perChunk' && tpoc !== 'perStream' && tpoc !== 'off') throw new RangeError(`timePerOutputChunk must be 'perChunk', 'perStream' or 'off', got '${String(tpoc)}'`);
  const envDir = env[ENV_PROFILE_DIR];
  const profiling = config.profile === true || typeof config.profile === 'object' || (config.profile === undefined && envDir !== undefined && envDir !== '');
  const dir = typeof config.profile === 'object' && config.profile.dir !== undefined ? config.profile.dir : envDir;
  return Object.freeze({
    enabled: config.enabled ?? true,
    paths: new Set(config.paths ?? DEFAULT_PATHS),
    installGlobalDispatcher: config.installGlobalDispatcher !== false,
    captureContent: config.captureContent === true || env[ENV_CAPTURE_MESSAGE_CONTENT]?.toLowerCase() === 'true',
    injectIncludeUsage: config.injectIncludeUsage !== false,
    propagateTraceContext: config.propagateTraceContext !== false,
    propagateTo: config.propagateTo,
    providerName: config.providerName ?? 'vllm',
    programIdleTimeoutMs: idle,
    profileExtended: typeof config.profile === 'object' && config.profile.extended === true,
    profileDir: profiling ? (dir !== undefined && dir !== '' ? dir : join(tmpdir(), 'agentic_otel_profiles')) : undefined,
    statusServer: config.statusServer === undefined ? undefined : Object.freeze({ port: config.statusServer.port, host: config.statusServer.host ?? '127.0.0.1' }),
    metricPrefix: prefix,
    timePerOutputChunk: tpoc,
    circuitBreaker: Object.freeze({ threshold, cooldownMs, failFast: breaker.failFast === true }),
    backends: Object.freeze([...(config.backends ?? [])]),
    retryWindowMs,
    snapshots,
    pollIntervalMs: config.pollIntervalMs ?? 5000,
    pollTimeoutMs: config.pollTimeoutMs,
  });
}
