/**
 * One logical request, one step, across redirects: a step whose attempt was answered 301-308
 * waits for its client to follow; the follow-up request (the location's URL, the same body)
 * continues the step as its next attempt. fetch and undici's redirect interceptor follow at
 * once, and the hop may run outside the application's async context, so neither context nor
 * program identifies it. When nothing follows within a second, the step ends with the redirect.
 */
import type { AgentStep } from './agent-step.js';

const FOLLOW_WITHIN_MS = 1000;

export class RedirectFollow {
  private readonly _pending = new Map<string, { step: AgentStep; timer: NodeJS.Timeout }>();

  /** `step` was redirected to `location`: true when it now waits for the follow-up. */
  await(step: AgentStep, fingerprint: string | undefined, location: URL): boolean {
    const key = `${location.origin}${location.pathname}${location.search}\n${fingerprint ?? ''}`;
    if (this._pending.has(key)) return false;
    const timer = setTimeout(() => {
      this._pending.delete(key);
      step.endRedirected();
    }, FOLLOW_WITHIN_MS);
    this._pending.set(key, { step, timer });
    return true;
  }

  /** The step a request to `url` with this body continues, if it follows a redirect. */
  take(url: string | undefined, fingerprint: string | undefined): AgentStep | undefined {
    if (this._pending.size === 0 || url === undefined) return undefined;
    const key = `${url}\n${fingerprint ?? ''}`;
    const pending = this._pending.get(key);
    if (pending === undefined) return undefined;
    clearTimeout(pending.timer);
    this._pending.delete(key);
    return pending.step;
  }

  /** Ends every waiting step with its redirect (shutdown: no row is lost). */
  endAll(): void {
    for (const [key, pending] of this._pending) {
      clearTimeout(pending.timer);
      this._pending.delete(key);
      pending.step.endRedirected();
    }
  }
}
