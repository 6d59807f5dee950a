/**
 * The one shape every capability has: a feature is handed the tracer, meter and resolved
 * configuration it needs, subscribes to the step lifecycle, and opens and closes its own
 * resources. The instrumentation builds the features once and loops over them, isolating each
 * (a feature that throws is reported through `diag` and never stops the next). Modelled on
 * instrumentation-runtime-node's list of collectors; features never import the instrumentation.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import type { CompletionRequest } from './openai/request-body.js';
import type { ProgramState } from './program/program-tracker.js';
import type { StepRecord } from './types.js';

/** Receives a streamed step's SSE events as they are read. */
export interface ChunkRecorder {
  /** `count` events arrived in one read, the first `interval` s after the previous event (undefined for a stream's first). */
  onChunks(count: number, interval: number | undefined): void;
}

/**
 * A step as features see it when it starts. Features keep their per-step state in its slots,
 * so what they build at the start (labels, a chunk recorder) serves the end too.
 */
export interface StepStart {
  readonly programId: string;
  readonly agentName: string | undefined;
  readonly operation: 'chat' | 'text_completion';
  readonly request: CompletionRequest | undefined;
  readonly serverAddress: string | undefined;
  readonly serverPort: number | undefined;
  /** The request's origin. */
  readonly backend: string | undefined;
  /**
   * Start-time metric labels, built once by the metrics feature: `start` serves active
   * requests' +1 and its −1, `genai` the GenAI histograms.
   */
  metricLabels?: StepLabels;
  /** Set by a feature that records per-read metrics; the step calls it directly. */
  chunkRecorder?: ChunkRecorder;
  /**
   * Set while the step's last attempt failed and was reported through `onAttemptFailed`: when
   * the step then ends without a retry, `onStepEnd` must not count that failure again.
   */
  failureReported?: boolean;
}

/** A running total a step adds to: one series of a sum observed at collection. */
export interface SumCellRef {
  value: number;
}

/**
 * TinyLLM's label sets of one model and graph, `start` (model, graph) and `requests` (with the
 * request type), shared by all their steps, with the series of the sums they add to (each made
 * when first added to).
 */
export interface OutcomeSeries {
  readonly start: Attributes;
  readonly requests: Attributes;
  active?: SumCellRef;
  requestCount?: SumCellRef;
  tokensIn?: SumCellRef;
  tokensOut?: SumCellRef;
}

/**
 * The label sets of one step, found once at its start and reused by every record at its end:
 * `outcome` its model and graph's, `genai` for the GenAI histograms and its two token-type
 * variants.
 */
export interface StepLabels {
  outcome: OutcomeSeries;
  genai: Attributes;
  genaiInput: Attributes;
  genaiOutput: Attributes;
  /** Whether the step counts in the active requests now (not while it waits for a retry). */
  active: boolean;
}

/** A failed attempt after which the step waits for a retry. */
export interface FailedAttempt {
  /** `error.type` of the attempt. */
  readonly errorType: string;
  /** Epoch ms. */
  readonly endTime: number;
  /** The wait its response asked for (`retry-after` / `retry-after-ms`), seconds. */
  readonly retryAfterS: number | undefined;
}

/** A request asking to be sent: what an admission decision can go by. */
export interface AdmissionRequest {
  readonly programId: string;
  readonly origin: string | undefined;
  /** `host:port` of the engine, when the origin names one. */
  readonly backend: string | undefined;
}

/** A capability of the instrumentation. Every member is optional. */
export interface Feature {
  /** For `diag` messages. */
  readonly name: string;
  /** (Re)creates the feature's instruments on `meter` (also called when the meter provider changes). */
  updateMetricInstruments?(meter: Meter): void;
  /** Starts what the feature runs (servers, timers). */
  enable?(): void;
  /** Stops it; the feature may be enabled again. */
  disable?(): void;
  /** Writes what is queued and closes every resource. */
  shutdown?(): Promise<void> | void;
  /**
   * Whether a request may go: undefined to let it go, an Error to fail it with (it is not
   * sent), or a promise to hold it until it settles (a hold is pause time).
   */
  admit?(request: AdmissionRequest): Error | undefined | Promise<void>;
  /** A step began (its request is about to be dispatched). */
  onStepStart?(step: StepStart): void;
  /**
   * An attempt of a step failed and the step waits for the client to retry it (the step's last
   * attempt is reported by `onStepEnd` instead): every failed attempt counts once, through one
   * of the two.
   */
  onAttemptFailed?(attempt: FailedAttempt, step: StepStart): void;
  /** A step that waited after a failed attempt is being retried (its next attempt starts now). */
  onRetry?(step: StepStart): void;
  /**
   * Attributes the step's final `chat` span waits for before it ends (with its own end time):
   * the engine's timings of the request. A promise that settles within a bounded wait.
   */
  holdSpans?(record: StepRecord, step: StepStart, chatSpanId: string): Promise<Attributes> | undefined;
  /** A step ended, whatever its outcome; `program` is its program's registry entry. */
  onStepEnd?(record: StepRecord, step: StepStart, program: ProgramState): void;
}
