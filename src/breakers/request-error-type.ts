/**
 * TinyLLM's closed `error_type` set, from a step's `error.type`, and which failures are the
 * backend's (they feed its breaker). Pure.
 */
import * as sc from '../semconv.js';

/** Maps a step's `error.type` to TinyLLM's closed `error_type` set. */
export function requestErrorType(errorType: string): sc.RequestErrorType {
  if (/^4\d\d$/.test(errorType)) return sc.REQUEST_ERROR_HTTP_4XX;
  if (/^5\d\d$/.test(errorType)) return sc.REQUEST_ERROR_HTTP_5XX;
  if (errorType === sc.ERROR_TYPE_MALFORMED_RESPONSE) return sc.REQUEST_ERROR_MALFORMED_RESPONSE;
  if (errorType === 'AbortError' || errorType === 'UND_ERR_ABORTED' || errorType === 'RequestAbortedError') return sc.REQUEST_ERROR_ABORTED;
  if (/TIMEOUT|TimeoutError|ETIMEDOUT/i.test(errorType)) return sc.REQUEST_ERROR_TIMEOUT;
  return sc.REQUEST_ERROR_CONNECTION;
}

/** Whether a failure is the backend's (it feeds the breaker): not an abort, not a 4xx. */
export function isBackendFailure(type: sc.RequestErrorType): boolean {
  return type !== sc.REQUEST_ERROR_ABORTED && type !== sc.REQUEST_ERROR_HTTP_4XX;
}
