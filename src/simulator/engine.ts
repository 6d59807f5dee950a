/**
 * The simulated engine: a vLLM-like scheduler and timing model, with no HTTP. Requests wait in
 * a FIFO queue while the running batch is full; prefill takes a base cost plus a cost per
 * uncached prompt token (the prefix cache decides how many are cached); decode emits one token
 * per `decodeMsPerToken`. Every time it actually applied is recorded as ground truth.
 */
import { BlockPrefixCache, tokenize } from './prefix-cache.js';
import type { SimFault, SimRequestRecord, SimulatorOptions } from './types.js';
import { latencyHistograms, type LatencyHistogram, type LatencyName } from './latency.js';

/** Counters an engine exposes on /metrics (read by the engine-poller feature). */
export interface EngineCounters {
  promptTokens: number;
  generationTokens: number;
  prefixQueries: number;
  prefixHits: number;
  preemptions: number;
  finished: Record<string, number>;
  /**
   * vLLM V1's per-request latency histograms, seconds, observed when a request finishes (before
   * its last bytes are sent) from the same times its record holds: queue (scheduled − arrived),
   * prefill (first token − scheduled), decode (last − first token), inference (prefill + decode),
   * ttft (first token − arrived), e2e (finished − arrived).
   */
  latency: Record<LatencyName, LatencyHistogram>;
}


/** What the server tells the engine about one request. */
export interface EngineJob {
  record: SimRequestRecord;
  promptTokens: string[];
  /** Tokens to generate, each one output piece. */
  output: OutputPiece[];
  /** Finish reason once every piece is out. */
  finishReason: string;
  /** Called with the pieces as they are generated; index 0 is the first token. */
  onToken(piece: OutputPiece, index: number): void;
  /** Called once when the job is done (all tokens out, or cancelled). */
  onDone(): void;
}

/** One generated token: content text, or a fragment of a tool call. */
export type OutputPiece = { kind: 'text'; text: string } | { kind: 'tool'; id?: string; name?: string; args: string };

type Resolved = Required<Omit<SimulatorOptions, 'port' | 'host' | 'flavor'>>;

/** Options with defaults applied. */
export function resolveOptions(o: SimulatorOptions): Resolved {
  return {
    model: o.model ?? 'sim-llama-3-8b',
    maxRunning: o.maxRunning ?? 16,
    prefillBaseMs: o.prefillBaseMs ?? 2,
    prefillMsPerToken: o.prefillMsPerToken ?? 0.02,
    decodeMsPerToken: o.decodeMsPerToken ?? 4,
    defaultMaxTokens: o.defaultMaxTokens ?? 24,
    blockSize: o.blockSize ?? 16,
    numGpuBlocks: o.numGpuBlocks ?? 4096,
    promptTokensDetails: o.promptTokensDetails ?? true,
    cutAfterChunks: o.cutAfterChunks ?? 3,
    retryAfterMs: o.retryAfterMs ?? 100,
  };
}

export class SimEngine {
  readonly cache: BlockPrefixCache;
  readonly counters: EngineCounters = { promptTokens: 0, generationTokens: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0, finished: {}, latency: latencyHistograms() };
  private readonly _waiting: EngineJob[] = [];
  private readonly _running = new Set<EngineJob>();
  private readonly _timers = new Map<EngineJob, NodeJS.Timeout>();

  constructor(readonly options: Resolved, private readonly _now: () => number) {
    this.cache = new BlockPrefixCache(options.blockSize, options.numGpuBlocks);
  }

  get running(): number {
    return this._running.size;
  }

  get waiting(): number {
    return this._waiting.length;
  }

  /** KV blocks held by running requests (prompt and generated tokens so far). */
  blocksInUse(): number {
    let blocks = 0;
    for (const job of this._running) blocks += this._blocksOf(job);
    return blocks;
  }

  /** Takes a job: it starts now or waits for a slot and for KV blocks. */
  submit(job: EngineJob): void {
    if (this._waiting.length === 0 && this._canStart(job)) this._start(job);
    else this._wait(job);
  }

