// Everything the training-runner process reads from its environment.
import { bool, databaseSettings, int, natsSettings, offlineStoreSettings, registryClientSettings, serverSettings, str } from "@fti/config";

export const trainingRunnerSettings = {
  ...serverSettings("training-runner"),
  ...databaseSettings("training-runner"),
  ...natsSettings,
  ...offlineStoreSettings,
  ...registryClientSettings,
  offlineQueryAddress: str("FTI_OFFLINE_QUERY_ADDRESS", "host:port of offline-query's gRPC listener, for jobs that create their training dataset", "127.0.0.1:50053"),
  maxConcurrentJobs: int("FTI_TRAINING_MAX_CONCURRENT_JOBS", "training jobs this process runs at once; more wait QUEUED", 2, { min: 1, max: 64 }),
  jobPollIntervalMs: int("FTI_TRAINING_JOB_POLL_INTERVAL_MS", "how often the runner looks for queued jobs, due schedules and closed trigger windows", 1_000, { min: 10 }),
  staleJobAfterMs: int("FTI_TRAINING_STALE_JOB_AFTER_MS", "a RUNNING job whose runner has not reported for this long (crashed, killed) is marked FAILED", 60_000, { min: 100 }),
  workDir: str("FTI_TRAINING_WORK_DIR", "scratch directory for external trainers' inputs and outputs (deleted after each job)", "/tmp/fti-training"),
  migrateOnly: bool("FTI_MIGRATE_ONLY", "apply the schema migrations, then exit 0 without serving (the Helm pre-install/pre-upgrade Job)", false),
};
