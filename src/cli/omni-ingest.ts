/**
 * `agentic-otel omni ingest <logfile>`: replays a vLLM-omni `--log-stats` log into traces
 * (OTLP/HTTP, when an endpoint is given) and prints the summary and tables, or NDJSON.
 *
 * Exporting needs the OpenTelemetry SDK and the OTLP/HTTP exporter, which this package does not
 * depend on: they are loaded when asked for, and a clear message says what to install.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { trace, type TracerProvider } from '@opentelemetry/api';
import { OmniLogLineReader } from '../omni/omni-log-reader.js';
import { OmniRecorder } from '../omni/omni-recorder.js';
import { checkInvariants, computeE2E, formatSummary, formatTable } from '../omni/omni-stats.js';
import { metrics } from '@opentelemetry/api';

export interface OmniIngestOptions {
  json: boolean;
  otlpEndpoint: string | undefined;
}

/** Violations listed in full, at most; beyond, they are counted. */
const MAX_LISTED_VIOLATIONS = 100;

/**
 * Runs the command; resolves with the exit code. The log is read line by line and each request
 * handled as it is complete, so memory stays bounded whatever the log's size: the summary is
 * aggregated incrementally, the tables keep the latest requests, and `--json` writes NDJSON as it
 * reads (one `request` line per request, then one `summary` line).
 */
export async function omniIngest(file: string, options: OmniIngestOptions): Promise<number> {
  let provider: (TracerProvider & { shutdown(): Promise<void> }) | undefined;
  if (options.otlpEndpoint !== undefined) provider = await otlpProvider(options.otlpEndpoint);
  const tracer = (provider ?? trace.getTracerProvider()).getTracer('agentic-otel-omni-ingest');
  const recorder = new OmniRecorder(() => tracer, metrics.getMeter('agentic-otel-omni-ingest'));
  const out = process.stdout;
  const violations: string[] = [];
  let violationCount = 0;
  let records = 0;
  const reader = new OmniLogLineReader((record) => {
    records++;
    const found = checkInvariants(record).map((v) => `${record.requestId}: ${v.invariant} reported ${v.reported}, parts sum to ${v.expected}`);
    violationCount += found.length;
    for (const v of found) if (violations.length < MAX_LISTED_VIOLATIONS) violations.push(v);
    recorder.recordParsed(record);
    if (options.json) out.write(JSON.stringify({ type: 'request', request_id: record.requestId, ...computeE2E(record), violations: found }) + '\n');
  });
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) reader.line(line);
  reader.end();
  await provider?.shutdown();
  const read = { ...reader.counts };
  if (options.json) {
    out.write(JSON.stringify({ type: 'summary', summary: recorder.summary.summary(), read, violations, violation_count: violationCount }) + '\n');
    return 0;
  }
  out.write(`read ${read.timingLines} [OmniTiming] lines and ${read.summaryBlocks} summary blocks; skipped ${read.skippedLines} other lines\n`);
  if (provider !== undefined) out.write(`exported ${records} omni.request traces to ${options.otlpEndpoint}\n`);
  out.write('\n' + formatSummary(recorder.summary.summary()));
  out.write('\n' + formatTable('E2E (per request, the latest)', recorder.summary.e2eTable()));
  out.write('\n' + formatTable('Stages (per stage and request, the latest)', recorder.summary.stageTable()));
  out.write('\n' + formatTable('Transfers (per edge and request, the latest)', recorder.summary.transferTable()));
  if (violationCount === 0) out.write('\ninvariants: all hold\n');
  else out.write(`\ninvariant violations (${violationCount}${violationCount > violations.length ? `, the first ${violations.length}` : ''}):\n${violations.map((v) => `  ${v}`).join('\n')}\n`);
  return 0;
}

async function otlpProvider(endpoint: string): Promise<TracerProvider & { shutdown(): Promise<void> }> {
  let base: typeof import('@opentelemetry/sdk-trace-base');
  let otlp: typeof import('@opentelemetry/exporter-trace-otlp-http');
  try {
    base = await import('@opentelemetry/sdk-trace-base');
    otlp = await import('@opentelemetry/exporter-trace-otlp-http');
  } catch {
    throw new Error('exporting traces needs @opentelemetry/sdk-trace-base and @opentelemetry/exporter-trace-otlp-http: npm install them beside agentic-otel');
  }
  const url = endpoint.endsWith('/v1/traces') ? endpoint : `${endpoint.replace(/\/$/, '')}/v1/traces`;
  return new base.BasicTracerProvider({ spanProcessors: [new base.SimpleSpanProcessor(new otlp.OTLPTraceExporter({ url }))] });
}
