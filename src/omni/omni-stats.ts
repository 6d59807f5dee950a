/**
 * vLLM-omni's per-request statistics, the reference's two invariants, the Overall Summary and
 * the printed tables (shared/reference/vllm-omni-production-metrics.md; field names from
 * vllm-project/vllm-omni `vllm_omni/metrics/stats.py`). Pure: no OpenTelemetry, no I/O.
 */

/** One stage's work on one request (StageRequestStats). */
export interface OmniStageStats {
  /** A label when known, e.g. `ar`, `diffusion`. */
  name?: string;
  batch_id?: number;
  batch_size?: number;
  num_tokens_in?: number;
  num_tokens_out?: number;
  preprocess_time_ms?: number;
  postprocess_time_ms?: number;
  /** Stage compute time (includes preprocessing when recorded). */
  stage_gen_time_ms?: number;
  /** When the stage ran (epoch ms); else laid out after the previous stage. */
  start_time?: number;
  end_time?: number;
}

/** One hand-over between two stages (TransferEdgeStats). */
export interface OmniTransferStats {
  size_bytes?: number;
  tx_time_ms?: number;
  rx_decode_time_ms?: number;
  in_flight_time_ms?: number;
  used_shm?: boolean;
  /** The edge's total when only that was printed (`[OmniTiming]` gives no parts). */
  total_time_ms?: number;
}

/** One finished request, as the recorder and the log reader build it. */
export interface OmniRequestRecord {
  requestId: string;
  /** Stages by id, in pipeline order. */
  stages: Map<number, OmniStageStats>;
  /** Transfers by edge name `"{from}->{to}"`. */
  transfers: Map<string, OmniTransferStats>;
  /** Input preprocessing before stage 0, ms. */
  preprocess_ms?: number;
  /** E2E latency as measured (or as the engine printed it), ms. */
  e2e_total_ms?: number;
  /** Totals as the engine printed them, checked against the parts. */
  reported?: { e2e_total_tokens?: number; transfers_total_time_ms?: number; transfers_total_bytes?: number };
  /** Epoch ms. */
  start_time?: number;
  end_time?: number;
}

/** The per-request E2E figures (RequestE2EStats). */
export interface OmniE2E {
  e2e_total_ms: number;
  /** Unknown (undefined) when a stage's token counts were not given: never counted as 0. */
  e2e_total_tokens: number | undefined;
  transfers_total_time_ms: number;
  /** Unknown when a transfer's size was not given. */
  transfers_total_bytes: number | undefined;
}

/** Edge name, e.g. `0->1`. */
export function edgeName(from: number, to: number): string {
  return `${from}->${to}`;
}

/** tx + rx_decode + in_flight (TransferEdgeStats.total_time_ms). */
export function transferTotalMs(t: OmniTransferStats): number {
  if (t.tx_time_ms === undefined && t.rx_decode_time_ms === undefined && t.in_flight_time_ms === undefined) return t.total_time_ms ?? 0;
  return (t.tx_time_ms ?? 0) + (t.rx_decode_time_ms ?? 0) + (t.in_flight_time_ms ?? 0);
}

/**
 * Stage 0's input tokens plus every stage's output tokens ("stage0 input + all stage outputs",
 * the reference's E2E and Overall tables; its closing line says "other stage's", which we read as
 * the same sum).
 */
export function expectedTotalTokens(r: OmniRequestRecord): number | undefined {
  let firstId = Infinity;
  for (const id of r.stages.keys()) firstId = Math.min(firstId, id);
  const first = r.stages.get(firstId);
  // Unknown when no stage states a count (an [OmniTiming] line has none); a stage that states
  // none beside others that do (a diffusion stage's output is not tokens) adds nothing.
  let known = first?.num_tokens_in !== undefined;
  let total = first?.num_tokens_in ?? 0;
  for (const s of r.stages.values()) {
    if (s.num_tokens_out === undefined) continue;
    known = true;
    total += s.num_tokens_out;
  }
  return known ? total : undefined;
}

