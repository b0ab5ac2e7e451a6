// Everything the online-serving process reads from its environment.
import { bool, databaseSettings, int, natsSettings, offlineStoreSettings, onlineStoreSettings, registryClientSettings, serverSettings } from "@fti/config";

// With FTI_ONLINE_STORE=postgres the online tables live in the metadata
// database, in the online store's own schema (shared with ingestion), so this
// service needs the URL but keeps no tables (and no schema) of its own.
const { databaseUrl } = databaseSettings("online-serving");

export const onlineServingSettings = {
  ...serverSettings("online-serving"),
  databaseUrl,
  ...natsSettings,
  ...onlineStoreSettings,
  ...offlineStoreSettings,
  ...registryClientSettings,
  metadataResyncIntervalMs: int("FTI_METADATA_RESYNC_INTERVAL_MS", "how often every loaded feature view, model and deployment is re-read from the registry, as a safety net for a missed registry event", 60_000, { min: 1_000 }),
  predictionLogBatchSize: int("FTI_PREDICTION_LOG_BATCH_SIZE", "predictions per published prediction-log batch at most", 500, { min: 1 }),
  predictionLogFlushIntervalMs: int("FTI_PREDICTION_LOG_FLUSH_INTERVAL_MS", "longest time a prediction waits in the log buffer before it is published", 1_000, { min: 10 }),
  predictionLogBufferSize: int("FTI_PREDICTION_LOG_BUFFER_SIZE", "predictions held while NATS is slow or down; beyond this new ones are dropped and counted", 50_000, { min: 1 }),
  preloadDeployments: bool("FTI_PRELOAD_DEPLOYMENTS", "load every deployment's model versions, feature views and fitted transformations at start, before listening; off: each loads on its first request", true),
  modelRetireGraceMs: int("FTI_MODEL_RETIRE_GRACE_MS", "longest time a replaced model version stays loaded for requests still running on it", 30_000, { min: 0 }),
};
