/**
 * A request body asking for usage (`stream_options.include_usage`), spliced into the
 * application's own bytes or text: never re-serialised. Pure.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { includeUsageSplice, type BodyLayout } from './request-body.js';

/** A splice this far into the body joins the head into one small part with the field. */
const SMALL_HEAD = 4096;
/** Bodies shorter than this are sent as one buffer: the copy costs less than the extra write (bench/clients.mjs). */
export const CONCAT_BELOW = 16 * 1024;

/**
 * The body asking for usage, spliced into the application's own bytes or text (never
 * re-serialised), or undefined to send it as it is. Bytes that are not valid UTF-8 are left
 * alone: their text would not map back to them byte for byte.
 */
export function withIncludeUsage(text: string, bytes: Buffer | undefined, layout: BodyLayout | undefined): Buffer[] | string | undefined {
  const splice = includeUsageSplice(text, layout);
  if (splice === undefined) return undefined;
  const [at, field] = splice;
  if (bytes === undefined) return text.slice(0, at) + field + text.slice(at);
  if (!isUtf8(bytes)) return undefined;
  const byteAt = Buffer.byteLength(text.slice(0, at), 'utf8');
  // Usually the field goes right after the opening brace: the head and the field make one small
  // part (written with the request's headers), the application's bytes after it are not copied.
  if (byteAt <= SMALL_HEAD) return [Buffer.concat([bytes.subarray(0, byteAt), Buffer.from(field, 'latin1')]), bytes.subarray(byteAt)];
  return [bytes.subarray(0, byteAt), Buffer.from(field, 'latin1'), bytes.subarray(byteAt)];
}