/** The E2E figures of one request, computed from its parts. */
export function computeE2E(r: OmniRequestRecord): OmniE2E {
  let time = 0;
  let bytes: number | undefined = 0;
  for (const t of r.transfers.values()) {
    time += transferTotalMs(t);
    bytes = bytes === undefined || t.size_bytes === undefined ? undefined : bytes + t.size_bytes;
  }
  const e2e = r.e2e_total_ms ?? (r.start_time !== undefined && r.end_time !== undefined ? r.end_time - r.start_time : 0);
  return { e2e_total_ms: e2e, e2e_total_tokens: expectedTotalTokens(r), transfers_total_time_ms: time, transfers_total_bytes: bytes };
}

/** A broken invariant. */
export interface OmniViolation {
  invariant: 'e2e_total_tokens' | 'transfers_total_time_ms';
  expected: number;
  reported: number;
}

/**
 * The reference's two invariants, checked where the engine printed a total:
 * e2e_total_tokens = stage 0 input + stage outputs; transfers_total_time_ms = Σ edges
 * (tx + rx_decode + in_flight). Totals within 1e-6 relative (printed rounding) hold.
 */
export function checkInvariants(r: OmniRequestRecord): OmniViolation[] {
  const out: OmniViolation[] = [];
  const e2e = computeE2E(r);
  const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= Math.max(tol, 1e-6 * Math.abs(b));
  const tokens = r.reported?.e2e_total_tokens;
  if (tokens !== undefined && e2e.e2e_total_tokens !== undefined && tokens !== e2e.e2e_total_tokens) out.push({ invariant: 'e2e_total_tokens', expected: e2e.e2e_total_tokens, reported: tokens });
  const time = r.reported?.transfers_total_time_ms;
  if (time !== undefined && !near(time, e2e.transfers_total_time_ms, 0.0005)) out.push({ invariant: 'transfers_total_time_ms', expected: e2e.transfers_total_time_ms, reported: time });
  return out;
}

/** The Overall Summary over finished requests. */
export interface OmniSummary {
  e2e_requests: number;
  /**
   * First start to last end, from times the requests really have (recorded live, or the log's
   * own timestamps); null (printed `-`) when none has: never a replay's run time.
   */
  e2e_wall_time_ms: number | null;
  /** Over the requests whose tokens are known; null when none is. */
  e2e_total_tokens: number | null;
  e2e_avg_time_per_request_ms: number | null;
  /** Known tokens over the wall time; unknown counts are left out, never taken as 0. */
  e2e_avg_tokens_per_s: number | null;
  /** Per stage id: wall-clock span from its first start to its last end. */
  stage_wall_time_ms: number[];
}

/** Accumulates finished requests into the summary and the three tables. */
export class OmniSummaryAggregator {
  /** The most recent requests, for the tables (the summary covers all of them). */
  private readonly _requests: { record: OmniRequestRecord; e2e: OmniE2E }[] = [];
  private _wallStart: number | undefined;
  private _lastEnd: number | undefined;
  private readonly _stageSpan = new Map<number, [number, number]>();
  private _n = 0;
  private _tokens: number | null = null;

  /**
   * @param runStart epoch ms the run started; defaults to the first request's start.
   * @param tableRequests how many of the latest requests the tables keep (memory stays bounded;
   *   the summary aggregates every request incrementally). @default 1000
   */
  constructor(runStart?: number, private readonly _tableRequests = 1000) {
    this._wallStart = runStart;
  }

