// Rows ↔ RecordBatch, for pipeline code that thinks in rows. Large batches are
// better built column-wise with @fti/record-batch directly.
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { decodeRecordBatch, recordBatchMessage } from "@fti/record-batch";
import { columnsToRows, type FeatureType, type Row } from "@fti/schema";

/** A RecordBatch of `rows`, one column per entry of `types` (missing values are null). */
export function rowsToRecordBatch(rows: readonly Row[], types: Record<string, FeatureType>): RecordBatch {
  const columns = Object.entries(types).map(([name, type]) => ({ name, type, values: rows.map((r) => r[name] ?? null) }));
  return recordBatchMessage(rows.length, columns);
}

/** The rows of a RecordBatch (int64 as bigint, timestamps as Date, nulls as null). */
export function recordBatchToRows(batch: RecordBatch): Row[] {
  return columnsToRows(decodeRecordBatch(batch, "batch"));
}
