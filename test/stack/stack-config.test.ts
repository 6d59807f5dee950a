/**
 * The stack around the package, checked without Docker: the Collector configuration is parsed
 * and its pipelines cross-checked, the Prometheus configuration and rules pass promtool, and the
 * rules' unit tests pass.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

interface CollectorConfig {
  extensions?: Record<string, unknown>;
  receivers: Record<string, { protocols?: Record<string, { endpoint?: string }>; config?: { scrape_configs: { static_configs: { targets: string[] }[] }[] } }>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  service: { extensions?: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

describe('otel-collector.yaml', () => {
  const text = readFileSync(resolve(repo, 'otel-collector.yaml'), 'utf8');
  const config = parse(text) as CollectorConfig;

  test('names the contrib distribution', () => {
    expect(text.split('\n').slice(0, 3).join('\n')).toMatch(/contrib/);
  });

  test('every pipeline names defined components, and every defined component is used', () => {
    const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
    for (const [name, p] of Object.entries(config.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const c of p[kind]) {
          expect(Object.keys(config[kind]), `${name}: ${kind} ${c}`).toContain(c);
          used[kind].add(c);
        }
      }
      expect(p.processors[0], `${name}: memory_limiter first`).toBe('memory_limiter');
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) expect([...used[kind]].sort()).toEqual(Object.keys(config[kind]).sort());
    expect((config.service.extensions ?? []).sort()).toEqual(Object.keys(config.extensions ?? {}).sort());
    expect(config.service.pipelines['traces']!.processors).toContain('tail_sampling');
  });

  test('ports match our defaults: OTLP/HTTP 4318 (NodeSDK), the app exporter 9464, vLLM 8000, SGLang 30000', () => {
    expect(config.receivers['otlp']!.protocols!['http']!.endpoint).toMatch(/:4318$/);
    expect(config.receivers['otlp']!.protocols!['grpc']!.endpoint).toMatch(/:4317$/);
    const targets = config.receivers['prometheus']!.config!.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    expect(targets.map((t) => t.split(':')[1])).toEqual(['9464', '8000', '30000']);
  });
});

describe.skipIf(!hasPromtool)('examples/prometheus, with promtool', () => {
  const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: repo, encoding: 'utf8' });

  test('the scrape config and its rule files check', () => {
    const r = promtool('check', 'config', 'examples/prometheus/prometheus.yml');
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('the rules check, and their unit tests pass', () => {
    const check = promtool('check', 'rules', 'examples/prometheus/rules/agentic-otel.rules.yml');
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const unit = promtool('test', 'rules', 'examples/prometheus/rules.test.yml');
    expect(unit.status, unit.stdout + unit.stderr).toBe(0);
    expect(unit.stdout).toContain('SUCCESS');
  });

  test('every alert the issue asks for exists', () => {
    const rules = parse(readFileSync(resolve(repo, 'examples/prometheus/rules/agentic-otel.rules.yml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter(Boolean);
    expect(alerts).toEqual(['AgenticEngineDown', 'AgenticKvCacheNearlyFull', 'AgenticWaitingRequestsGrowing', 'AgenticErrorRateHigh', 'AgenticCircuitBreakerOpen', 'AgenticPrefillP95Regression']);
  });
});

describe('examples/stack/docker-compose.yml', () => {
  const stackDir = resolve(repo, 'examples/stack');
  const compose = parse(readFileSync(resolve(stackDir, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image: string; volumes?: string[]; ports?: string[]; environment?: Record<string, string>; command?: string | string[] }> };
  const collector = parse(readFileSync(resolve(repo, 'otel-collector.yaml'), 'utf8')) as CollectorConfig & { exporters: Record<string, { endpoint?: string }> };

  test('every image is pinned to a version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const tag = s.image.split(':')[1];
      expect(tag, name).toBeDefined();
      expect(tag, name).not.toBe('latest');
      expect(tag, name).toMatch(/\d/);
    }
  });

  test('every mounted file exists', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0] as string;
        expect(existsSync(resolve(stackDir, host)), `${name}: ${host}`).toBe(true);
      }
    }
  });

  test('ports agree with the collector and the app', () => {
    const ports = (svc: string) => (compose.services[svc]!.ports ?? []).map((p) => Number(p.split(':')[1]));
    const endpointPort = (e: string | undefined) => Number(e!.split(':').at(-1));
    expect(ports('otel-collector')).toEqual(expect.arrayContaining([
      endpointPort(collector.receivers['otlp']!.protocols!['grpc']!.endpoint),
      endpointPort(collector.receivers['otlp']!.protocols!['http']!.endpoint),
      endpointPort(collector.exporters['prometheus']!.endpoint),
    ]));
    // The app serves 9464, which the Collector and Prometheus scrape, and sends OTLP/HTTP to the Collector.
    expect(ports('app')).toEqual([9464]);
    expect(String(compose.services['app']!.command)).toContain('--metrics-port 9464');
    expect(compose.services['app']!.environment!['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('http://otel-collector:4318');
    const scraped = collector.receivers['prometheus']!.config!.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    expect(scraped).toContain('app:9464');
    const prometheusYml = readFileSync(resolve(repo, 'examples/prometheus/prometheus.yml'), 'utf8');
    expect(prometheusYml).toContain("'app:9464'");
    expect(prometheusYml).toContain(`'otel-collector:${endpointPort(collector.exporters['prometheus']!.endpoint)}'`);
    // The Collector sends traces where Tempo listens.
    expect((collector.exporters['otlp/tempo'] as { endpoint: string }).endpoint).toBe('tempo:4317');
  });
});

test('the committed dashboard is what scripts/dashboard.mjs writes', () => {
  const r = spawnSync(process.execPath, [resolve(repo, 'scripts/dashboard.mjs'), '--check'], { cwd: repo, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
