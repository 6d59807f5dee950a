/** A step as the request hook begins it. */
import type { Context } from '@opentelemetry/api';
import type { StepStart } from '../feature.js';

/** What is known when a request arrives (features see it as a {@link StepStart}). */
export interface StepInit extends StepStart {
  stepId: number;
  previousEnd: number | undefined;
  arrive: number;
  parentContext: Context;
  /** The request's URL (origin and path), against which a redirect's location resolves. */
  url: string | undefined;
  /** The client's own timeout, whole seconds (the `openai` client's `x-stainless-timeout`). */
  clientTimeoutS: number | undefined;
  /** Tells the request's body apart cheaply (a client following a redirect sends it again). */
  fingerprint: string | undefined;
  /** The `openai` client's `x-stainless-retry-count`, when it sent one. */
  retryCount: number | undefined;
  /**
   * The application's body, kept only while it may be needed to tell a silent retry (named
   * programs, no retry count); let go of once hashed or once the step ends.
   */
  body: string | Uint8Array | undefined;
  /** The program's holds (`pausing()`) within its tool gap, flat `[start, end, …]` epoch ms. */
  holds?: number[];
}

