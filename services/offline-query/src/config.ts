// Everything the offline-query process reads from its environment.
import { databaseSettings, int, natsSettings, offlineStoreSettings, registryClientSettings, serverSettings, str } from "@fti/config";

export const offlineQuerySettings = {
  ...serverSettings("offline-query"),
  ...databaseSettings("offline-query"),
  ...natsSettings,
  ...offlineStoreSettings,
  ...registryClientSettings,
  duckdbThreads: int("FTI_DUCKDB_THREADS", "Threads working on offline queries (DuckDB gets one more, for fetching streamed results); 0: one per core", 0, { min: 0, max: 1024 }),
  duckdbMemoryLimit: {
    ...str("FTI_DUCKDB_MEMORY_LIMIT", "DuckDB memory limit: an absolute size (e.g. 2GB, 512MB) or a share of the machine's memory (e.g. 75%); joins larger than this spill to FTI_DUCKDB_TEMP_DIRECTORY", "75%"),
    parse(raw: string) {
      if (!/^\s*\d+(\.\d+)?\s*(%|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i.test(raw)) throw new Error(`expected a size like 2GB or a share like 75%, got "${raw}"`);
      return raw.trim();
    },
  },
  duckdbTempDirectory: str("FTI_DUCKDB_TEMP_DIRECTORY", "where DuckDB spills joins larger than memory and spools streamed entity rows; empty: a directory under the system temp dir", ""),
  maxConcurrentQueries: int("FTI_MAX_CONCURRENT_QUERIES", "point-in-time queries run at once; more wait their turn, so memory stays bounded", 2, { min: 1, max: 256 }),
  trainingDatasetWorkers: int("FTI_TRAINING_DATASET_WORKERS", "training dataset jobs this process runs at once (0: accept jobs but let other replicas run them)", 1, { min: 0, max: 64 }),
  jobPollIntervalMs: int("FTI_JOB_POLL_INTERVAL_MS", "how often idle workers look for queued training dataset jobs", 1_000, { min: 10 }),
  jobHeartbeatTimeoutMs: int("FTI_JOB_HEARTBEAT_TIMEOUT_MS", "a RUNNING job whose worker has not reported for this long is taken over by another worker", 60_000, { min: 1_000 }),
};
