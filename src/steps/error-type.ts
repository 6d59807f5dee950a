/**
 * A low-cardinality `error.type` for a failed request, as the HTTP and GenAI conventions ask:
 * the error's code (undici's `UND_ERR_*`, Node's `ECONNREFUSED`), else its class name.
 */
import { ERROR_TYPE_OTHER } from '../semconv.js';

export function errorTypeOf(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(e.code)) return e.code;
    // fetch wraps network errors as TypeError('fetch failed') with the real one as `cause`.
    if (e.cause !== undefined && e.name === 'TypeError') return errorTypeOf(e.cause);
    if (typeof e.name === 'string' && e.name.length > 0 && e.name.length <= 64 && e.name !== 'Error') return e.name;
  }
  return ERROR_TYPE_OTHER;
}
