/**
 * Omni pipelines as traces and metrics: `omni.request` with `omni.stage {id}` and
 * `omni.transfer {from}->{to}` children, timed as the pipeline ran; histograms of E2E latency,
 * tokens, stage generation time and transfer bytes / time, labelled by stage or edge only.
 * Every finished request also feeds the summary aggregator, and the reference's invariants are
 * checked on it: a violation goes to `diag` and onto the span, never thrown.
 */
import { context, SpanKind, trace, type Attributes, type Context, type Histogram, type Meter, type Tracer } from '@opentelemetry/api';
import * as sc from '../semconv.js';
import { now } from '../util/clock.js';
import { log } from '../util/log.js';
import {
  checkInvariants, computeE2E, edgeName, OmniSummaryAggregator, transferTotalMs,
  type OmniRequestRecord, type OmniStageStats, type OmniTransferStats,
} from './omni-stats.js';

/** What `omni.record()` takes: one finished request's stats, as vLLM-omni prints them after the fact. */
export interface OmniRequestInput {
  requestId: string;
  stages: Record<number, OmniStageStats> | Map<number, OmniStageStats>;
  transfers?: Record<string, OmniTransferStats> | Map<string, OmniTransferStats>;
  preprocess_ms?: number;
  e2e_total_ms?: number;
  e2e_total_tokens?: number;
  transfers_total_time_ms?: number;
  transfers_total_bytes?: number;
  /** Epoch ms; default: now − e2e_total_ms. */
  start_time?: number;
  /** Epoch ms; default: now. */
  end_time?: number;
  attributes?: Attributes;
}

/** A request in progress (`omni.startRequest`). */
export interface OmniRequestHandle {
  /** One stage's stats (times default to a sequential layout). */
  stage(stageId: number, stats: OmniStageStats): OmniRequestHandle;
  /** One hand-over's stats. */
  transfer(fromStage: number, toStage: number, stats: OmniTransferStats): OmniRequestHandle;
  /** Ends the request now; `reported` are totals the engine printed, checked against the parts. */
  end(reported?: { e2e_total_tokens?: number; transfers_total_time_ms?: number; transfers_total_bytes?: number }): void;
}

interface Instruments {
  duration: Histogram;
  tokens: Histogram;
  stageDuration: Histogram;
  transferSize: Histogram;
  transferDuration: Histogram;
}

const SECONDS_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

export class OmniRecorder {
  /** The summary of every request recorded, and the tables of the latest (`tableRequests`, default 1000). */
  readonly summary: OmniSummaryAggregator;
  private _instruments!: Instruments;

  constructor(private readonly _tracer: () => Tracer, meter: Meter, options: { tableRequests?: number } = {}) {
    this.summary = new OmniSummaryAggregator(undefined, options.tableRequests);
    this.updateMetricInstruments(meter);
  }

