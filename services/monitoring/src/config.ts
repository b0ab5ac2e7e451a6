// Everything the monitoring process reads from its environment.
import { bool, databaseSettings, int, natsSettings, offlineStoreSettings, registryClientSettings, serverSettings } from "@fti/config";

export const monitoringSettings = {
  ...serverSettings("monitoring"),
  ...databaseSettings("monitoring"),
  ...natsSettings,
  ...offlineStoreSettings,
  ...registryClientSettings,
  evaluationIntervalMs: int("FTI_MONITORING_EVALUATION_INTERVAL_MS", "how often closed windows are looked for and judged for drift, performance and alerts", 10_000, { min: 10 }),
  windowSettleMs: int("FTI_MONITORING_WINDOW_SETTLE_MS", "how long a window whose end (plus allowed lateness) has passed must stay unchanged before it is judged; newer rows close it at once", 10_000, { min: 0 }),
  allowedLatenessMs: int("FTI_MONITORING_ALLOWED_LATENESS_MS", "how long after its end a window still waits for late rows before it is judged (by the clock, or by newer rows arriving)", 60_000, { min: 0 }),
  relayPollIntervalMs: int("FTI_OUTBOX_POLL_INTERVAL_MS", "how often the outbox relay looks for alert events committed by other replicas or before a restart", 1_000, { min: 10 }),
  migrateOnly: bool("FTI_MIGRATE_ONLY", "apply the schema migrations, then exit 0 without serving", false),
};
