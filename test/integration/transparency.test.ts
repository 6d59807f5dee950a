/**
 * The application sees exactly what it would see without us. Each client makes the same
 * request with the instrumentation off and on, against an engine that answers from a real
 * capture and, as engines do, sends the usage-only chunk only to requests that ask for usage.
 * What the application gets (bytes, or the client's objects) must be equal, while the step
 * still has usage and kv_hit_rate.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { request, stream as undiciStream, fetch as undiciFetch } from 'undici';
import OpenAI from 'openai';
import { streamText, generateText } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { setupHarness, type Harness } from '../utils/otel.js';
import { readFixture } from '../utils/fixtures.js';

const PATH = '/v1/chat/completions';
const MODEL = 'qwen3-max';

/** The real qwen3-max stream: its payloads, the last of them the usage-only chunk. */
const payloads = readFixture('sse/qwen3-max-reasoning-usage-chunk.chunks.jsonl').split('\n').filter((l) => l.trim());
const usageOnly = payloads[payloads.length - 1] as string;
const withChoices = payloads.slice(0, -1);
const NON_STREAMED = JSON.stringify({
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 24, completion_tokens: 1, total_tokens: 25, prompt_tokens_details: { cached_tokens: 16 } },
});

interface Engine {
  url: string;
  /** stream_options as each request carried it. */
  asked: unknown[];
  /** Each request body, byte for byte. */
  raw: Buffer[];
  close(): Promise<void>;
}

/** An engine replaying the capture: the usage-only chunk only when the request asked for usage. */
async function startEngine(options: { nullUsageWhenAsked?: boolean; gzip?: boolean } = {}): Promise<Engine> {
  const asked: unknown[] = [];
  const raw: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    res.sendDate = false; // the AI SDK hands the response headers to the application
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      raw.push(Buffer.concat(chunks));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stream?: boolean; stream_options?: { include_usage?: boolean } };
      asked.push(body.stream_options);
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(NON_STREAMED);
        return;
      }
      const usage = body.stream_options?.include_usage === true;
      let events = usage ? payloads : withChoices;
      if (options.nullUsageWhenAsked === true) {
        // The OpenAI platform's way: once asked, every chunk carries "usage":null.
        events = withChoices.map((p) => p.replace(',"usage":null', '')).map((p) => (usage ? p.replace(/}$/, ',"usage":null}') : p));
        if (usage) events.push(usageOnly);
      }
      let bytes = Buffer.from(events.map((e) => `data: ${e}\n\n`).join('') + 'data: [DONE]\n\n');
      if (options.gzip === true) bytes = gzipSync(bytes);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...(options.gzip === true ? { 'content-encoding': 'gzip' } : {}) });
      for (let i = 0; i < bytes.length; i += 700) {
        res.write(bytes.subarray(i, i + 700));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    asked,
    raw,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function requestBody(stream: boolean, askUsage: boolean): string {
  return JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], stream, ...(askUsage ? { stream_options: { include_usage: true } } : {}) });
}

type Client = (url: string, stream: boolean, askUsage: boolean) => Promise<unknown>;

const headers = { 'content-type': 'application/json' };

const clients: Record<string, Client> = {
  'global fetch': async (url, stream, askUsage) => {
    const r = await fetch(url + PATH, { method: 'POST', headers, body: requestBody(stream, askUsage) });
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  },
  'undici.fetch': async (url, stream, askUsage) => {
    const r = await undiciFetch(url + PATH, { method: 'POST', headers, body: requestBody(stream, askUsage) });
    return { status: r.status, text: await r.text() };
  },
  'undici.request': async (url, stream, askUsage) => {
    const r = await request(url + PATH, { method: 'POST', headers, body: requestBody(stream, askUsage) });
    return { status: r.statusCode, text: await r.body.text() };
  },
  'undici.stream': async (url, stream, askUsage) => {
    const parts: Buffer[] = [];
    await undiciStream(url + PATH, { method: 'POST', headers, body: requestBody(stream, askUsage) }, () => new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }));
    return Buffer.concat(parts).toString('utf8');
  },
  'openai client': async (url, stream, askUsage) => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'k', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'hello' }];
    if (!stream) return client.chat.completions.create({ model: MODEL, messages });
    const s = await client.chat.completions.create({ model: MODEL, messages, stream: true, ...(askUsage ? { stream_options: { include_usage: true } } : {}) });
    const chunks: unknown[] = [];
    let text = '';
    // The most common loop there is: it must not meet a chunk without choices it did not ask for.
    for await (const ch of s) {
      chunks.push(ch);
      if (!askUsage) text += ch.choices[0]!.delta.content ?? '';
    }
    return { chunks, text };
  },
  'Vercel AI SDK': async (url, stream, askUsage) => {
    const provider = createOpenAICompatible({ name: 'engine', baseURL: `${url}/v1`, includeUsage: askUsage });
    const model = provider.chatModel(MODEL);
    if (!stream) {
      const r = await generateText({ model, prompt: 'hello', maxRetries: 0 });
      return { text: r.text, usage: r.usage, finishReason: r.finishReason };
    }
    const r = streamText({ model, prompt: 'hello', maxRetries: 0 });
    const parts: unknown[] = [];
    for await (const part of r.fullStream) parts.push(part);
    return { parts: JSON.parse(JSON.stringify(parts)) as unknown, usage: await r.usage, text: await r.text };
  },
};