  /** @param timed whether the record's times are real (live, or the log's timestamps), not a replay's clock. */
  add(record: OmniRequestRecord, e2e: OmniE2E = computeE2E(record), timed = record.end_time !== undefined): void {
    this._n++;
    if (e2e.e2e_total_tokens !== undefined) this._tokens = (this._tokens ?? 0) + e2e.e2e_total_tokens;
    this._requests.push({ record, e2e });
    if (this._requests.length > this._tableRequests) this._requests.shift();
    if (!timed) return;
    const end = record.end_time;
    const start = record.start_time ?? (end !== undefined ? end - e2e.e2e_total_ms : undefined);
    if (start !== undefined) this._wallStart = Math.min(this._wallStart ?? start, start);
    if (end !== undefined) this._lastEnd = Math.max(this._lastEnd ?? end, end);
    for (const [id, s] of record.stages) {
      if (s.start_time === undefined || s.end_time === undefined) continue;
      const span = this._stageSpan.get(id);
      this._stageSpan.set(id, span === undefined ? [s.start_time, s.end_time] : [Math.min(span[0], s.start_time), Math.max(span[1], s.end_time)]);
    }
  }

  summary(): OmniSummary {
    const n = this._n;
    const wall = this._wallStart !== undefined && this._lastEnd !== undefined ? this._lastEnd - this._wallStart : null;
    const tokens = this._tokens;
    const ids = [...this._stageSpan.keys()].sort((a, b) => a - b);
    const stageWall: number[] = [];
    for (const id of ids) stageWall[id] = (this._stageSpan.get(id) as [number, number])[1] - (this._stageSpan.get(id) as [number, number])[0];
    return {
      e2e_requests: n,
      e2e_wall_time_ms: wall,
      e2e_total_tokens: tokens,
      e2e_avg_time_per_request_ms: wall !== null && n > 0 ? wall / n : null,
      e2e_avg_tokens_per_s: wall !== null && wall > 0 && tokens !== null ? (tokens * 1000) / wall : null,
      stage_wall_time_ms: Array.from(stageWall, (v) => v ?? 0),
    };
  }

  /** The per-request E2E table. */
  e2eTable(): (OmniE2E & { request_id: string })[] {
    return this._requests.map(({ record, e2e }) => ({ request_id: record.requestId, ...e2e }));
  }

  /** The stage table: one row per stage per request. */
  stageTable(): (OmniStageStats & { request_id: string; stage_id: number })[] {
    return this._requests.flatMap(({ record }) => [...record.stages].map(([stage_id, s]) => ({ request_id: record.requestId, stage_id, ...withoutTimes(s) })));
  }

  /** The transfer table: one row per edge per request. */
  transferTable(): (OmniTransferStats & { request_id: string; edge: string; total_time_ms: number })[] {
    return this._requests.flatMap(({ record }) => [...record.transfers].map(([edge, t]) => ({ request_id: record.requestId, edge, ...t, total_time_ms: transferTotalMs(t) })));
  }

  /** Everything as JSON. */
  toJSON(): { summary: OmniSummary; e2e: unknown[]; stages: unknown[]; transfers: unknown[] } {
    return { summary: this.summary(), e2e: this.e2eTable(), stages: this.stageTable(), transfers: this.transferTable() };
  }
}

function withoutTimes(s: OmniStageStats): OmniStageStats {
  const { start_time: _s, end_time: _e, ...rest } = s;
  return rest;
}

/** Prints rows as an aligned text table (numbers right-aligned, 3 decimals for fractions). */
export function formatTable(title: string, table: readonly object[]): string {
  const rows = table as readonly Record<string, unknown>[];
  if (rows.length === 0) return `${title}\n(none)\n`;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined || v === null ? '-' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x.toFixed(3) : String(x))).join(', ') : String(v));
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  // A loop, not Math.max(...cells): 100k rows spread into arguments overflow the call stack.
  const widths = columns.map((c, i) => {
    let w = c.length;
    for (const row of cells) w = Math.max(w, (row[i] as string).length);
    return w;
  });
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i] as number)).join('  ');
  return `${title}\n${line(columns)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${cells.map(line).join('\n')}\n`;
}

/** The Overall Summary as printed lines. */
export function formatSummary(s: OmniSummary): string {
  return formatTable('Overall Summary', Object.entries(s).map(([field, value]) => ({ field, value })));
}
