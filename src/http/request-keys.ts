/** What the request hook reads off a request's headers and body, small and pure. */

/**
 * A short key of a body (its length and a hash of its first and last 48 characters), for pairing
 * a redirected request with its resend. A fresh string: slices of the body would keep an agent's
 * whole body alive for as long as the step (and promote it to V8's old generation).
 */
export function fingerprintOf(text: string): string {
  let h = 0x811c9dc5;
  const n = text.length;
  for (let i = 0; i < n && i < 48; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  for (let i = Math.max(48, n - 48); i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `${n}:${(h >>> 0).toString(36)}`;
}

export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

export function secondsOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function retryCountOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.length > 0 ? v : undefined;
}
