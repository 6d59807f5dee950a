// The body of an agent's request after a few dozen tool calls, for the benches.

/** An agent's request after a few dozen tool calls: ~96 KiB of conversation. */
export function agentMessages() {
  const messages = [{ role: 'system', content: 'You are a software agent. '.repeat(80) }];
  for (let i = 0; messages.reduce((n, m) => n + m.content.length, 0) < 96 * 1024; i++) {
    messages.push({ role: 'user', content: `Step ${i}: run the tests and report. ` + 'log line '.repeat(120) });
    messages.push({ role: 'assistant', content: `Ran step ${i}; ` + 'output '.repeat(100) });
  }
  return messages;
}
