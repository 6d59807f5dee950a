/**
 * Reads chosen top-level fields of a JSON object without parsing the rest. Pure.
 *
 * The request hook needs a completion body's model, stream flags, program id and sampling
 * parameters, a few hundred bytes, while an agent's body is its whole context: tens or hundreds
 * of KiB of messages. `JSON.parse` builds all of it (~230 µs for 100 KiB here); this walks the
 * top level, jumps over every other value (strings by a native search for their closing quote)
 * and parses only the wanted values, with `JSON.parse`, so each one reads exactly as it would in
 * the whole document (a repeated key: the last one wins, as in `JSON.parse`).
 *
 * Values it jumps over are delimited, not validated: a body that `JSON.parse` rejects deep
 * inside a skipped value may still give its fields here (the engine rejects such a body anyway).
 */

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const BOM = 0xfeff;

/**
 * The wanted fields' values when `text` is a JSON object (a field absent from the text is absent
 * from the result), or undefined when it is not one. With `spans`, where each wanted member's
 * value is, in text order (a repeated key listed each time), from the same single walk.
 */
export function readTopLevelFields(text: string, wanted: ReadonlySet<string>, spans?: MemberSpan[]): Record<string, unknown> | undefined {
  try {
    return scan(text, wanted, spans);
  } catch {
    return undefined; // a wanted value that is not JSON
  }
}

/** A member of a JSON object: its (decoded) key and where its value's text is. */
export interface MemberSpan {
  key: string;
  valueStart: number;
  valueEnd: number;
}

/**
 * The members of the JSON object whose `{` is at `open`, in text order (a repeated key is
 * listed each time), or undefined when the text there is not a well-delimited object.
 */
export function objectMembers(text: string, open: number): MemberSpan[] | undefined {
  try {
    const members: MemberSpan[] = [];
    return walk(text, open, (key, valueStart, valueEnd) => members.push({ key, valueStart, valueEnd })) === -1 ? undefined : members;
  } catch {
    return undefined;
  }
}

/** Index of a body's opening brace: after an optional byte order mark and white space. */
export function bodyStart(text: string): number {
  return skipWs(text, text.charCodeAt(0) === BOM ? 1 : 0);
}

function scan(text: string, wanted: ReadonlySet<string>, spans: MemberSpan[] | undefined): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const end = walk(text, bodyStart(text), (key, valueStart, valueEnd) => {
    if (!wanted.has(key)) return;
    out[key] = JSON.parse(text.slice(valueStart, valueEnd));
    spans?.push({ key, valueStart, valueEnd });
  });
  return end !== -1 && skipWs(text, end) === text.length ? out : undefined;
}

/**
 * Walks the members of the object whose `{` is at `start`, calling `member` for each; returns
 * the index just past its `}`, or -1 when it is not a well-delimited object.
 */
function walk(text: string, start: number, member: (key: string, valueStart: number, valueEnd: number) => void): number {
  let i = start;
  if (text.charCodeAt(i) !== OPEN_BRACE) return -1;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return -1;
    const keyEnd = stringEnd(text, i);
    if (keyEnd === -1) return -1;
    const rawKey = text.slice(i + 1, keyEnd - 1);
    const key = rawKey.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : rawKey;
    i = skipWs(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return -1;
    const valueStart = skipWs(text, i + 1);
    const valueEnd = valueEndAt(text, valueStart);
    if (valueEnd === -1) return -1;
    member(key, valueStart, valueEnd);
    i = skipWs(text, valueEnd);
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) return -1;
    i = skipWs(text, i + 1);
  }
}

/** Index just past the string whose opening quote is at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let q = text.indexOf('"', start + 1);
  while (q !== -1) {
    let backslashes = 0;
    for (let k = q - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if ((backslashes & 1) === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
  return -1;
}

/** Index just past the value starting at `start`, or -1 when it does not end. */
function valueEndAt(text: string, start: number): number {
  const c = text.charCodeAt(start);
  if (c === QUOTE) return stringEnd(text, start);
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    // A number, true, false or null: up to the next delimiter (JSON.parse judges it if wanted).
    let i = start;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d <= 32) break;
      i++;
    }
    return i > start ? i : -1;
  }
  // An object or array: count brackets outside strings, jumping over each string at once.
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === QUOTE) {
      const end = stringEnd(text, i);
      if (end === -1) return -1;
      i = end - 1;
    } else if (d === OPEN_BRACE || d === OPEN_BRACKET) {
      depth++;
    } else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}