  private _blocksOf(job: EngineJob): number {
    return Math.ceil((job.record.promptTokens + job.record.completionTokens) / this.options.blockSize);
  }

  private _canStart(job: EngineJob): boolean {
    if (this._running.size >= this.options.maxRunning) return false;
    const need = Math.ceil((job.record.promptTokens + job.output.length) / this.options.blockSize);
    return this.blocksInUse() + need <= this.options.numGpuBlocks;
  }

  /**
   * Waiting for a slot, or for KV blocks. A request held back for lack of KV blocks counts as a
   * preemption: the simulator's stand-in for vLLM evicting a running request when KV is full.
   */
  private _wait(job: EngineJob): void {
    if (this._running.size < this.options.maxRunning) this.counters.preemptions++;
    this._waiting.push(job);
  }

  /** Stops a job (client gone): frees its slot. */
  cancel(job: EngineJob, reason = 'abort'): void {
    const timer = this._timers.get(job);
    if (timer !== undefined) clearTimeout(timer);
    this._timers.delete(job);
    const queued = this._waiting.indexOf(job);
    if (queued !== -1) this._waiting.splice(queued, 1);
    if (job.record.finishedAt === undefined) {
      job.record.finishedAt = this._now();
      job.record.finishReason = reason;
      this.counters.finished[reason] = (this.counters.finished[reason] ?? 0) + 1;
    }
    if (this._running.delete(job)) this._next();
  }

  /** Stops everything. */
  stop(): void {
    for (const timer of this._timers.values()) clearTimeout(timer);
    this._timers.clear();
    this._waiting.length = 0;
    this._running.clear();
  }

  private _start(job: EngineJob): void {
    this._running.add(job);
    const r = job.record;
    r.startedAt = this._now();
    r.queueMs = r.startedAt - r.receivedAt;
    const cached = this.cache.lookupAndInsert(job.promptTokens);
    r.cachedTokens = cached;
    this.counters.prefixQueries += job.promptTokens.length;
    this.counters.prefixHits += cached;
    this.counters.promptTokens += job.promptTokens.length;
    const prefillMs = this.options.prefillBaseMs + (job.promptTokens.length - cached) * this.options.prefillMsPerToken;
    this._schedule(job, prefillMs, 0);
  }

  private _schedule(job: EngineJob, delayMs: number, index: number): void {
    this._timers.set(
      job,
      setTimeout(() => this._emit(job, index), delayMs),
    );
  }

  private _emit(job: EngineJob, index: number): void {
    const r = job.record;
    const piece = job.output[index] as OutputPiece;
    const t = this._now();
    if (index === 0) {
      r.firstTokenAt = t;
      r.prefillMs = t - (r.startedAt as number);
    }
    r.lastTokenAt = t;
    r.decodeMs = t - (r.firstTokenAt as number);
    r.completionTokens = index + 1;
    this.counters.generationTokens++;
    job.onToken(piece, index);
    if (r.finishedAt !== undefined) return; // onToken cancelled it (cut)
    if (index + 1 < job.output.length) {
      this._schedule(job, this.options.decodeMsPerToken, index + 1);
      return;
    }
    this._timers.delete(job);
    this._running.delete(job);
    r.finishedAt = t;
    const reason = (r.finishReason = job.finishReason);
    this.counters.finished[reason] = (this.counters.finished[reason] ?? 0) + 1;
    this._observe(r);
    job.onDone();
    this._next();
  }

  /** The finished request's latencies, from its record's own times (ms → s). */
  private _observe(r: SimRequestRecord): void {
    const l = this.counters.latency;
    const queue = (r.queueMs as number) / 1000;
    const prefill = (r.prefillMs as number) / 1000;
    const decode = (r.decodeMs as number) / 1000;
    l.queue.observe(queue);
    l.prefill.observe(prefill);
    l.decode.observe(decode);
    l.inference.observe(prefill + decode);
    l.ttft.observe(queue + prefill);
    l.e2e.observe(((r.finishedAt as number) - r.receivedAt) / 1000);
  }

