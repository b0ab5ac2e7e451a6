// Everything the ingestion process reads from its environment.
import { bool, databaseSettings, int, natsSettings, offlineStoreSettings, onlineStoreSettings, registryClientSettings, serverSettings } from "@fti/config";

export const ingestionSettings = {
  ...serverSettings("ingestion"),
  ...databaseSettings("ingestion"),
  ...natsSettings,
  ...offlineStoreSettings,
  ...onlineStoreSettings,
  ...registryClientSettings,
  maxBatchRows: int("FTI_INGEST_MAX_BATCH_ROWS", "largest batch one commit may hold (Ingest, IngestStream, a NATS micro-batch); larger is INVALID_ARGUMENT", 1_000_000, { min: 1 }),
  streamEnabled: bool("FTI_INGEST_STREAM_ENABLED", "consume feature-pipeline streams from NATS (<subject prefix>.ingest.<project>.<group>.<version>)", true),
  microBatchRows: int("FTI_INGEST_MICRO_BATCH_ROWS", "a NATS micro-batch is committed once it holds this many rows", 5_000, { min: 1 }),
  microBatchMs: int("FTI_INGEST_MICRO_BATCH_MS", "a NATS micro-batch is committed at the latest this long after its first message", 20, { min: 1 }),
  streamAckWaitMs: int("FTI_INGEST_STREAM_ACK_WAIT_MS", "unacked NATS messages are redelivered after this long (must exceed a commit's duration)", 30_000, { min: 1_000 }),
  streamDedupRetentionHours: int("FTI_INGEST_STREAM_DEDUP_RETENTION_HOURS", "how long message ids of committed NATS messages are remembered to drop redeliveries and re-publishes", 48, { min: 1 }),
  materializeMaxRowsPerSecond: int("FTI_MATERIALIZE_MAX_ROWS_PER_SECOND", "rate limit of materialization jobs, to protect the online store; 0 means unlimited", 0, { min: 0 }),
  relayPollIntervalMs: int("FTI_OUTBOX_POLL_INTERVAL_MS", "how often the event relay and the materialization worker look for work left by other replicas or before a restart", 1_000, { min: 10 }),
  migrateOnly: bool("FTI_MIGRATE_ONLY", "apply the schema migrations, then exit 0 without serving (the Helm pre-install/pre-upgrade Job)", false),
};
