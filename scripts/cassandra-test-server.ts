// Starts or stops the Cassandra 2.1 test node outside a test run, e.g. to keep
// one node up across many `vitest` runs:
//   export FTI_TEST_CASSANDRA=$(npx tsx scripts/cassandra-test-server.ts start)
//   npx tsx scripts/cassandra-test-server.ts stop
// The node's PID and directory are kept in .run/cassandra-test-server.json.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startCassandraTestServer, stopCassandraTestServer } from "@fti/testkit/cassandra";

const pidFile = join(dirname(fileURLToPath(import.meta.url)), "..", ".run", "cassandra-test-server.json");

interface Running { pid: number; dir: string; host: string; port: number }

function running(): Running | undefined {
  if (!existsSync(pidFile)) return undefined;
  const r = JSON.parse(readFileSync(pidFile, "utf8")) as Running;
  try {
    process.kill(r.pid, 0);
    return r;
  } catch {
    rmSync(pidFile, { force: true }); // stale: the node died on its own
    return undefined;
  }
}

async function main(command: string | undefined): Promise<void> {
  if (command === "start") {
    const r = running() ?? (await startCassandraTestServer({ detached: true }));
    mkdirSync(dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, JSON.stringify({ pid: r.pid, dir: r.dir, host: r.host, port: r.port }) + "\n");
    console.log(`${r.host}:${r.port}`);
  } else if (command === "stop") {
    const r = running();
    if (r) await stopCassandraTestServer(r.pid, r.dir);
    rmSync(pidFile, { force: true });
  } else {
    console.error("usage: tsx scripts/cassandra-test-server.ts start|stop");
    process.exitCode = 2;
  }
}

await main(process.argv[2]);
