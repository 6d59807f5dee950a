/** The simulator's HTTP face: OpenAI-compatible completions (vLLM's chunk shapes), `/v1/models`, faults. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { newRecord, planOutput, promptTokensOf, resolveOptions, SimEngine, type EngineJob, type OutputPiece } from './engine.js';
import type { SimFault, Simulator, SimulatorOptions, SimRequestRecord } from './types.js';
import { renderSglang, renderSkyrl, renderVllm, sglangServerInfo, type EngineState } from './engine-metrics.js';
import { readBody, sendError, sendJson } from './http.js';

const FAULTS: readonly SimFault[] = ['http_500', 'http_429', 'stall', 'cut', 'malformed', 'reset'];
const clock = (): number => performance.timeOrigin + performance.now();

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts = resolveOptions(options);
  const engine = new SimEngine(opts, clock);
  const records: SimRequestRecord[] = [];
  const byId = new Map<string, SimRequestRecord>();
  const pendingFaults: SimFault[] = [];
  const sockets = new Set<Socket>();
  const host = options.host ?? '127.0.0.1';
  const startedAt = Date.now() / 1000;
  const state = (): EngineState => ({
    model: opts.model, running: engine.running, waiting: engine.waiting, blocksInUse: engine.blocksInUse(),
    numGpuBlocks: opts.numGpuBlocks, blockSize: opts.blockSize, maxRunning: opts.maxRunning, counters: engine.counters, startedAt,
  });

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalServerError', String(err));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: opts.model, object: 'model', created: 0, owned_by: 'vllm', root: opts.model, max_model_len: 32768 }] });
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const flavor = options.flavor ?? 'vllm';
      if (flavor === 'skyrl') sendJson(res, 200, renderSkyrl(state()));
      else {
        const text = flavor === 'sglang' ? renderSglang(state()) : renderVllm(state());
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
      }
      return;
    }
    if (req.method === 'GET' && path === '/get_server_info' && options.flavor === 'sglang') {
      sendJson(res, 200, sglangServerInfo(state()));
      return;
    }
    // Simulator-only routes: its ground truth, and faults for a simulator in another process.
    if (req.method === 'GET' && path === '/sim/requests') {
      sendJson(res, 200, { requests: records });
      return;
    }
    if (req.method === 'POST' && path === '/sim/fault') {
      const text = await readBody(req);
      let fault: unknown;
      let count: unknown;
      try {
        ({ fault, count } = JSON.parse(text) as { fault?: unknown; count?: unknown });
      } catch {
        // answered below
      }
      if (typeof fault !== 'string' || !(FAULTS as string[]).includes(fault)) {
        sendError(res, 400, 'BadRequestError', `fault must be one of ${FAULTS.join(', ')}`);
        return;
      }
      const n = typeof count === 'number' && count >= 1 ? Math.floor(count) : 1;
      for (let i = 0; i < n; i++) pendingFaults.push(fault as SimFault);
      sendJson(res, 200, { fault, count: n });
      return;
    }
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200).end();
      return;
    }
    const chat = path === '/v1/chat/completions';
    if (!chat && path !== '/v1/completions') {
      sendJson(res, 404, { detail: 'Not Found' });
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { detail: 'Method Not Allowed' });
      return;
    }
    // The request reached the engine when its headers did; the body of a completion follows at once.
    const arrivedAt = clock();
    const receivedAt = { text: await readBody(req), t: arrivedAt };
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(receivedAt.text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      sendError(res, 400, 'BadRequestError', 'Request body is not a JSON object');
      return;
    }
    if (body['model'] !== undefined && body['model'] !== opts.model) {
      sendError(res, 404, 'NotFoundError', `The model \`${String(body['model'])}\` does not exist.`);
      return;
    }
    const headerFault = req.headers['x-sim-fault'];
    const fault = (typeof headerFault === 'string' && (FAULTS as string[]).includes(headerFault) ? (headerFault as SimFault) : undefined) ?? pendingFaults.shift();
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const streamOptions = (body['stream_options'] ?? {}) as Record<string, unknown>;
    const extra = (body['extra_body'] ?? {}) as Record<string, unknown>;
    const programId = body['program_id'] ?? extra['program_id'] ?? req.headers['x-program-id'];
    const stream = body['stream'] === true;
    const promptTokens = promptTokensOf(body);
    const record = newRecord(id, receivedAt.t, {
      programId: programId === undefined ? undefined : String(programId),
      stream,
      traceparent: typeof req.headers['traceparent'] === 'string' ? req.headers['traceparent'] : undefined,
      includeUsage: streamOptions['include_usage'] === true,
      promptTokens: promptTokens.length,
    }, fault);
    records.push(record);
    byId.set(id, record);

    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'http_500') {
      sendError(res, 500, 'InternalServerError', 'Simulated engine failure');
      return;
    }
    if (fault === 'http_429') {
      const ms = opts.retryAfterMs;
      res.setHeader('retry-after', String(Math.ceil(ms / 1000)));
      res.setHeader('retry-after-ms', String(ms));
      sendError(res, 429, 'RateLimitError', 'Simulated rate limit');
      return;
    }
    if (fault === 'stall') return; // never answer; the client gives up or the simulator closes

    const created = Math.floor(Date.now() / 1000);
    const plan = planOutput(body, opts.defaultMaxTokens, id.slice(-6));
    const usage = (): Record<string, unknown> => {
      const u: Record<string, unknown> = {
        prompt_tokens: record.promptTokens,
        total_tokens: record.promptTokens + record.completionTokens,
        completion_tokens: record.completionTokens,
      };
      if (opts.promptTokensDetails) u['prompt_tokens_details'] = { cached_tokens: record.cachedTokens };
      return u;
    };
    const collected: OutputPiece[] = [];
    const continuous = streamOptions['continuous_usage_stats'] === true;

    const job: EngineJob = {
      record,
      promptTokens,
      output: plan.pieces,
      finishReason: plan.finishReason,
      onToken: (piece, index) => {
        collected.push(piece);
        if (!stream) return;
        const last = index === plan.pieces.length - 1;
        const chunk = chat ? chatChunk(id, created, opts.model, piece, index, last ? plan.finishReason : null) : textChunk(id, created, opts.model, piece, last ? plan.finishReason : null);
        if (continuous) chunk['usage'] = usage();
        writeEvent(res, JSON.stringify(chunk));
        record.chunksSent++;
        if (fault === 'malformed' && index === 1) res.write('data: {"id":"' + id + '","choices":[{"index":0,\n\n');
        if (fault === 'cut' && record.chunksSent >= opts.cutAfterChunks && !last) {
          // Close the connection once what was written is flushed: the client gets exactly
          // `cutAfterChunks` events and then a response that never completes.
          engine.cancel(job, 'abort');
          res.socket?.end();
        }
      },
      onDone: () => {
        if (stream) {
          if (record.includeUsage) {
            writeEvent(res, JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model: opts.model, choices: [], usage: usage() }));
            record.chunksSent++;
          }
          res.end('data: [DONE]\n\n');
          return;
        }
        const full = chat ? chatCompletion(id, created, opts.model, collected, plan.finishReason) : textCompletion(id, created, opts.model, collected, plan.finishReason);
        full['usage'] = usage();
        if (fault === 'malformed') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(full).slice(0, 40));
          return;
        }
        sendJson(res, 200, full);
      },
    };
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.flushHeaders();
    }
    res.on('close', () => {
      if (record.finishedAt === undefined) engine.cancel(job, 'abort');
    });
    engine.submit(job);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let refusing = false;

  return {
    url,
    port,
    model: opts.model,
    requests: () => records,
    request: (id) => byId.get(id),
    injectFault(fault: SimFault, count = 1) {
      for (let i = 0; i < count; i++) pendingFaults.push(fault);
    },
    async refuse(on: boolean) {
      if (on === refusing) return;
      refusing = on;
      if (on) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
      } else {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
      }
    },
    load: () => ({ running: engine.running, waiting: engine.waiting }),
    async close() {
      engine.stop();
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function chatChunk(id: string, created: number, model: string, piece: OutputPiece, index: number, finishReason: string | null): Record<string, unknown> {
  const delta: Record<string, unknown> = index === 0 ? { role: 'assistant' } : {};
  if (piece.kind === 'text') delta['content'] = piece.text;
  else if (piece.id !== undefined) delta['tool_calls'] = [{ id: piece.id, type: 'function', index: 0, function: { name: piece.name, arguments: piece.args } }];
  else delta['tool_calls'] = [{ index: 0, function: { arguments: piece.args } }];
  return { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

function textChunk(id: string, created: number, model: string, piece: OutputPiece, finishReason: string | null): Record<string, unknown> {
  const text = piece.kind === 'text' ? piece.text : piece.args;
  return { id, object: 'text_completion', created, model, choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null }] };
}

function chatCompletion(id: string, created: number, model: string, pieces: OutputPiece[], finishReason: string): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: null };
  const text = pieces.filter((p) => p.kind === 'text').map((p) => (p as { text: string }).text).join('');
  const tools = pieces.filter((p): p is Extract<OutputPiece, { kind: 'tool' }> => p.kind === 'tool');
  if (text) message['content'] = text;
  if (tools.length > 0) {
    const head = tools[0] as Extract<OutputPiece, { kind: 'tool' }>;
    message['tool_calls'] = [{ id: head.id, type: 'function', function: { name: head.name, arguments: tools.map((t) => t.args).join('') } }];
  }
  return { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }] };
}

function textCompletion(id: string, created: number, model: string, pieces: OutputPiece[], finishReason: string): Record<string, unknown> {
  const text = pieces.map((p) => (p.kind === 'text' ? p.text : p.args)).join('');
  return { id, object: 'text_completion', created, model, choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null }] };
}

function writeEvent(res: ServerResponse, data: string): void {
  if (!res.destroyed) res.write(`data: ${data}\n\n`);
}
