/**
 * Key scans over one completion event's JSON, for the stream reader's tail: what a few keys hold,
 * found without parsing the event. Sound on JSON text: a quote inside a string value is always
 * escaped, so a quoted key cannot match inside content. Pure.
 */
import type { Buffer } from 'node:buffer';

/** Adds a finish reason once (a string, not empty). */
export function addFinishReason(into: string[], reason: unknown): void {
  if (typeof reason === 'string' && reason && !into.includes(reason)) into.push(reason);
}

/** Whether bytes `[start, end)` look like one JSON object (braces at both ends, white space aside). */
export function looksLikeObject(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && (buf[i] as number) <= 32) i++;
  let j = end - 1;
  while (j > i && (buf[j] as number) <= 32) j--;
  return buf[i] === 123 && buf[j] === 125;
}

/**
 * Index just past the key that `name` ends (a key's name and its closing quote: `usage"`) and the
 * following colon (white space allowed), or -1. The search leaves out the opening quote, checked
 * after: quotes are JSON's most common byte, and a search whose needle starts with one stops at
 * every quote (the eight tail events' scans cost ~25 K instructions per stream with it).
 */
function valueIndex(data: string, name: string, from = 0): number {
  const k = data.indexOf(name, from);
  if (k === -1) return -1;
  let i = k + name.length;
  if (data.charCodeAt(k - 1) !== 34) return valueIndex(data, name, i);
  while (i < data.length && data.charCodeAt(i) <= 32) i++;
  if (data.charCodeAt(i) !== 58) return valueIndex(data, name, k + name.length);
  i++;
  while (i < data.length && data.charCodeAt(i) <= 32) i++;
  return i;
}

/** Whether the key that `name` ends (`usage"`: its name and closing quote) holds an object. */
export function hasObjectValue(data: string, name: string): boolean {
  const i = valueIndex(data, name);
  return i !== -1 && data.charCodeAt(i) === 123;
}

/** Whether `choices` holds a non-empty array. */
export function choicesNotEmpty(data: string): boolean {
  const i = valueIndex(data, 'choices"');
  if (i === -1 || data.charCodeAt(i) !== 91) return false;
  let j = i + 1;
  while (j < data.length && data.charCodeAt(j) <= 32) j++;
  return j < data.length && data.charCodeAt(j) !== 93;
}

/** Adds every string `finish_reason` in `data`. */
export function scanFinishReasons(data: string, into: string[]): void {
  let from = 0;
  for (;;) {
    const i = valueIndex(data, 'finish_reason"', from);
    if (i === -1) return;
    from = i;
    if (data.charCodeAt(i) !== 34) continue; // null
    const end = data.indexOf('"', i + 1);
    if (end === -1) return;
    addFinishReason(into, data.slice(i + 1, end));
    from = end + 1;
  }
}
