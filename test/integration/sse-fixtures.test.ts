/**
 * The real captures in shared/fixtures/sse, replayed by a local server in 13-byte pieces and
 * read through the installed hook: the chat span must carry what a person reads off each file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { request } from 'undici';
import { SSE_EXPECTATIONS, sseFixture } from '../utils/fixtures.js';
import { startReplayServer } from '../utils/servers.js';
import { setupHarness, stepTrees, type Harness } from '../utils/otel.js';

let h: Harness;
beforeAll(() => {
  h = setupHarness();
});
afterAll(() => h.shutdown());

describe('fixture streams through the hook', () => {
  for (const [name, want] of Object.entries(SSE_EXPECTATIONS)) {
    test(name, async () => {
      h.exporter.reset();
      const bytes = sseFixture(name);
      const server = await startReplayServer(bytes);
      try {
        const res = await request(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          // The captures answer requests that asked for usage: so does this one (the hook then
          // alters nothing; transparency.test.ts covers requests that did not ask).
          body: JSON.stringify({ model: 'm', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] }),
        });
        // The application receives exactly the bytes the engine sent.
        expect(await res.body.text()).toBe(bytes);
        const [tree] = stepTrees(h.spans());
        const chat = tree!.chat.attributes;
        expect(chat['agentic.response.chunks']).toBe(want.dataEvents);
        expect(chat['agentic.response.malformed_chunks']).toBeUndefined();
        expect(chat['gen_ai.response.id']).toBe(want.id);
        expect(chat['gen_ai.response.model']).toBe(want.model);
        if (want.finishReasons.length > 0) expect(chat['gen_ai.response.finish_reasons']).toEqual(want.finishReasons);
        else expect(chat['gen_ai.response.finish_reasons']).toBeUndefined();
        expect(chat['gen_ai.usage.input_tokens']).toBe(want.usage?.prompt_tokens);
        expect(chat['gen_ai.usage.output_tokens']).toBe(want.usage?.completion_tokens);
        expect(chat['gen_ai.usage.cache_read.input_tokens']).toBe(want.cached);
        const step = tree!.step.attributes;
        expect(step['agentic.step.streamed']).toBe(true);
        if (want.cached !== undefined && want.usage !== undefined) {
          expect(step['agentic.step.kv_hit_rate']).toBeCloseTo(want.cached / want.usage.prompt_tokens, 12);
        } else {
          expect(step['agentic.step.kv_hit_rate']).toBeUndefined();
        }
        expect(JSON.parse(server.bodies[0]!).stream_options).toEqual({ include_usage: true });
      } finally {
        await server.close();
      }
    });
  }
});