  /** (Re)creates the histograms on `meter`: called when the meter provider changes. */
  updateMetricInstruments(meter: Meter): void {
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } };
    this._instruments = {
      duration: meter.createHistogram(sc.METRIC_OMNI_REQUEST_DURATION, { description: 'End-to-end latency of an omni request.', ...seconds }),
      tokens: meter.createHistogram(sc.METRIC_OMNI_REQUEST_TOKENS, { description: 'Tokens of an omni request: stage 0 input plus every stage output.', unit: '{token}', advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] } }),
      stageDuration: meter.createHistogram(sc.METRIC_OMNI_STAGE_DURATION, { description: 'Generation time of one stage for one request.', ...seconds }),
      transferSize: meter.createHistogram(sc.METRIC_OMNI_TRANSFER_SIZE, { description: 'Bytes handed over on one edge for one request.', unit: 'By', advice: { explicitBucketBoundaries: [1024, 16384, 262144, 1048576, 4194304, 16777216, 67108864, 268435456] } }),
      transferDuration: meter.createHistogram(sc.METRIC_OMNI_TRANSFER_DURATION, { description: 'Hand-over time on one edge (tx + rx decode + in flight).', ...seconds }),
    };
  }

  /** Starts a request now, as a child of the active span. */
  startRequest(requestId: string, options: { attributes?: Attributes } = {}): OmniRequestHandle {
    const parent = context.active();
    const record: OmniRequestRecord = { requestId, stages: new Map(), transfers: new Map(), start_time: now() };
    let ended = false;
    const handle: OmniRequestHandle = {
      stage: (id, stats) => {
        record.stages.set(id, { ...record.stages.get(id), ...stats });
        return handle;
      },
      transfer: (from, to, stats) => {
        record.transfers.set(edgeName(from, to), { ...record.transfers.get(edgeName(from, to)), ...stats });
        return handle;
      },
      end: (reported) => {
        if (ended) return;
        ended = true;
        record.end_time = now();
        record.e2e_total_ms = record.end_time - (record.start_time as number);
        if (reported !== undefined) record.reported = reported;
        this._finish(record, parent, options.attributes);
      },
    };
    return handle;
  }

  /** Records one finished request at once. */
  record(input: OmniRequestInput): void {
    const record = toRecord(input);
    this._finish(record, context.active(), input.attributes);
  }

  /** Records an already-built record (the log reader's). */
  recordParsed(record: OmniRequestRecord, attributes?: Attributes): void {
    this._finish(record, context.active(), attributes);
  }

  private _finish(record: OmniRequestRecord, parent: Context, attributes: Attributes | undefined): void {
    try {
      const e2e = computeE2E(record);
      // Times the record really has (live, or the log's own timestamps) make the summary's wall
      // time; a replayed record without them is placed at now() for its spans only.
      const timed = record.end_time !== undefined;
      const end = record.end_time ?? now();
      const start = record.start_time ?? end - e2e.e2e_total_ms;
      record.end_time = end;
      record.start_time = start;
      const violations = checkInvariants(record);
      const tracer = this._tracer();
      const root = tracer.startSpan(sc.SPAN_OMNI_REQUEST, {
        kind: SpanKind.INTERNAL,
        startTime: start,
        attributes: {
          ...attributes,
          [sc.ATTR_OMNI_REQUEST_ID]: record.requestId,
          [sc.ATTR_OMNI_E2E_TOTAL_MS]: e2e.e2e_total_ms,
          ...(e2e.e2e_total_tokens === undefined ? {} : { [sc.ATTR_OMNI_E2E_TOTAL_TOKENS]: e2e.e2e_total_tokens }),
          [sc.ATTR_OMNI_TRANSFERS_TOTAL_TIME_MS]: e2e.transfers_total_time_ms,
          ...(e2e.transfers_total_bytes === undefined ? {} : { [sc.ATTR_OMNI_TRANSFERS_TOTAL_BYTES]: e2e.transfers_total_bytes }),
        },
      }, parent);
      if (violations.length > 0) {
        root.setAttribute(sc.ATTR_OMNI_INVARIANT_VIOLATIONS, violations.map((v) => `${v.invariant}: reported ${v.reported}, parts sum to ${v.expected}`));
        log.warn(`omni request ${record.requestId} breaks ${violations.map((v) => `${v.invariant} (reported ${v.reported}, parts sum to ${v.expected})`).join(' and ')}`);
      }
      const ctx = trace.setSpan(parent, root);
      let cursor = start + (record.preprocess_ms ?? 0);
      const ids = [...record.stages.keys()].sort((a, b) => a - b);
      for (const [i, id] of ids.entries()) {
        const s = record.stages.get(id) as OmniStageStats;
        const sStart = s.start_time ?? cursor;
        const sEnd = s.end_time ?? sStart + (s.stage_gen_time_ms ?? 0);
        s.start_time = sStart;
        s.end_time = sEnd;
        const a: Attributes = { [sc.ATTR_OMNI_STAGE_ID]: id };
        if (s.name !== undefined) a[sc.ATTR_OMNI_STAGE_NAME] = s.name;
        for (const k of ['batch_id', 'batch_size', 'num_tokens_in', 'num_tokens_out', 'preprocess_time_ms', 'postprocess_time_ms', 'stage_gen_time_ms'] as const) {
          if (s[k] !== undefined) a[sc.omniStageAttribute(k)] = s[k];
        }
        tracer.startSpan(sc.omniStageSpanName(id, s.name), { kind: SpanKind.INTERNAL, startTime: sStart, attributes: a }, ctx).end(sEnd);
        this._instruments.stageDuration.record((sEnd - sStart) / 1000, { [sc.ATTR_OMNI_STAGE]: String(id) });
        cursor = sEnd;
        const next = ids[i + 1];
        const edge = next === undefined ? undefined : edgeName(id, next);
        const t = edge === undefined ? undefined : record.transfers.get(edge);
        if (edge !== undefined && t !== undefined) {
          cursor = this._transferSpan(tracer, ctx, edge, t, cursor);
        }
      }
      for (const [edge, t] of record.transfers) {
        if (!ids.some((id, i) => ids[i + 1] !== undefined && edgeName(id, ids[i + 1] as number) === edge)) this._transferSpan(tracer, ctx, edge, t, cursor);
      }
      root.end(end);
      this._instruments.duration.record(e2e.e2e_total_ms / 1000);
      if (e2e.e2e_total_tokens !== undefined) this._instruments.tokens.record(e2e.e2e_total_tokens);
      this.summary.add(record, e2e, timed);
    } catch (err) {
      log.error('could not record an omni request', err);
    }
  }

  private _transferSpan(tracer: Tracer, ctx: Context, edge: string, t: OmniTransferStats, start: number): number {
    const total = transferTotalMs(t);
    const a: Attributes = { [sc.ATTR_OMNI_EDGE]: edge, [sc.ATTR_OMNI_TRANSFER_TOTAL_TIME_MS]: total };
    for (const k of ['size_bytes', 'tx_time_ms', 'rx_decode_time_ms', 'in_flight_time_ms', 'used_shm'] as const) {
      if (t[k] !== undefined) a[sc.omniTransferAttribute(k)] = t[k];
    }
    tracer.startSpan(sc.omniTransferSpanName(edge), { kind: SpanKind.INTERNAL, startTime: start, attributes: a }, ctx).end(start + total);
    this._instruments.transferDuration.record(total / 1000, { [sc.ATTR_OMNI_EDGE]: edge });
    if (t.size_bytes !== undefined) this._instruments.transferSize.record(t.size_bytes, { [sc.ATTR_OMNI_EDGE]: edge });
    return start + total;
  }
}

