// The offline store: Delta tables under one storage root, one DuckDB instance
// shared by every table for writing and reading Parquet.
import { DuckDBInstance } from "@duckdb/node-api";
import { silentLogger, type Logger } from "@fti/logger";
import type { FeatureGroupSchema } from "@fti/schema";
import { DeltaTable, type TableId } from "./delta-table.js";
import { createLocalObjectStore, type ObjectStore } from "./object-store.js";

export interface OfflineStoreOptions {
  /** The local root directory (OFFLINE_ROOT). Ignored when `objectStore` is given. */
  root?: string;
  objectStore?: ObjectStore;
  /** A DuckDB instance to share; one in-memory instance is created (and closed by close()) otherwise. */
  duckdb?: DuckDBInstance;
  logger?: Logger;
}

export interface OfflineStore {
  readonly objectStore: ObjectStore;
  /** A handle on a feature group version's table; it need not exist yet. Handles are cheap and independent. */
  table(id: TableId): DeltaTable;
  /** Creates the table (version 0) from the feature group's schema. AlreadyExistsError when it exists. */
  createTable(id: TableId, schema: FeatureGroupSchema, options?: { description?: string }): Promise<DeltaTable>;
  close(): void;
}

export async function createOfflineStore(options: OfflineStoreOptions): Promise<OfflineStore> {
  const objectStore = options.objectStore ?? (options.root ? createLocalObjectStore(options.root) : undefined);
  if (!objectStore) throw new Error("createOfflineStore needs a root directory or an object store");
  const ownsDuckDB = !options.duckdb;
  const duckdb = options.duckdb ?? (await DuckDBInstance.create(":memory:"));
  const logger = options.logger ?? silentLogger;
  const deps = { store: objectStore, duckdb, logger };
  return {
    objectStore,
    table: (id) => new DeltaTable(deps, id),
    async createTable(id, schema, createOptions) {
      const table = new DeltaTable(deps, id);
      await table.create(schema, createOptions);
      return table;
    },
    close() {
      if (ownsDuckDB) duckdb.closeSync();
    },
  };
}
