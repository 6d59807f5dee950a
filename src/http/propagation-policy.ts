/**
 * `propagateTo`: which engines receive our trace context, decided once per origin (an
 * application talks to a handful of engines).
 */
import type { AgenticInstrumentationConfig } from '../types.js';
import { log } from '../util/log.js';

const MAX_CACHED_ORIGINS = 256;

export class PropagationPolicy {
  private readonly _decisions = new Map<string, boolean>();

  constructor(private readonly _rule: AgenticInstrumentationConfig['propagateTo']) {}

  /** Whether requests to `origin` get our trace context. */
  allows(origin: string | undefined): boolean {
    if (this._rule === undefined) return true;
    if (origin === undefined) return false;
    let decision = this._decisions.get(origin);
    if (decision === undefined) {
      decision = decide(this._rule, origin);
      if (this._decisions.size >= MAX_CACHED_ORIGINS) this._decisions.clear();
      this._decisions.set(origin, decision);
    }
    return decision;
  }
}

function decide(rule: NonNullable<AgenticInstrumentationConfig['propagateTo']>, origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  try {
    if (typeof rule === 'function') return rule(url) === true;
    return rule.some((r) => (typeof r === 'string' ? r.replace(/\/$/, '') === url.origin || r === url.host || r === url.hostname : r.test(url.origin)));
  } catch (err) {
    log.error(`propagateTo failed; no trace context sent to ${url.origin}`, err);
    return false;
  }
}
