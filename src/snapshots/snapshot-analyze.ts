/**
 * `agentic-otel snapshots analyze`: pairs before / after captures by request id and prints, per
 * request and as a summary, what the reference's parser prints (prefill, decode, TTFT; totals and
 * averages), plus queue, e2e and tokens where the engine has them. A pair whose counters went
 * down (an engine restart between the captures) is flagged and left out of the summary; a pair
 * that spans more than one finished request says so (its values cover them all). Pure: file
 * names and texts in, a report out.
 */
import { parseCaptureFileName } from './snapshot-files.js';
import { snapshotDelta, snapshotTotals, type SnapshotDelta } from './snapshot-delta.js';

/** One analysed request. */
export interface AnalyzedRequest {
  requestId: string;
  before: string;
  after: string;
  prefillS?: number;
  decodeS?: number;
  ttftS?: number;
  queueS?: number;
  e2eS?: number;
  promptTokens?: number;
  generationTokens?: number;
  /** Requests the engine finished between the captures (1 for one request's own numbers). */
  requests?: number;
  /** Quantities that went down between the captures: the pair is not summed. */
  resets: string[];
}

export interface SnapshotReport {
  requests: AnalyzedRequest[];
  /** Pairs left out: an id with only a before or only an after. */
  unpaired: string[];
  summary: { analyzed: number; totalPrefillS: number; totalDecodeS: number; totalTtftS: number; avgPrefillS: number; avgDecodeS: number; avgTtftS: number };
}

/** Files by name (their text read lazily), paired and analysed. */
export function analyzeSnapshots(files: readonly string[], read: (name: string) => string): SnapshotReport {
  const byId = new Map<string, { before?: string; after?: string }>();
  for (const name of [...files].sort()) {
    const p = parseCaptureFileName(name);
    if (p === undefined) continue;
    const pair = byId.get(p.requestId) ?? {};
    // The earliest before and the latest after of an id (names sort by time within an id).
    if (p.stage === 'before') pair.before ??= name;
    else pair.after = name;
    byId.set(p.requestId, pair);
  }
  const requests: AnalyzedRequest[] = [];
  const unpaired: string[] = [];
  for (const [requestId, pair] of byId) {
    if (pair.before === undefined || pair.after === undefined) {
      unpaired.push(requestId);
      continue;
    }
    requests.push(analyzed(requestId, pair.before, pair.after, snapshotDelta(snapshotTotals(read(pair.before)), snapshotTotals(read(pair.after)))));
  }
  const counted = requests.filter((r) => r.resets.length === 0);
  const sum = (pick: (r: AnalyzedRequest) => number | undefined) => counted.reduce((s, r) => s + (pick(r) ?? 0), 0);
  const n = counted.length;
  const totalPrefillS = sum((r) => r.prefillS);
  const totalDecodeS = sum((r) => r.decodeS);
  const totalTtftS = sum((r) => r.ttftS);
  return {
    requests,
    unpaired,
    summary: { analyzed: n, totalPrefillS, totalDecodeS, totalTtftS, avgPrefillS: n === 0 ? 0 : totalPrefillS / n, avgDecodeS: n === 0 ? 0 : totalDecodeS / n, avgTtftS: n === 0 ? 0 : totalTtftS / n },
  };
}

function analyzed(requestId: string, before: string, after: string, d: SnapshotDelta): AnalyzedRequest {
  const r: AnalyzedRequest = { requestId, before, after, resets: d.resets };
  const s = d.seconds;
  if (s.prefill !== undefined) r.prefillS = s.prefill;
  if (s.decode !== undefined) r.decodeS = s.decode;
  if (s.ttft !== undefined) r.ttftS = s.ttft;
  if (s.queue !== undefined) r.queueS = s.queue;
  if (s.e2e !== undefined) r.e2eS = s.e2e;
  if (d.promptTokens !== undefined) r.promptTokens = d.promptTokens;
  if (d.generationTokens !== undefined) r.generationTokens = d.generationTokens;
  if (d.requests !== undefined) r.requests = d.requests;
  return r;
}

const RULE = '='.repeat(70);
const sec = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(3)}s`);

/** The report as the reference prints it. */
export function formatSnapshotReport(dir: string, report: SnapshotReport): string {
  const out = [`Analyzing metrics snapshots from: ${dir}`, '', `Found ${report.requests.length} request(s) with snapshots`];
  for (const r of report.requests) {
    out.push('', RULE, `Request: ${r.requestId}`, RULE, `Snapshot (before): ${dir}/${r.before}`, `Snapshot (after):  ${dir}/${r.after}`, '');
    if (r.resets.length > 0) {
      out.push(`⚠ counter reset between the captures (${r.resets.join(', ')}): engine restarted? Not summed.`);
      continue;
    }
    out.push('📊 CALCULATED METRICS:', `  Prefill Time: ${sec(r.prefillS)}`, `  Decode Time: ${sec(r.decodeS)}`, `  Time to First Token (TTFT): ${sec(r.ttftS)}`);
    if (r.queueS !== undefined) out.push(`  Queue Time: ${sec(r.queueS)}`);
    if (r.e2eS !== undefined) out.push(`  E2E Latency: ${sec(r.e2eS)}`);
    if (r.promptTokens !== undefined || r.generationTokens !== undefined) out.push(`  Tokens: ${r.promptTokens ?? 'n/a'} prompt, ${r.generationTokens ?? 'n/a'} generated`);
    if (r.requests !== undefined && r.requests !== 1) out.push(`  (the engine finished ${r.requests} requests between these captures: the values cover them all)`);
  }
  if (report.unpaired.length > 0) out.push('', `Unpaired (only a before or only an after): ${report.unpaired.join(', ')}`);
  const s = report.summary;
  out.push('', RULE, `SUMMARY - ${s.analyzed} request(s) analyzed`, RULE);
  out.push(`Total Prefill Time: ${sec(s.totalPrefillS)}`, `Total Decode Time: ${sec(s.totalDecodeS)}`, `Total TTFT: ${sec(s.totalTtftS)}`, '');
  out.push(`Average Prefill Time: ${sec(s.avgPrefillS)}`, `Average Decode Time: ${sec(s.avgDecodeS)}`, `Average TTFT: ${sec(s.avgTtftS)}`);
  return out.join('\n') + '\n';
}

/** `7d`, `12h`, `30m`, `45s`, `500ms` → ms; undefined when it is none of those. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (m === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
