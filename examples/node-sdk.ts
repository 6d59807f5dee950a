/**
 * NodeSDK with OTLP/HTTP traces and the Prometheus exporter, three agent programs driving the
 * official `openai` client against the built-in engine simulator.
 *
 *   npm run example
 *
 * Traces go to $OTEL_EXPORTER_OTLP_ENDPOINT (Jaeger, Tempo or a Collector on :4318). When that
 * is not set, the example starts a small OTLP/HTTP receiver of its own and prints the traces it
 * received, so it shows something on a machine with nothing else running. Point it at a real
 * engine with OPENAI_BASE_URL=http://localhost:8000/v1 MODEL=<served model>.
 */
import { createServer } from 'node:http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import OpenAI from 'openai';
import { AgenticInstrumentation, withProgram, type StepRecord } from 'agentic-otel';
import { startSimulator } from 'agentic-otel/simulator';

// 1. Where traces go: the configured endpoint, or a local receiver that prints what it gets.
const received: { name: string; attributes: Record<string, unknown> }[] = [];
let endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
const receiver = endpoint === undefined ? await startOtlpReceiver(received) : undefined;
endpoint ??= receiver!.url;

// 2. The SDK, with our instrumentation registered like any other.
const instrumentation = new AgenticInstrumentation({ providerName: 'vllm' });
// The engine metric producer: engine series (when `backends` are configured) with no stale series.
const prometheus = new PrometheusExporter({ port: Number(process.env['PROMETHEUS_PORT'] ?? 9464), metricProducers: [instrumentation.engineMetricProducer()] });
const sdk = new NodeSDK({
  serviceName: 'agentic-otel-example',
  traceExporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }),
  metricReaders: [prometheus],
  instrumentations: [instrumentation],
});
sdk.start();

// 3. An engine: the simulator, unless a real one is named.
const sim = process.env['OPENAI_BASE_URL'] === undefined ? await startSimulator({ decodeMsPerToken: 5 }) : undefined;
const baseURL = process.env['OPENAI_BASE_URL'] ?? `${sim!.url}/v1`;
const model = process.env['MODEL'] ?? sim!.model;
const client = new OpenAI({ baseURL, apiKey: process.env['OPENAI_API_KEY'] ?? 'not-needed' });

// 4. Three agent programs, each: ask → run the tool the model calls → answer.
const steps: StepRecord[] = [];
instrumentation.onStepEnd((step) => steps.push(step));
const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'run_tests', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }];

async function agent(task: string): Promise<void> {
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a software agent. Call tools when they help.' },
    { role: 'user', content: task },
  ];
  for (let turn = 0; turn < 3; turn++) {
    const stream = await client.chat.completions.create({ model, messages, tools, stream: true, max_tokens: 16 });
    const calls: { id: string; name: string; args: string }[] = [];
    for await (const chunk of stream) {
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { id: '', name: '', args: '' });
        call.id ||= tc.id ?? '';
        call.name ||= tc.function?.name ?? '';
        call.args += tc.function?.arguments ?? '';
      }
    }
    if (calls.length === 0) return;
    messages.push({ role: 'assistant', content: null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.args } })) });
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100)); // the tool runs
    messages.push({ role: 'tool', tool_call_id: calls[0]!.id, content: 'all tests pass' });
  }
}

await Promise.all(['fix-bug', 'write-docs', 'refactor'].map((id) => withProgram(id, () => agent(`Task: ${id}`), { agent: 'example-agent' })));

// 5. What happened, step by step (the same numbers are on the agent.step spans).
console.log('\nprogram       step  tool_call_s  pause_s  prefill_s  decode_s  kv_hit_rate  tokens in/out');
for (const s of steps.sort((a, b) => a.programId.localeCompare(b.programId) || a.stepId - b.stepId)) {
  const p = s.phases;
  console.log(
    `${s.programId.padEnd(13)} ${String(s.stepId).padStart(4)}  ${p.toolCallS.toFixed(4).padStart(11)}  ${p.pauseS.toFixed(4).padStart(7)}  ${p.prefillS.toFixed(4).padStart(9)}  ${p.decodeS.toFixed(4).padStart(8)}  ${(s.kvHitRate?.toFixed(2) ?? '').padStart(11)}  ${s.inputTokens}/${s.outputTokens}`,
  );
}

await sdk.shutdown(); // flushes the traces
await sim?.close();
if (receiver !== undefined) {
  console.log(`\nOTLP receiver got ${received.length} spans:`);
  const counts = new Map<string, number>();
  for (const s of received) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  for (const [name, n] of [...counts].sort()) console.log(`  ${name.padEnd(24)} ${n}`);
  await receiver.close();
} else {
  console.log(`\nTraces sent to ${endpoint}.`);
}

/** A minimal OTLP/HTTP receiver for JSON or protobuf-less exports: it records span names. */
async function startOtlpReceiver(into: typeof received): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { scopeSpans?: { spans?: { name: string; attributes?: { key: string; value: Record<string, unknown> }[] }[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) {
          into.push({ name: span.name, attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]])) });
        }
      } catch {
        // not JSON: still answered, so the exporter does not retry
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
