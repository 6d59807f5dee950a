/**
 * `npm run demo`: a realistic agent workload through NodeSDK with agentic-otel, against the
 * built-in engine simulator (or a real engine with --backend), and a summary of what it shows.
 *
 *   npm run demo -- [--programs 24] [--steps 4] [--duration 60] [--seed 7] [--metrics-port 9464]
 *                   [--backend http://localhost:8000 --model NAME] [--summary-json FILE]
 *
 * Tens of programs run at once (a burst: requests queue at the engine), each a loop of LLM call →
 * tool call; two shared system prompts make the prefix cache hit; a few requests fail; a few omni
 * requests are recorded. Prometheus is served on --metrics-port, step_profiles.csv is written,
 * and traces go over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import OpenAI from 'openai';
import { AgenticInstrumentation, withProgram, type StepRecord } from 'agentic-otel';
import { startSimulator } from 'agentic-otel/simulator';

const { values: args } = parseArgs({
  options: {
    programs: { type: 'string', default: '24' },
    steps: { type: 'string', default: '4' },
    duration: { type: 'string', default: '90' },
    seed: { type: 'string', default: '7' },
    'metrics-port': { type: 'string', default: '9464' },
    'metrics-host': { type: 'string', default: '127.0.0.1' },
    backend: { type: 'string' },
    model: { type: 'string' },
    'summary-json': { type: 'string' },
    linger: { type: 'string', default: '0' },
  },
});
const PROGRAMS = Number(args.programs);
const STEPS = Number(args.steps);
const DEADLINE = Date.now() + Number(args.duration) * 1000;
const METRICS_PORT = Number(args['metrics-port']);

// A seeded generator, so that --seed fixes the workload (tool times, failures, prompts).
let state = Number(args.seed) >>> 0 || 1;
const random = (): number => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};

// 1. The metrics port, with a clear error when it is taken.
if (METRICS_PORT !== 0) {
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false)).once('listening', () => probe.close(() => resolve(true)));
    probe.listen(METRICS_PORT, args['metrics-host']);
  });
  if (!free) {
    process.stderr.write(`demo: port ${METRICS_PORT} is taken; choose another with --metrics-port (0: any free port)\n`);
    process.exit(2);
  }
}

// 2. An engine: the simulator (8 running at once, so the burst queues), unless one is named.
const sim = args.backend === undefined ? await startSimulator({ maxRunning: 8, decodeMsPerToken: 3 }) : undefined;
const engineUrl = args.backend ?? sim!.url;
const model = args.model ?? sim?.model ?? 'default';

// 3. The SDK, with our instrumentation registered like any other.
const profileDir = mkdtempSync(join(tmpdir(), 'agentic-otel-demo-'));
const instrumentation = new AgenticInstrumentation({ profile: { dir: profileDir, extended: true }, backends: [{ url: engineUrl, name: 'engine' }], pollIntervalMs: 500 });
const prometheus = new PrometheusExporter({ port: METRICS_PORT, host: args['metrics-host'], metricProducers: [instrumentation.engineMetricProducer()] });
const otlp = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
const sdk = new NodeSDK({
  serviceName: 'agentic-otel-demo',
  ...(otlp !== undefined ? { traceExporter: new OTLPTraceExporter() } : { spanProcessors: [] }),
  metricReaders: [prometheus],
  instrumentations: [instrumentation],
});
sdk.start();

// 4. The workload.
const client = new OpenAI({ baseURL: `${engineUrl}/v1`, apiKey: 'not-needed', maxRetries: 0 });
const steps: StepRecord[] = [];
instrumentation.onStepEnd((s) => steps.push(s));
const SYSTEM = ['You are a coding agent working in a large repository. '.repeat(12), 'You are a research agent reading papers. '.repeat(12)];
let failuresInjected = 0;

async function program(id: number): Promise<void> {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: SYSTEM[id % 2] as string }, { role: 'user', content: `Task ${id}` }];
  for (let step = 0; step < STEPS && Date.now() < DEADLINE; step++) {
    if (sim !== undefined && random() < 0.04) {
      sim.injectFault('http_500', 1);
      failuresInjected++;
    }
    try {
      const stream = await client.chat.completions.create({ model, messages, stream: true, max_tokens: 8 + Math.floor(random() * 24) });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      messages.push({ role: 'assistant', content: text });
    } catch {
      // a failed step: the agent retries its next step after the tool
    }
    // The tool runs: a node of the agent's graph, timed with TinyLLM's collector API.
    await instrumentation.metrics.trackNodeExecution({ node: step % 2 === 0 ? 'search' : 'edit', graph: id % 2 === 0 ? 'coder' : 'researcher' }, () => new Promise((r) => setTimeout(r, 20 + random() * 150)));
    messages.push({ role: 'user', content: `tool result ${step}` });
  }
}

const started = Date.now();
const tty = process.stdout.isTTY === true;
const progress = setInterval(() => {
  const line = `demo: ${steps.length} steps finished, ${instrumentation.inFlight()} in flight, ${((Date.now() - started) / 1000).toFixed(0)} s`;
  process.stdout.write(tty ? `\r${line}` : `${line}\n`);
}, 1000);
await Promise.all(Array.from({ length: PROGRAMS }, (_, i) => withProgram(`program-${String(i).padStart(2, '0')}`, () => program(i), { agent: i % 2 === 0 ? 'coder' : 'researcher' })));
clearInterval(progress);
if (tty) process.stdout.write('\n');
instrumentation.settle(); // a step whose request failed last waits for a retry that will not come

// A few vLLM-omni requests, recorded after the fact.
for (let i = 0; i < 5; i++) {
  instrumentation.omni.record({ requestId: `omni-${i}`, stages: new Map([[0, { name: 'thinker', num_tokens_in: 800, num_tokens_out: 60, stage_gen_time_ms: 30 + i }], [1, { name: 'talker', num_tokens_out: 300, stage_gen_time_ms: 20 }]]), transfers: new Map([['0->1', { size_bytes: 48_000, tx_time_ms: 0.4, rx_decode_time_ms: 0.3, in_flight_time_ms: 0.2 }]]) });
}

// 5. The summary.
await instrumentation.backends.pollNow();
await instrumentation.profiles.flush();
const profiles = instrumentation.profiles.all();
const failed = steps.filter((s) => s.errorType !== undefined).length;
const out: string[] = [];
out.push(`\nagentic-otel demo: ${PROGRAMS} programs, ${steps.length} steps (${failed} failed) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
out.push('\nprogram      steps  tool_call_s  prefill_s  decode_s  kv_hit_rate   (averages per step)');
for (const [id, p] of Object.entries(profiles).sort()) {
  out.push(`${id.padEnd(12)} ${String(p.step_count).padStart(5)}  ${p.avg_tool_call_s.toFixed(4).padStart(11)}  ${p.avg_prefill_s.toFixed(4).padStart(9)}  ${p.avg_decode_s.toFixed(4).padStart(8)}  ${(p.avg_kv_hit_rate === null ? '-' : p.avg_kv_hit_rate.toFixed(2)).padStart(11)}`);
}
const engine = Object.values((instrumentation.backends.snapshot() as { backends: Record<string, { metrics: Record<string, number | null> | null }> }).backends)[0]?.metrics;
if (engine) out.push(`\nengine: ${engine['num_requests_running']} running, ${engine['num_requests_waiting']} waiting, KV cache ${((engine['kv_cache_usage_perc'] ?? 0) * 100).toFixed(1)} %, prefix cache hit rate ${engine['prefix_cache_hit_rate'] === null ? '-' : ((engine['prefix_cache_hit_rate'] as number) * 100).toFixed(1)} %, ${engine['requests_completed']} requests completed`);
const omni = instrumentation.omni.summary.summary();
out.push(`omni: ${omni.e2e_requests} requests recorded (omni.request traces, omni.* histograms)`);
out.push(`\nfiles: ${instrumentation.profiles.csvPath}`);
out.push(METRICS_PORT === 0 ? 'metrics: served on a free port (--metrics-port 0); name one to scrape it' : `metrics: http://127.0.0.1:${METRICS_PORT}/metrics (Prometheus format; try agentic_step_phase_seconds_bucket, agentic_backend_up)`);
out.push(otlp !== undefined ? `traces: sent to ${otlp}` : 'traces: set OTEL_EXPORTER_OTLP_ENDPOINT (a Collector, Jaeger or Tempo on :4318) to send them');
out.push('next: README.md (wiring into your stack), docs/reference.md (every name we emit)');
process.stdout.write(out.join('\n') + '\n');

if (args['summary-json'] !== undefined) {
  writeFileSync(args['summary-json'], JSON.stringify({
    steps: steps.length,
    failed,
    failuresInjected,
    csv: instrumentation.profiles.csvPath,
    profiles,
    engineRequests: sim?.requests().length,
    engineFaults: sim?.requests().filter((r) => r.fault !== undefined).length,
  }));
}

// --linger N: keep serving metrics N seconds after the summary (for a scraper to catch up).
if (Number(args.linger) > 0) await new Promise((r) => setTimeout(r, Number(args.linger) * 1000));
await sdk.shutdown();
await sim?.close();
