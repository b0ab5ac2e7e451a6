// @fti/client — the TypeScript SDK of the FTI Platform.
export { createFtiClient, type FtiClient, type FtiClientOptions } from "./client.js";
export { defaultRetryPolicy, isIdempotent, retryInterceptor, type RetryPolicy } from "./retry.js";
export { recordBatchToRows, rowsToRecordBatch } from "./rows.js";
