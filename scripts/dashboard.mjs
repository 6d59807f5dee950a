// Writes examples/grafana/agentic-otel.json, the Grafana dashboard, from the panel list below:
// TinyLLM's eight recommended panels, then agentic-otel's own. Every query is written for the
// names we emit under the default prefix (`agentic`), with the dashboard's variables ($backend,
// $model) and $__rate_interval. A test runs every query against real Prometheus after the demo;
// `--check` exits 1 when the committed JSON differs from what this script writes.
import { readFileSync, writeFileSync } from 'node:fs';

const r = (metric, sel = '') => `rate(${metric}${sel}[$__rate_interval])`;
const M = '{model=~"$model"}';
const B = '{backend_name=~"$backend"}';
const q95 = (metric, by, sel = '') => `histogram_quantile(0.95, sum by (le${by ? `, ${by}` : ''}) (${r(metric, sel)}))`;
const panels = [
  // TinyLLM's recommended panels (shared/reference/tinyllm-metrics.md), on our names.
  ['Request rate', 'timeseries', [`sum by (model) (${r('agentic_requests_total', M)})`]],
  ['Latency p50 / p95 / p99', 'timeseries', [0.5, 0.95, 0.99].map((p) => `histogram_quantile(${p}, sum by (le) (${r('agentic_request_latency_seconds_bucket', M)}))`)],
  ['Error rate (%)', 'gauge', [`100 * sum(${r('agentic_errors_total', M)}) / sum(${r('agentic_requests_total', M)})`]],
  ['Token throughput (tokens/s)', 'timeseries', [`sum(${r('agentic_tokens_input_total', M)}) + sum(${r('agentic_tokens_output_total', M)})`]],
  ['Circuit breakers (0 closed, 1 half-open, 2 open)', 'state-timeline', ['agentic_circuit_breaker_state']],
  ['Active requests', 'gauge', [`sum(agentic_active_requests${M})`]],
  ['Cache hit rate (prompt tokens)', 'gauge', [`sum(${r('agentic_cache_hits_total')}) / (sum(${r('agentic_cache_hits_total')}) + sum(${r('agentic_cache_misses_total')}))`]],
  ['Node performance (p95 s)', 'table', [q95('agentic_node_execution_duration_seconds_bucket', 'node')]],
  // Agent phases.
  ['Agent phases over time (s/s)', 'timeseries', [`sum by (phase) (${r('agentic_step_phase_seconds_sum')})`]],
  ['Phase per step, p50', 'timeseries', [`histogram_quantile(0.5, sum by (le, phase) (${r('agentic_step_phase_seconds_bucket')}))`]],
  ['Phase per step, p95', 'timeseries', [q95('agentic_step_phase_seconds_bucket', 'phase')]],
  ['Tool vs LLM share of program time', 'piechart', [`sum(${r('agentic_step_phase_seconds_sum', '{phase="tool_call"}')}) / sum(${r('agentic_step_phase_seconds_sum')})`, `sum(${r('agentic_step_phase_seconds_sum', '{phase=~"prefill|decode"}')}) / sum(${r('agentic_step_phase_seconds_sum')})`]],
  // KV cache, per step (the request path) and per backend (the engines).
  ['KV hit rate per step (token-weighted)', 'timeseries', [`sum(${r('agentic_cache_hits_total', '{cache_type="kv_prefix"}')}) / (sum(${r('agentic_cache_hits_total', '{cache_type="kv_prefix"}')}) + sum(${r('agentic_cache_misses_total', '{cache_type="kv_prefix"}')}))`]],
  ['Prefix cache hit rate per backend', 'timeseries', [`agentic_backend_prefix_cache_hit_rate${B}`]],
  // Engines.
  ['Engine KV cache usage', 'timeseries', [`agentic_backend_kv_cache_usage${B}`]],
  ['Engine running / waiting', 'timeseries', [`agentic_backend_requests_running${B}`, `agentic_backend_requests_waiting${B}`]],
  ['Engine preemptions (/s)', 'timeseries', [`${r('agentic_backend_preemptions_total', B)}`]],
  ['Backend up', 'state-timeline', [`agentic_backend_up${B}`]],
  ['Backend model and kind', 'table', [`agentic_backend_info${B}`]],
  // vLLM-omni.
  ['Omni stage generation time, p95 (s)', 'timeseries', [q95('omni_stage_generation_duration_bucket', 'omni_stage')]],
  ['Omni transfer time, p95 (s)', 'timeseries', [q95('omni_transfer_duration_bucket', 'omni_edge')]],
];

const dashboard = {
  title: 'agentic-otel',
  uid: 'agentic-otel',
  schemaVersion: 39,
  time: { from: 'now-1h', to: 'now' },
  refresh: '30s',
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', current: {} },
      { name: 'backend', type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, query: 'label_values(agentic_backend_up, backend_name)', includeAll: true, multi: true, allValue: '.*', current: { text: 'All', value: '$__all' } },
      { name: 'model', type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, query: 'label_values(agentic_requests_total, model)', includeAll: true, multi: true, allValue: '.*', current: { text: 'All', value: '$__all' } },
    ],
  },
  panels: panels.map(([title, type, exprs], i) => ({
    id: i + 1,
    title,
    type,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { h: 8, w: 8, x: (i % 3) * 8, y: Math.floor(i / 3) * 8 },
    targets: exprs.map((expr, k) => ({ refId: String.fromCharCode(65 + k), expr, datasource: { type: 'prometheus', uid: '${datasource}' } })),
  })),
};
const target = new URL('../examples/grafana/agentic-otel.json', import.meta.url);
const json = JSON.stringify(dashboard, null, 2) + '\n';
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== json) {
    process.stderr.write('examples/grafana/agentic-otel.json differs from scripts/dashboard.mjs: run node scripts/dashboard.mjs\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, json);
}
