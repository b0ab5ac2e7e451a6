// Everything the registry process reads from its environment.
import { bool, databaseSettings, int, natsSettings, offlineStoreSettings, serverSettings } from "@fti/config";

export const registrySettings = {
  ...serverSettings("registry"),
  ...databaseSettings("registry"),
  ...natsSettings,
  ...offlineStoreSettings,
  relayPollIntervalMs: int("FTI_OUTBOX_POLL_INTERVAL_MS", "how often the outbox relay looks for events committed by other replicas or before a restart", 1_000, { min: 10 }),
  migrateOnly: bool("FTI_MIGRATE_ONLY", "apply the schema migrations, then exit 0 without serving (the Helm pre-install/pre-upgrade Job)", false),
};
