/**
 * The request headers of an undici dispatch, in any of the shapes undici accepts (a plain
 * object, as Node's `fetch` passes them; a flat `[name, value, …]` array; an iterable of pairs),
 * read and rewritten as one flat array. Pure.
 */

/** Request headers as undici's `DispatchOptions.headers` allows them. */
export type DispatchHeaders =
  | Record<string, string | string[] | undefined>
  | (string | Buffer)[]
  | Iterable<[string, string | string[] | undefined]>
  | null
  | undefined;

/** A flat `[name, value, name, value, …]` list, names as given. */
export type FlatHeaders = string[];

/** Copies any header shape into a flat list. */
export function toFlatHeaders(headers: DispatchHeaders): FlatHeaders {
  const out: FlatHeaders = [];
  if (headers == null) return out;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out.push(String(headers[i]), String(headers[i + 1]));
    return out;
  }
  const pairs = isIterable(headers) ? headers : Object.entries(headers);
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v));
    else out.push(name, String(value));
  }
  return out;
}

/** The first value of header `lowerName` (case-insensitive), if any. */
export function getHeader(headers: FlatHeaders, lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (isName(headers[i] as string, lowerName)) return headers[i + 1];
  }
  return undefined;
}

/**
 * Whether `name` is `lowerName` in any case. Only a name of the same length can be: the others
 * (most of a request's headers, for each name looked up) are not lower-cased to be compared.
 */
function isName(name: string, lowerName: string): boolean {
  return name.length === lowerName.length && (name === lowerName || name.toLowerCase() === lowerName);
}

/** Sets header `lowerName`, replacing every existing value (case-insensitive). */
export function setHeader(headers: FlatHeaders, lowerName: string, value: string): void {
  removeHeader(headers, lowerName);
  headers.push(lowerName, value);
}

/** Removes every value of header `lowerName` (case-insensitive). */
export function removeHeader(headers: FlatHeaders, lowerName: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (isName(headers[i] as string, lowerName)) headers.splice(i, 2);
  }
}

function isIterable(v: object): v is Iterable<[string, string | string[] | undefined]> {
  return typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
