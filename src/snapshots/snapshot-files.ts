/**
 * Names of raw captures on disk, as the reference's tool writes them:
 * `{request_id}_{before|after}_{YYYYMMDD_HHMMSS_micro}.txt` (UTC). Request ids come from engines
 * and clients, so they are made safe first: only `[A-Za-z0-9._-]`, no `..`, no leading dot, at
 * most 128 characters; an id that had to change keeps its head and a hash of the whole. Pure.
 */

export type Stage = 'before' | 'after';

const MAX_ID = 128;
const NAME = /^(.+)_(before|after)_(\d{8}_\d{6}_\d{6})\.txt$/;

/** A request id safe as a file name's first part. */
export function safeRequestId(id: string): string {
  let s = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/\.\.+/g, '_');
  if (s.startsWith('.')) s = `_${s.slice(1)}`;
  // An id that had to change keeps a hash of the original: two ids never share a name.
  if (s !== id || s.length === 0 || s.length > MAX_ID) s = `${s.slice(0, MAX_ID - 17)}_${hash(id)}`;
  return s;
}

/** `YYYYMMDD_HHMMSS_micro` of epoch ms `t`, UTC. */
export function captureStamp(t: number): string {
  const d = new Date(Math.floor(t));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const micro = Math.floor((t - Math.floor(t / 1000) * 1000) * 1000);
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}_${p(Math.min(micro, 999_999), 6)}`;
}

/** A capture's file name. */
export function captureFileName(requestId: string, stage: Stage, t: number): string {
  return `${safeRequestId(requestId)}_${stage}_${captureStamp(t)}.txt`;
}

/** What a capture's file name says, or undefined for other files. */
export function parseCaptureFileName(name: string): { requestId: string; stage: Stage; stamp: string } | undefined {
  const m = NAME.exec(name);
  return m === null ? undefined : { requestId: m[1] as string, stage: m[2] as Stage, stamp: m[3] as string };
}

/** Epoch ms of a stamp (for retention by age when a file's own times are unknown). */
export function stampTime(stamp: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(\d{6})$/.exec(stamp);
  if (m === null) return NaN;
  const [, y, mo, d, h, mi, s, us] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) + (us as number) / 1000;
}

/** 16 hex digits of FNV-1a over the id's UTF-16 units (two 32-bit lanes). */
function hash(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ s.charCodeAt(i), 0x811c9dc5);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
