// Input batches: the column-batch type and its validation live in @fti/schema,
// shared with ingestion and the record-batch codec.
export { columnViolations, validatedColumns, type ColumnBatch, type FeatureBatch } from "@fti/schema";
