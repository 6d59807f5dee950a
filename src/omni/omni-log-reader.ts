/**
 * Reads vLLM-omni `--log-stats` output: `[OmniTiming]` lines and "Omni Metrics Summary" blocks
 * become {@link OmniRequestRecord}s, the same records the recorder API builds. Lines it does not
 * understand are counted and skipped. Pure: text in, records out.
 *
 * Format: shared/fixtures/omni (the documented example); field names: shared/reference/engines.md.
 */
import { edgeName, type OmniRequestRecord, type OmniStageStats } from './omni-stats.js';

/** What a log gave. */
export interface OmniLogReading {
  records: OmniRequestRecord[];
  /** `[OmniTiming]` lines read. */
  timingLines: number;
  /** Summary blocks read. */
  summaryBlocks: number;
  /** Lines that were neither (other log output, decoration), counted and skipped. */
  skippedLines: number;
}

const TIMING = '[OmniTiming]';
const SUMMARY_START = /=+\s*Omni Metrics Summary\s*=+/;
/** vLLM's log line prefix: `INFO 12-01 10:00:00` (month-day, local time to the second, no year). */
const LINE_TIME = /(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})/;

/** Reads a whole log. */
export function readOmniLog(text: string): OmniLogReading {
  const reading: OmniLogReading = { records: [], timingLines: 0, summaryBlocks: 0, skippedLines: 0 };
  const reader = new OmniLogLineReader((record) => reading.records.push(record));
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop(); // a final newline ends the last line; it starts none
  for (const line of lines) reader.line(line);
  reader.end();
  return Object.assign(reading, reader.counts);
}

/**
 * The same reading, line by line, in bounded memory (a 200 MB log need not be held): each
 * record goes to `onRecord` as soon as it is complete; only an open summary block is buffered.
 */
export class OmniLogLineReader {
  readonly counts = { timingLines: 0, summaryBlocks: 0, skippedLines: 0 };
  private _block: string[] | undefined;

  /**
   * @param year the log's year: vLLM's line prefix (`INFO 12-01 10:00:00`) has month, day and
   *   time to the second, and no year. @default the current year
   */
  constructor(private readonly _onRecord: (record: OmniRequestRecord) => void, private readonly _year = new Date().getFullYear()) {}

  line(line: string): void {
    if (this._block !== undefined) {
      const l = line.trim();
      if (!(l.startsWith('```') || SUMMARY_START.test(l) || l.includes(TIMING))) {
        this._block.push(line);
        return;
      }
      this._closeBlock();
      if (l.startsWith('```')) {
        this.counts.skippedLines++;
        return;
      }
    }
    const at = line.indexOf(TIMING);
    if (at !== -1) {
      const record = parseTimingLine(line.slice(at + TIMING.length));
      if (record !== undefined) {
        this.counts.timingLines++;
        // The line is printed when the request ends: its prefix's time is the request's end
        // (local time, one-second resolution). Without one, the record has no time of its own.
        const stamp = LINE_TIME.exec(line.slice(0, at));
        if (stamp !== null) {
          const [, mo, d, h, mi, s] = stamp.map(Number) as [number, number, number, number, number, number];
          record.end_time = new Date(this._year, mo - 1, d, h, mi, s).getTime();
        }
        this._onRecord(record);
      } else this.counts.skippedLines++;
      return;
    }
    if (SUMMARY_START.test(line)) {
      this._block = [];
      return;
    }
    this.counts.skippedLines++;
  }

  /** The input ended: a summary block still open is complete. */
  end(): void {
    if (this._block !== undefined) this._closeBlock();
  }

  private _closeBlock(): void {
    const block = this._block as string[];
    this._block = undefined;
    this.counts.summaryBlocks++;
    this._onRecord(parseSummaryBlock(block, this.counts.summaryBlocks));
  }
}