  private _next(): void {
    while (this._waiting.length > 0 && this._canStart(this._waiting[0] as EngineJob)) {
      this._start(this._waiting.shift() as EngineJob);
    }
    // A request larger than the whole cache would wait forever: let it run alone.
    if (this._running.size === 0 && this._waiting.length > 0) this._start(this._waiting.shift() as EngineJob);
  }
}

/** The prompt as the engine would tokenize it: every message, tool definitions included. */
export function promptTokensOf(body: Record<string, unknown>): string[] {
  const parts: string[] = [];
  const tools = body['tools'];
  if (Array.isArray(tools) && tools.length > 0) parts.push('<tools>', JSON.stringify(tools));
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const m of messages as Record<string, unknown>[]) {
      parts.push(`<|${String(m?.['role'] ?? 'user')}|>`);
      const content = m?.['content'];
      parts.push(typeof content === 'string' ? content : JSON.stringify(content ?? ''));
      if (m?.['tool_calls'] !== undefined) parts.push(JSON.stringify(m['tool_calls']));
    }
    parts.push('<|assistant|>');
  } else if (body['prompt'] !== undefined) {
    parts.push(typeof body['prompt'] === 'string' ? body['prompt'] : JSON.stringify(body['prompt']));
  }
  return tokenize(parts.join(' '));
}

const WORDS = ['The', ' agent', ' reads', ' the', ' file', ',', ' runs', ' tests', ' and', ' reports', ' that', ' all', ' checks', ' pass', '.', ' Next', ' it', ' edits', ' one', ' line', ' 🚀'];

/**
 * What the model answers. An agent loop: when tools are offered and the last message is not a
 * tool result, call the first tool; otherwise answer in text, `max_tokens` long (finish
 * `length`) or `defaultMaxTokens` long (finish `stop`).
 */
export function planOutput(body: Record<string, unknown>, defaultMaxTokens: number, seed: string): { pieces: OutputPiece[]; finishReason: string } {
  const tools = body['tools'];
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Record<string, unknown>[]) : [];
  const lastRole = messages.length > 0 ? messages[messages.length - 1]?.['role'] : undefined;
  const maxTokens = typeof body['max_completion_tokens'] === 'number' ? body['max_completion_tokens'] : typeof body['max_tokens'] === 'number' ? body['max_tokens'] : undefined;
  if (Array.isArray(tools) && tools.length > 0 && lastRole !== 'tool') {
    const fn = (tools[0] as Record<string, unknown>)?.['function'] as Record<string, unknown> | undefined;
    const name = typeof fn?.['name'] === 'string' ? fn['name'] : 'tool';
    const args = ['{"', 'query', '":', ' "', `step ${seed.length}`, '"}'];
    const pieces: OutputPiece[] = [{ kind: 'tool', id: `call-${seed}`, name, args: '' }, ...args.map((a): OutputPiece => ({ kind: 'tool', args: a }))];
    return { pieces, finishReason: 'tool_calls' };
  }
  const n = Math.max(1, maxTokens ?? defaultMaxTokens);
  const pieces: OutputPiece[] = [];
  for (let i = 0; i < n; i++) pieces.push({ kind: 'text', text: WORDS[i % WORDS.length] as string });
  return { pieces, finishReason: maxTokens !== undefined ? 'length' : 'stop' };
}

/** Records start here; the engine fills in the timings. */
export function newRecord(id: string, receivedAt: number, fields: Partial<SimRequestRecord>, fault: SimFault | undefined): SimRequestRecord {
  return {
    id,
    programId: undefined,
    stream: false,
    traceparent: undefined,
    includeUsage: false,
    fault,
    receivedAt,
    startedAt: undefined,
    firstTokenAt: undefined,
    lastTokenAt: undefined,
    finishedAt: undefined,
    queueMs: undefined,
    prefillMs: undefined,
    decodeMs: undefined,
    promptTokens: 0,
    cachedTokens: 0,
    completionTokens: 0,
    chunksSent: 0,
    finishReason: undefined,
    ...fields,
  };
}
