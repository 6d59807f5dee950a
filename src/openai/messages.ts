/**
 * OpenAI chat messages in the GenAI conventions' structured form (`gen_ai.input.messages`,
 * `gen_ai.output.messages`: role plus typed parts). Only used when content capture is on.
 */
import type { OutputMessage } from './completion-reader.js';

interface Part {
  type: 'text' | 'tool_call' | 'tool_call_response';
  content?: unknown;
  id?: string;
  name?: string;
  arguments?: unknown;
  response?: unknown;
}

interface GenAiMessage {
  role: string;
  parts: Part[];
  finish_reason?: string;
}

/** The request's messages (chat) or prompt (completions) as `gen_ai.input.messages` JSON. */
export function inputMessagesJson(body: Record<string, unknown>): string | undefined {
  const messages = body['messages'];
  if (Array.isArray(messages)) return JSON.stringify(messages.map(toGenAiMessage));
  const prompt = body['prompt'];
  if (prompt !== undefined) return JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: prompt }] }]);
  return undefined;
}

/** The assembled answer as `gen_ai.output.messages` JSON. */
export function outputMessagesJson(output: OutputMessage, finishReason: string | undefined): string {
  const parts: Part[] = [];
  if (output.content) parts.push({ type: 'text', content: output.content });
  for (const call of output.toolCalls) {
    if (!call) continue;
    const part: Part = { type: 'tool_call', arguments: call.arguments };
    if (call.id !== undefined) part.id = call.id;
    if (call.name !== undefined) part.name = call.name;
    parts.push(part);
  }
  const message: GenAiMessage = { role: output.role, parts };
  if (finishReason !== undefined) message.finish_reason = finishReason;
  return JSON.stringify([message]);
}

function toGenAiMessage(m: unknown): GenAiMessage {
  if (m === null || typeof m !== 'object') return { role: 'user', parts: [{ type: 'text', content: m }] };
  const msg = m as Record<string, unknown>;
  const role = typeof msg['role'] === 'string' ? msg['role'] : 'user';
  const parts: Part[] = [];
  if (role === 'tool') {
    const part: Part = { type: 'tool_call_response', response: msg['content'] };
    if (typeof msg['tool_call_id'] === 'string') part.id = msg['tool_call_id'];
    return { role, parts: [part] };
  }
  if (msg['content'] != null) parts.push({ type: 'text', content: msg['content'] });
  if (Array.isArray(msg['tool_calls'])) {
    for (const tc of msg['tool_calls'] as Record<string, unknown>[]) {
      const fn = (tc?.['function'] ?? {}) as Record<string, unknown>;
      const part: Part = { type: 'tool_call', arguments: fn['arguments'] };
      if (typeof tc?.['id'] === 'string') part.id = tc['id'];
      if (typeof fn['name'] === 'string') part.name = fn['name'];
      parts.push(part);
    }
  }
  return { role, parts };
}
