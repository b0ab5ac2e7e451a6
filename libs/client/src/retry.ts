// Retries with exponential backoff and jitter, for idempotent calls only: a
// read, or a write the server de-duplicates (an ingest batch with a batch id).
// A non-idempotent call is never retried: a timeout there may hide a success.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export interface RetryPolicy {
  /** Attempts in all, the first included. 1 disables retries. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 2_000 };

/** Status codes that say "try again later"; the request did not take effect, or repeating it is harmless. */
const retryable = new Set([Code.Unavailable, Code.ResourceExhausted, Code.Aborted]);

const readMethod = /^(Get|List|Search|Read|Check|Server|Model)/;

/** Whether repeating this exact request is safe. */
export function isIdempotent(methodName: string, request: unknown): boolean {
  if (readMethod.test(methodName)) return true;
  // Writes the server de-duplicates by an id the caller chose.
  const r = request as { batchId?: string; requestId?: string } | undefined;
  if ((methodName === "Ingest" || methodName === "DeleteRows") && r?.batchId) return true;
  if (methodName === "Materialize" && r?.requestId) return true;
  return false;
}

export function retryInterceptor(policy: RetryPolicy = defaultRetryPolicy): Interceptor {
  return (next) => async (req) => {
    if (req.stream || !isIdempotent(req.method.name, req.message)) return next(req);
    let attempt = 1;
    let backoff = policy.initialBackoffMs;
    for (;;) {
      try {
        return await next(req);
      } catch (err) {
        const e = ConnectError.from(err);
        // Aborted means a stale etag for writes; only reads are retried on it.
        const canRetry = retryable.has(e.code) && !(e.code === Code.Aborted && !readMethod.test(req.method.name));
        if (!canRetry || attempt >= policy.maxAttempts || req.signal.aborted) throw err;
        const delay = Math.min(backoff, policy.maxBackoffMs) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay));
        backoff *= 2;
        attempt++;
      }
    }
  };
}
