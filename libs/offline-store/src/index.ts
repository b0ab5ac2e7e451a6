// The offline store: feature group history as Delta Lake tables (Parquet data
// files + `_delta_log` JSON commits) under an object-store root, read and
// written with DuckDB.
export { createOfflineStore, type OfflineStore, type OfflineStoreOptions } from "./offline-store.js";
export {
  DeltaTable,
  pruneScan,
  tableKey,
  type AsOf,
  type CommitOptions,
  type CommitResult,
  type CommitSummary,
  type ReadOptions,
  type ScanFile,
  type ScanFilter,
  type ScanPlan,
  type TableId,
  type VacuumResult,
} from "./delta-table.js";
export { createLocalObjectStore, type ObjectInfo, type ObjectStore } from "./object-store.js";
export { columnViolations, validatedColumns, type ColumnBatch, type FeatureBatch } from "./batch.js";
export { mayContainAnyKey, mayOverlapTime, parseStats, type FileStats, type StatValue, type TimeRange } from "./stats.js";
export type { DataFile, Snapshot } from "./snapshot.js";
export * as delta from "./delta-protocol.js";
export { parquetSqlType } from "./duckdb-types.js";
