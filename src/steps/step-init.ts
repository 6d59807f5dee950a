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
}

