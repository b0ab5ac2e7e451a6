// Starts one Cassandra 2.1 test node for the whole test run, unless
// FTI_TEST_CASSANDRA (host:port) already points at one, e.g. a node started
// with `npx tsx scripts/cassandra-test-server.ts start` or a CI service.
// Tests read FTI_TEST_CASSANDRA; test workers inherit it from this process.
import { startCassandraTestServer, type CassandraTestServer } from "@fti/testkit/cassandra";

let server: CassandraTestServer | undefined;

export async function setup(): Promise<void> {
  if (process.env.FTI_TEST_CASSANDRA) return;
  server = await startCassandraTestServer();
  process.env.FTI_TEST_CASSANDRA = `${server.host}:${server.port}`;
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
