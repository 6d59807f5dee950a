/**
 * `agentic-otel omni ingest <logfile>`: replays a vLLM-omni `--log-stats` log into traces
 * (OTLP/HTTP, when an endpoint is given) and prints the summary and tables.
 *
 * Exporting needs the OpenTelemetry SDK and the OTLP/HTTP exporter, which this package does not
 * depend on: they are loaded when asked for, and a clear message says what to install.
 */
import { readFile } from 'node:fs/promises';
import { trace, type TracerProvider } from '@opentelemetry/api';
import { readOmniLog } from '../omni/omni-log-reader.js';
import { OmniRecorder } from '../omni/omni-recorder.js';
import { checkInvariants, formatSummary, formatTable } from '../omni/omni-stats.js';
import { metrics } from '@opentelemetry/api';

export interface OmniIngestOptions {
  json: boolean;
  otlpEndpoint: string | undefined;
}

/** Runs the command; resolves with the exit code. */
export async function omniIngest(file: string, options: OmniIngestOptions): Promise<number> {
  const text = await readFile(file, 'utf8');
  const reading = readOmniLog(text);
  let provider: (TracerProvider & { shutdown(): Promise<void> }) | undefined;
  if (options.otlpEndpoint !== undefined) provider = await otlpProvider(options.otlpEndpoint);
  const tracer = (provider ?? trace.getTracerProvider()).getTracer('agentic-otel-omni-ingest');
  const recorder = new OmniRecorder(() => tracer, metrics.getMeter('agentic-otel-omni-ingest'));
  const violations: string[] = [];
  for (const record of reading.records) {
    for (const v of checkInvariants(record)) violations.push(`${record.requestId}: ${v.invariant} reported ${v.reported}, parts sum to ${v.expected}`);
    recorder.recordParsed(record);
  }
  await provider?.shutdown();
  const out = process.stdout;
  if (options.json) {
    out.write(JSON.stringify({ ...recorder.summary.toJSON(), read: { timingLines: reading.timingLines, summaryBlocks: reading.summaryBlocks, skippedLines: reading.skippedLines }, violations }, null, 2) + '\n');
    return 0;
  }
  out.write(`read ${reading.timingLines} [OmniTiming] lines and ${reading.summaryBlocks} summary blocks; skipped ${reading.skippedLines} other lines\n`);
  if (provider !== undefined) out.write(`exported ${reading.records.length} omni.request traces to ${options.otlpEndpoint}\n`);
  out.write('\n' + formatSummary(recorder.summary.summary()));
  out.write('\n' + formatTable('E2E (per request)', recorder.summary.e2eTable()));
  out.write('\n' + formatTable('Stages (per stage and request)', recorder.summary.stageTable()));
  out.write('\n' + formatTable('Transfers (per edge and request)', recorder.summary.transferTable()));
  out.write(violations.length === 0 ? '\ninvariants: all hold\n' : `\ninvariant violations:\n${violations.map((v) => `  ${v}`).join('\n')}\n`);
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