let h: Harness;
let engine: Engine;

beforeAll(async () => {
  h = setupHarness({ enabled: false });
  engine = await startEngine();
});

afterAll(async () => {
  await h.shutdown();
  await engine.close();
});

/** What the client gets without us, and with us, and the chat span of the observed request. */
async function both(client: Client, url: string, stream: boolean, askUsage: boolean) {
  const bare = await client(url, stream, askUsage);
  h.exporter.reset();
  h.instrumentation.enable();
  let observed: unknown;
  try {
    observed = await client(url, stream, askUsage);
  } finally {
    h.instrumentation.disable();
  }
  const chat = h.spans().find((s) => s.kind === 2);
  const step = h.spans().find((s) => s.name === 'agent.step');
  return { bare, observed, chat, step };
}

describe.each(Object.keys(clients))('%s', (name) => {
  const client = clients[name] as Client;
  test.each([
    [true, false],
    [true, true],
    [false, false],
  ])('stream %s, usage asked by the application %s: the same as without us, and the step has usage', async (stream, askUsage) => {
    const { bare, observed, chat, step } = await both(client, engine.url, stream, askUsage);
    expect(observed).toEqual(bare);
    expect(chat, 'the request was observed').toBeDefined();
    expect(chat!.attributes['gen_ai.usage.input_tokens']).toBe(24);
    expect(step!.attributes['agentic.step.kv_hit_rate']).toBeTypeOf('number');
  });
});

describe('what we ask the engine for', () => {
  test('we ask for usage when the application did not, and never alter a request that asked itself', async () => {
    await both(clients['undici.request'] as Client, engine.url, true, false);
    expect(engine.asked.slice(-2)).toEqual([undefined, { include_usage: true }]);
    await both(clients['undici.request'] as Client, engine.url, true, true);
    expect(engine.asked.slice(-2)).toEqual([{ include_usage: true }, { include_usage: true }]);
  });

  test('an engine that adds "usage": null to every chunk once asked: that field is the one difference left', async () => {
    const openaiStyle = await startEngine({ nullUsageWhenAsked: true });
    try {
      const { bare, observed, chat } = await both(clients['openai client'] as Client, openaiStyle.url, true, false);
      const b = bare as { chunks: Record<string, unknown>[]; text: string };
      const o = observed as { chunks: Record<string, unknown>[]; text: string };
      expect(o.text).toBe(b.text);
      expect(o.chunks).toHaveLength(b.chunks.length);
      expect(o.chunks.every((c) => c['usage'] === null)).toBe(true);
      expect(o.chunks.map(({ usage: _u, ...rest }) => rest)).toEqual(b.chunks);
      expect(chat!.attributes['gen_ai.usage.input_tokens']).toBe(24);
    } finally {
      await openaiStyle.close();
    }
  });
});

describe('the request body is never re-serialised', () => {
  // Numbers JSON.parse would change, escapes, multi-byte text, white space and key order.
  const original = '{"model":"qwen3-max", "seed": 12345678901234567891, "x": 1e400, "t": 1.0, "stream": true,\n "stream_options": {"continuous_usage_stats": true}, "messages": [{"role": "user", "content": "h\\u00e9llo \u00e9 \ud83d\ude00 \\"q\\""}]}';
  const spliced = original.replace('"stream_options": {', '"stream_options": {"include_usage":true,');

  test.each([
    ['fetch (bytes)', (url: string, body: string) => fetch(url + PATH, { method: 'POST', headers, body: new TextEncoder().encode(body) }).then((r) => r.text())],
    ['undici.request (string)', (url: string, body: string) => request(url + PATH, { method: 'POST', headers, body }).then((r) => r.body.text())],
    ['undici.request (Buffer)', (url: string, body: string) => request(url + PATH, { method: 'POST', headers, body: Buffer.from(body) }).then((r) => r.body.text())],
  ])('%s: include_usage spliced into the original bytes', async (_name, send) => {
    h.instrumentation.enable();
    try {
      await send(engine.url, original);
    } finally {
      h.instrumentation.disable();
    }
    expect(engine.raw.at(-1)!.toString('utf8')).toBe(spliced);
  });

  test('an explicit include_usage: false is left alone, byte for byte', async () => {
    const body = '{"model":"qwen3-max","stream":true,"stream_options":{"include_usage":false},"messages":[]}';
    h.instrumentation.enable();
    try {
      await request(engine.url + PATH, { method: 'POST', headers, body });
    } finally {
      h.instrumentation.disable();
    }
    expect(engine.raw.at(-1)!.toString('utf8')).toBe(body);
  });
});

describe('a content-encoded stream', () => {
  test('cannot be filtered: it passes unchanged, and that engine is no longer asked for usage', async () => {
    const gz = await startEngine({ gzip: true });
    try {
      const client = clients['undici.request'] as Client;
      h.instrumentation.enable();
      try {
        await client(gz.url, true, false); // answered compressed: the hook learns it
      } finally {
        h.instrumentation.disable();
      }
      expect(gz.asked.at(-1)).toEqual({ include_usage: true });
      const { bare, observed } = await both(client, gz.url, true, false);
      expect(gz.asked.at(-1)).toBeUndefined();
      expect(observed).toEqual(bare);
    } finally {
      await gz.close();
    }
  });
});
