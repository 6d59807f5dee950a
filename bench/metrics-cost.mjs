// The cost of recording one step's metrics (every TinyLLM series a step feeds, the phase
// histogram and the GenAI histograms, the breaker's outcome): ns per step into a real sdk-metrics
// MeterProvider, beside the same calls into the API's no-op meter, in one run. The step-metrics
// feature builds its labels at the step's start and its outcome labels at the end, as in use.
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Instruments } from '../dist/esm/metrics/instruments.js';
import { StepMetrics } from '../dist/esm/metrics/step-metrics.js';
import { BreakerRegistry } from '../dist/esm/breakers/breaker-registry.js';

class Reader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const STEPS = 200_000;
const record = (i) => ({
  programId: `p${i % 1000}`, agentName: i % 2 ? 'coder' : 'planner', stepId: 2 + (i % 5), requestModel: 'llama-3-8b', model: 'llama-3-8b',
  operation: 'chat', streamed: true, phases: { toolCallS: 1.2, pauseS: 0, prefillS: 0.08, decodeS: 1.9 }, kvHitRate: 0.8,
  inputTokens: 4000, outputTokens: 300, cachedTokens: 3200, totalTokens: 4300, finishReasons: ['stop'],
  arriveTime: 0, startTime: 1000, endTime: 3000, serverAddress: '127.0.0.1', serverPort: 8000,
});
const records = Array.from({ length: 1000 }, (_, i) => record(i));

function run(meter) {
  const metricsFeature = new StepMetrics(new Instruments(meter, 'agentic'), () => 'vllm');
  const breakers = new BreakerRegistry({ threshold: 5, cooldownMs: 30_000, failFast: false });
  const step = (r) => {
    const start = { programId: r.programId, agentName: r.agentName, operation: r.operation, request: { json: undefined, model: r.requestModel, stream: true, streamOptions: undefined, includeUsage: true }, serverAddress: r.serverAddress, serverPort: r.serverPort, backend: 'http://127.0.0.1:8000' };
    metricsFeature.onStepStart(start);
    metricsFeature.onStepEnd(r, start);
    breakers.onStepEnd(r, start);
  };
  for (let i = 0; i < 20_000; i++) step(records[i % 1000]); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) step(records[i % 1000]);
  return ((performance.now() - t0) * 1e6) / STEPS;
}
const sdk = run(new MeterProvider({ readers: [new Reader()] }).getMeter('bench'));
const noop = run(metrics.getMeter('noop'));
console.log(`\nmetrics per step: ${sdk.toFixed(0)} ns into sdk-metrics, ${noop.toFixed(0)} ns into the no-op meter (${STEPS} steps)`);
