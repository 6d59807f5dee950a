/**
 * Omni pipelines with nothing but the package: record vLLM-omni requests (live, stage by stage,
 * and after the fact), see their spans, and print the summary and tables vLLM-omni users know.
 *
 *   npm run build && npx tsx examples/omni.ts
 */
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AgenticInstrumentation } from 'agentic-otel';
import { formatSummary, formatTable } from 'agentic-otel/omni';

diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN); // invariant violations are reported here

// Print each finished span as one line (a real app would export OTLP instead).
const printer: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    for (const s of spans) {
      const ms = s.duration[0] * 1e3 + s.duration[1] / 1e6;
      console.log(`  span ${s.name.padEnd(28)} ${ms.toFixed(1).padStart(8)} ms`);
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
};
const instrumentation = new AgenticInstrumentation({ installGlobalDispatcher: false });
instrumentation.setTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printer)] }));
const omni = instrumentation.omni;

// 1. Live: a thinker → talker → code2wav request, reported as each stage finishes.
const live = omni.startRequest('chatcmpl-live-1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(30);
live.stage(0, { name: 'thinker', num_tokens_in: 812, num_tokens_out: 64, stage_gen_time_ms: 30 });
live.transfer(0, 1, { size_bytes: 48_000, tx_time_ms: 0.4, rx_decode_time_ms: 0.3, in_flight_time_ms: 0.2, used_shm: true });
await sleep(20);
live.stage(1, { name: 'talker', num_tokens_in: 64, num_tokens_out: 300, stage_gen_time_ms: 20 });
live.transfer(1, 2, { size_bytes: 96_000, tx_time_ms: 0.6, rx_decode_time_ms: 0.4, in_flight_time_ms: 0.3 });
await sleep(10);
live.stage(2, { name: 'code2wav', num_tokens_in: 300, num_tokens_out: 4800, stage_gen_time_ms: 10 });
console.log('live request:');
live.end();

// 2. After the fact, as vLLM-omni prints it; this one's printed token total is wrong on purpose.
console.log('recorded request (its token total breaks an invariant):');
omni.record({
  requestId: 'chatcmpl-a0edd05',
  e2e_total_ms: 41_356,
  preprocess_ms: 57,
  stages: { 0: { name: 'ar', num_tokens_in: 4860, num_tokens_out: 67, stage_gen_time_ms: 9910 }, 1: { name: 'diffusion', num_tokens_out: 4096, stage_gen_time_ms: 30_379 } },
  transfers: { '0->1': { size_bytes: 2_000_000, tx_time_ms: 53.3, rx_decode_time_ms: 150, in_flight_time_ms: 42.6 } },
  e2e_total_tokens: 9000,
});

// 3. The tables.
const summary = omni.summary;
console.log('\n' + formatSummary(summary.summary()));
console.log(formatTable('E2E (per request)', summary.e2eTable()));
console.log(formatTable('Transfers (per edge and request)', summary.transferTable()));
