/**
 * Whether one whole SSE event is the usage-only completion chunk an engine adds when asked for
 * usage. Pure.
 */
import { Buffer } from 'node:buffer';
import { indexOfBytes } from './bytes.js';

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
  if (indexOfBytes(bytes, USAGE_KEY, 0) === -1) return false;
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

const CHOICES_KEY = Buffer.from('choices"', 'latin1');
/** A stream whose events put their choices in different places is not learnt for long. */
const MAX_LEARNT = 4;

/**
 * Where the events of one stream carry their `choices` array. Engines write every event of a
 * stream with the same head (id, object, created, model), so the key sits at the same offset in
 * each: an event with `"choices":[{` there (a key, after `{` or `,`, with an object in its array)
 * carries a choice, so it is not usage-only, and it needs no search for usage. A usage-only event
 * has `[]` there, and an event laid out otherwise does not match: both are searched as before.
 */
export class ChoicesAt {
  /** Offset of the key's opening quote, and of the `{` that opens its first choice (-1: none). */
  private _at = -1;
  private _brace = -1;
  private _learnt = 0;

  /** Whether `event` (one whole `data:` line event) has a choice where the stream's events have theirs. */
  carriesChoice(event: Buffer): boolean {
    const at = this._at;
    const brace = this._brace;
    if (at < 1 || brace >= event.length || event[brace] !== 123 || event[at] !== 34) return false;
    const before = event[at - 1];
    if (before !== 123 && before !== 44 && before !== 32) return false;
    // `choices"`, byte by byte (a loop over the key's bytes reads two arrays per byte).
    if (event[at + 1] !== 99 || event[at + 2] !== 104 || event[at + 3] !== 111 || event[at + 4] !== 105 || event[at + 5] !== 99 || event[at + 6] !== 101 || event[at + 7] !== 115 || event[at + 8] !== 34) return false;
    // Between the key and the brace: white space, one colon, white space, one bracket, white space.
    if (brace === at + 11) return event[at + 9] === 58 && event[at + 10] === 91; // `:[`, as most engines write it
    let colon = false;
    let bracket = false;
    for (let i = at + 9; i < brace; i++) {
      const c = event[i] as number;
      if (c === 58 && !colon && !bracket) colon = true;
      else if (c === 91 && colon && !bracket) bracket = true;
      else if (c !== 32 && c !== 9 && c !== 13) return false;
    }
    return bracket;
  }

  /** Takes the place of the choices in `event` (an event without usage that carries a choice). */
  learn(event: Buffer): void {
    if (this._learnt >= MAX_LEARNT) return;
    this._learnt++;
    const k = indexOfBytes(event, CHOICES_KEY, 0);
    if (k < 1 || event[k - 1] !== 34) return;
    let i = k + CHOICES_KEY.length;
    while (event[i] === 32 || event[i] === 9 || event[i] === 13) i++;
    if (event[i] !== 58) return;
    i++;
    while (event[i] === 32 || event[i] === 9 || event[i] === 13) i++;
    if (event[i] !== 91) return;
    i++;
    while (event[i] === 32 || event[i] === 9 || event[i] === 13) i++;
    if (event[i] !== 123) return;
    this._at = k - 1;
    this._brace = i;
    if (!this.carriesChoice(event)) this._at = this._brace = -1;
  }
}
