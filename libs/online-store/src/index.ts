export * from "./online-store.js";
export { createPostgresOnlineStore, postgresOnlineStorePoolConfig, type PostgresOnlineStoreOptions } from "./postgres.js";
export { createCassandraOnlineStore, writeTimestampMicros, type CassandraOnlineStoreOptions, type ConsistencyName } from "./cassandra.js";
export { createOnlineStore, type OnlineStoreConfig } from "./factory.js";
