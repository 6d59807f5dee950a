/**
 * Whether one whole SSE event is the usage-only completion chunk an engine adds when asked for
 * usage. Pure.
 */
import { Buffer } from 'node:buffer';

/**
 * What an event with usage contains, searched for without its opening quote: quotes are the most
 * common byte of JSON, and a native search for a needle that starts with one crawls (8x slower
 * on a 48 KiB read). Inside a JSON string the quote would be escaped, so this matches keys.
 */
export const USAGE_KEY = Buffer.from('usage"', 'latin1');

/**
 * Whether `bytes` (one whole SSE event) is a usage-only completion chunk: no `event:` field of
 * its own, and data that is a JSON object with an empty `choices` array and a `usage` object.
 */
export function isUsageOnlyEvent(bytes: Buffer): boolean {
  if (bytes.indexOf(USAGE_KEY) === -1) return false;
  const text = bytes.toString('utf8');
  let data: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0 || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') return false;
  }
  if (data === undefined) return false;
  let o: unknown;
  try {
    o = JSON.parse(data);
  } catch {
    return false;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  const { choices, usage } = o as { choices?: unknown; usage?: unknown };
  return Array.isArray(choices) && choices.length === 0 && usage !== null && typeof usage === 'object' && !Array.isArray(usage);
}