function toRecord(input: OmniRequestInput): OmniRequestRecord {
  const stages = input.stages instanceof Map ? new Map(input.stages) : new Map(Object.entries(input.stages).map(([k, v]) => [Number(k), { ...v }]));
  const transfers = input.transfers instanceof Map ? new Map(input.transfers) : new Map(Object.entries(input.transfers ?? {}));
  const record: OmniRequestRecord = { requestId: input.requestId, stages, transfers };
  if (input.preprocess_ms !== undefined) record.preprocess_ms = input.preprocess_ms;
  if (input.e2e_total_ms !== undefined) record.e2e_total_ms = input.e2e_total_ms;
  if (input.start_time !== undefined) record.start_time = input.start_time;
  if (input.end_time !== undefined) record.end_time = input.end_time;
  const reported: NonNullable<OmniRequestRecord['reported']> = {};
  if (input.e2e_total_tokens !== undefined) reported.e2e_total_tokens = input.e2e_total_tokens;
  if (input.transfers_total_time_ms !== undefined) reported.transfers_total_time_ms = input.transfers_total_time_ms;
  if (input.transfers_total_bytes !== undefined) reported.transfers_total_bytes = input.transfers_total_bytes;
  if (Object.keys(reported).length > 0) record.reported = reported;
  return record;
}