/** `req=… total=32.99s preprocess=2.80s engine=30.19s stages=[0:ar=16.23s,…] transfers=[0->1=0.780ms]` */
export function parseTimingLine(rest: string): OmniRequestRecord | undefined {
  const fields = new Map<string, string>();
  for (const m of rest.matchAll(/(\w+)=(\[[^\]]*\]|\S+)/g)) fields.set(m[1] as string, m[2] as string);
  const requestId = fields.get('req');
  if (requestId === undefined) return undefined;
  const record: OmniRequestRecord = { requestId, stages: new Map(), transfers: new Map() };
  const total = duration(fields.get('total'));
  if (total !== undefined) record.e2e_total_ms = total;
  const pre = duration(fields.get('preprocess'));
  if (pre !== undefined) record.preprocess_ms = pre;
  for (const item of list(fields.get('stages'))) {
    const m = /^(\d+)(?::([^=]+))?=(.+)$/.exec(item);
    if (m === null) continue;
    const stage: OmniStageStats = {};
    if (m[2] !== undefined) stage.name = m[2];
    const gen = duration(m[3]);
    if (gen !== undefined) stage.stage_gen_time_ms = gen;
    record.stages.set(Number(m[1]), stage);
  }
  for (const item of list(fields.get('transfers'))) {
    const m = /^(\d+)->(\d+)=(.+)$/.exec(item);
    if (m === null) continue;
    const ms = duration(m[3]);
    record.transfers.set(edgeName(Number(m[1]), Number(m[2])), ms === undefined ? {} : { total_time_ms: ms });
  }
  return record;
}

/** The lines of one summary block: up to a closing fence, the next block or timing line, or the end. */
function parseSummaryBlock(lines: string[], index: number): OmniRequestRecord {
  const record: OmniRequestRecord = { requestId: `summary-${index}`, stages: new Map(), transfers: new Map() };
  const stage = (id: number): OmniStageStats => {
    let s = record.stages.get(id);
    if (s === undefined) record.stages.set(id, (s = {}));
    return s;
  };
  let section: { kind: 'stage'; id: number } | { kind: 'other' } = { kind: 'other' };
  for (const raw of lines) {
    const line = raw.trim();
    const head = /^-+\s*(.*?)\s*-+$/.exec(line);
    if (head !== null) {
      const m = /^Stage (\d+) Breakdown$/.exec(head[1] as string);
      section = m !== null ? { kind: 'stage', id: Number(m[1]) } : { kind: 'other' };
      continue;
    }
    const kv = /^(.+?):\s+(.+)$/.exec(line);
    if (kv === null) continue;
    const key = kv[1] as string;
    const value = kv[2] as string;
    const num = Number(value.replace(/,/g, ''));
    let m: RegExpExecArray | null;
    if (key === 'Total E2E time (ms)') record.e2e_total_ms = num;
    else if (key === 'Input preprocess time (ms)') record.preprocess_ms = num;
    else if ((m = /^Stage (\d+) generation time \(ms\)$/.exec(key)) !== null) stage(Number(m[1])).stage_gen_time_ms = num;
    else if ((m = /^Stage (\d+) -> Stage (\d+) handoff time \(ms\)$/.exec(key)) !== null) record.transfers.set(edgeName(Number(m[1]), Number(m[2])), { total_time_ms: num });
    else if (section.kind === 'stage') {
      const s = stage(section.id);
      if (key === 'Stage name') s.name = value;
      else if (key === 'Batch id') s.batch_id = num;
      else if (key === 'Batch size') s.batch_size = num;
      else if (key === 'Input tokens') s.num_tokens_in = num;
      else if (key === 'Output tokens') s.num_tokens_out = num;
      else if (key === 'Postprocess time (ms)') s.postprocess_time_ms = num;
    }
  }
  return record;
}

function list(v: string | undefined): string[] {
  if (v === undefined) return [];
  return v.replace(/^\[|\]$/g, '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** `16.23s`, `0.780ms`, `41,356.133` (ms) → milliseconds. */
function duration(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^([\d.,]+)(ms|s)?$/.exec(v.trim());
  if (m === null) return undefined;
  const n = Number((m[1] as string).replace(/,/g, ''));
  if (!Number.isFinite(n)) return undefined;
  return m[2] === 's' ? n * 1000 : n;
}
