// The benchmark's streamed completion, as vLLM writes it: `chunks` content events (the last with
// its finish reason), then one event carrying usage and `[DONE]`, each string one write.
export function completionEvents(chunks) {
  const head = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1770000000,"model":"bench","choices":[{"index":0,"delta":{"content":"';
  const tail = '"},"logprobs":null,"finish_reason":null}]}';
  const events = [];
  for (let i = 0; i < chunks; i++) events.push(`data: ${head} tok${i}${tail}\n\n`);
  events[chunks - 1] = events[chunks - 1].replace('"finish_reason":null', '"finish_reason":"length"');
  events.push(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1770000000,"model":"bench","choices":[],"usage":{"prompt_tokens":64,"total_tokens":${64 + chunks},"completion_tokens":${chunks},"prompt_tokens_details":{"cached_tokens":48}}}\n\ndata: [DONE]\n\n`);
  return events;
}

/** One socket read holding `events` back to back, as undici hands them over: a view per event. */
export function readOf(events) {
  const read = Buffer.from(events.join(''));
  const chunks = [];
  for (let off = 0, i = 0; i < events.length; i++) {
    const n = Buffer.byteLength(events[i]);
    chunks.push(read.subarray(off, off + n));
    off += n;
  }
  return chunks;
}

const RAW_HEADERS = [Buffer.from('content-type'), Buffer.from('text/event-stream; charset=utf-8')];

/**
 * A dispatch that answers at once with `chunks` through the legacy handler API (the one Node 20's
 * fetch speaks): connected, a 200 event stream, every chunk, complete.
 */
export function replayOf(chunks) {
  return (_opts, handler) => {
    handler.onConnect?.(() => {});
    handler.onHeaders(200, RAW_HEADERS, () => {}, 'OK');
    for (const c of chunks) handler.onData(c);
    handler.onComplete([]);
    return true;
  };
}
