/**
 * Engine mappers against every capture, expected values read by hand from the files.
 */
import { describe, expect, test } from 'vitest';
import { parsePrometheusText } from '../../src/prometheus/parse-prometheus-text.js';
import { mapSglang, mapSkyrl, mapVllm, sglangCapacity } from '../../src/engines/engine-snapshot.js';
import { readFixture } from '../utils/fixtures.js';

const prom = (name: string) => parsePrometheusText(readFixture(`prometheus/${name}`));

describe('vLLM', () => {
  test('V1 idle: capacity 16 × 2452 blocks', () => {
    expect(mapVllm(prom('vllm-v1-idle.prom'))).toEqual({
      kind: 'vllm', model: 'Qwen/Qwen1.5-0.5B-Chat', engines: 1, running: 0, waiting: 0, kvCacheUsage: 0,
      prefixCacheQueries: 0, prefixCacheHits: 0, promptTokens: 0, generationTokens: 0, preemptions: 0,
      finishedByReason: { stop: 0, length: 0, abort: 0 }, cache: { blockSize: 16, numGpuBlocks: 2452, capacityTokens: 39232 },
    });
  });

  test('V1 after three requests: 18 prompt / 48 generated tokens, 3 finished by length, capacity 128 × 146 = 18688', () => {
    const s = mapVllm(prom('vllm-v1-cpu-after-requests-trimmed.prom'));
    expect(s).toMatchObject({ promptTokens: 18, generationTokens: 48, prefixCacheQueries: 18, prefixCacheHits: 0, prefixCacheHitRate: 0, cache: { blockSize: 128, numGpuBlocks: 146, capacityTokens: 18688 } });
    expect(s.finishedByReason).toEqual({ stop: 0, length: 3, abort: 0, error: 0, repetition: 0 });
  });

  test('V0 (0.9.2): the older names, no engine label, no prefix-cache counters: hit rate unknown', () => {
    const s = mapVllm(prom('vllm-0.9.2-v0-after-benchmark.prom'));
    expect(s).toMatchObject({ engines: 1, running: 0, waiting: 0, kvCacheUsage: 0, promptTokens: 43952, generationTokens: 4874, preemptions: 0, finishedByReason: { length: 38 }, cache: { blockSize: 16, numGpuBlocks: 2340, capacityTokens: 37440 } });
    expect(s.prefixCacheHitRate).toBeUndefined();
    expect(mapVllm(prom('vllm-0.9.2-v0-one-request.prom'))).toMatchObject({ promptTokens: 14, generationTokens: 107, finishedByReason: { stop: 1 } });
  });

  test('several engines: counts and capacity summed, KV usage weighted by capacity; "None" blocks stay unknown', () => {
    const s = mapVllm(parsePrometheusText([
      'vllm:num_requests_running{engine="0",model_name="m"} 3',
      'vllm:num_requests_running{engine="1",model_name="m"} 5',
      'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5',
      'vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.2',
      'vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1e6',
      'vllm:prefix_cache_queries_total{engine="1",model_name="m"} 1e6',
      'vllm:prefix_cache_hits_total{engine="0",model_name="m"} 9.75e5',
      'vllm:prefix_cache_hits_total{engine="1",model_name="m"} 2.5e4',
      'vllm:cache_config_info{block_size="16",engine="0",num_gpu_blocks="1000"} 1',
      'vllm:cache_config_info{block_size="16",engine="1",num_gpu_blocks="3000"} 1',
    ].join('\n')));
    expect(s).toMatchObject({ engines: 2, running: 8, prefixCacheQueries: 2e6, prefixCacheHits: 1e6, prefixCacheHitRate: 0.5, cache: { capacityTokens: 64000 } });
    expect(s.kvCacheUsage).toBeCloseTo((0.5 * 16000 + 0.2 * 48000) / 64000, 12);
    expect(mapVllm(parsePrometheusText('vllm:cache_config_info{block_size="16",num_gpu_blocks="None"} 1')).cache).toEqual({ blockSize: 16 });
  });
});

describe('SGLang', () => {
  test('docs example: running, queued, usage, tokens; no cached-token counter, so the hit rate is unknown (the gauge is not used)', () => {
    const s = mapSglang(prom('sglang-docs-example.prom'));
    expect(s).toMatchObject({ kind: 'sglang', model: 'meta-llama/Llama-3.1-8B-Instruct', engines: 1, running: 162, waiting: 2826, kvCacheUsage: 0.28, promptTokens: 8128902, generationTokens: 7557572 });
    expect(s.prefixCacheHitRate).toBeUndefined();
  });

  test('ranks summed; hit rate from cached / prompt tokens; capacity from get_server_info', () => {
    const s = mapSglang(parsePrometheusText([
      'sglang:num_running_reqs{model_name="m",tp_rank="0"} 2',
      'sglang:num_running_reqs{model_name="m",tp_rank="1"} 3',
      'sglang:prompt_tokens_total{model_name="m",tp_rank="0"} 600',
      'sglang:prompt_tokens_total{model_name="m",tp_rank="1"} 400',
      'sglang:cached_tokens_total{model_name="m",tp_rank="0"} 300',
      'sglang:cached_tokens_total{model_name="m",tp_rank="1"} 100',
      'sglang:cache_hit_rate{model_name="m",tp_rank="0"} 0',
    ].join('\n')), { server_info: { max_total_num_tokens: 500000 } });
    expect(s).toMatchObject({ engines: 2, running: 5, prefixCacheHits: 400, prefixCacheQueries: 1000, prefixCacheHitRate: 0.4, cache: { capacityTokens: 500000 } });
    expect(sglangCapacity({ internal_states: [{ memory_usage: { token_capacity: 10 } }, { memory_usage: { token_capacity: 30 } }] })).toBe(30);
    expect(sglangCapacity('nope')).toBeUndefined();
  });
});

describe('SkyRL', () => {
  test('the documented format (its "..." elision removed as a person would)', () => {
    const text = readFixture('skyrl/skyrl-metrics-json-format-docstring.txt');
    const json = JSON.parse(text.slice(text.indexOf('{')).replace(/,\s*\.\.\.\s*/, ''));
    const s = mapSkyrl(json);
    expect(s).toMatchObject({ kind: 'skyrl', engines: 1, running: 2, waiting: 0, preemptions: 0, finishedByReason: {}, cache: {} });
    expect(s.kvCacheUsage).toBeCloseTo(0.059, 12); // kv_cache_usage_pct 5.9 is a percentage
  });

  test('engines with an error are skipped; capacity from block size × blocks', () => {
    expect(mapSkyrl({ engines: [
      { engine_id: 0, kv_cache_usage_pct: 35.2, num_running_reqs: 3, num_waiting_reqs: 1, num_cumulative_preemption: 1, block_size: 16, num_gpu_blocks: 27283 },
      { engine_id: 1, error: 'engine down' },
      { engine_id: 2, kv_cache_usage_pct: 10, num_running_reqs: 1, num_waiting_reqs: 0, num_cumulative_preemption: 2, block_size: 16, num_gpu_blocks: 1000 },
    ] })).toMatchObject({ engines: 2, running: 4, waiting: 1, preemptions: 3, cache: { blockSize: 16, numGpuBlocks: 28283, capacityTokens: 452528 } });
    expect(mapSkyrl(null)).toMatchObject({ engines: 0 });
  });
});
