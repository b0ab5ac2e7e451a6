// Picks the adapter from configuration (ONLINE_STORE_TYPE and friends, parsed
// by the service's config): Postgres for one machine, Cassandra/ScyllaDB for scale.
import type { Logger } from "@fti/logger";
import { createCassandraOnlineStore, type CassandraOnlineStoreOptions } from "./cassandra.js";
import type { OnlineStore } from "./online-store.js";
import { createPostgresOnlineStore, type PostgresOnlineStoreOptions } from "./postgres.js";

export type OnlineStoreConfig =
  | ({ type: "postgres" } & Omit<PostgresOnlineStoreOptions, "logger">)
  | ({ type: "cassandra" } & Omit<CassandraOnlineStoreOptions, "logger">);

export function createOnlineStore(config: OnlineStoreConfig, logger?: Logger): OnlineStore {
  switch (config.type) {
    case "postgres":
      return createPostgresOnlineStore({ ...config, logger });
    case "cassandra":
      return createCassandraOnlineStore({ ...config, logger });
  }
}
