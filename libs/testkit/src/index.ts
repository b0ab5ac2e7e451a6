// Helpers that start real dependencies for tests and benchmarks.
export { startCassandraTestServer, type CassandraTestServer, type CassandraTestServerOptions } from "./cassandra.js";
