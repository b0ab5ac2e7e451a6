// A registry on port 0 against its own Postgres schema and its own NATS
// stream and subject prefix, with a grpc-js client, for integration tests.
import { fileURLToPath } from "node:url";
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { connectNats, type NatsConnection } from "@fti/events";
import { silentLogger } from "@fti/logger";
import { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import { grpcChannel, unary } from "../../../libs/server/test/grpc-client.js";
import { build, type RunningRegistry } from "../src/server.js";

export const databaseUrl = process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const natsUrl = process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
export const migrationsDir = fileURLToPath(new URL("../migrations", import.meta.url));

export const uniqueId = () => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

export interface Harness {
  schema: string;
  pool: Pool;
  nats: NatsConnection;
  stream: string;
  subjectPrefix: string;
  server: RunningRegistry;
  client: grpc.Client;
  call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>, deadlineMs?: number): Promise<MessageShape<O>>;
  close(): Promise<void>;
}

export async function migratedPool(connectionString = databaseUrl, options: { connectionTimeoutMs?: number; schema?: string } = {}): Promise<{ pool: Pool; schema: string }> {
  const schema = options.schema ?? `test_registry_${uniqueId()}`;
  const pool = createPool({ connectionString, schema, logger: silentLogger, connectionTimeoutMs: options.connectionTimeoutMs });
  await migrate(pool, { schema, migrations: await loadMigrations(migrationsDir), logger: silentLogger });
  return { pool, schema };
}

export async function startRegistry(options: { natsUrl?: string; pool?: Pool; schema?: string; healthIntervalMs?: number } = {}): Promise<Harness> {
  const { pool, schema } = options.pool ? { pool: options.pool, schema: options.schema! } : await migratedPool();
  const nats = await connectNats({ url: options.natsUrl ?? natsUrl, name: "registry-test", logger: silentLogger });
  const id = uniqueId();
  const stream = `TEST_REGISTRY_${id}`;
  const subjectPrefix = `test.registry.${id}.events`;
  const server = await build({ pool, nats, logger: silentLogger, eventStream: stream, eventSubjectPrefix: subjectPrefix, relayPollIntervalMs: 100, healthIntervalMs: options.healthIntervalMs ?? 200 }).listen({ grpcPort: 0, webPort: 0 });
  const client = grpcChannel(server.grpcAddress);
  return {
    schema,
    pool,
    nats,
    stream,
    subjectPrefix,
    server,
    client,
    async call(method, request, deadlineMs = 10_000) {
      return (await unary(client, method, request, { deadlineMs })).response;
    },
    async close() {
      client.close();
      await server.shutdown(1_000);
      const direct = await connectNats({ url: natsUrl, name: "registry-test-cleanup", logger: silentLogger });
      await (await jetstreamManager(direct)).streams.delete(stream).catch(() => {});
      await direct.close();
      await nats.close().catch(() => {});
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

export const rpc = RegistryService.method;

/** The gRPC status code of a failed call (or "OK"). */
export async function statusOf(promise: Promise<unknown>): Promise<{ code: grpc.status | "OK"; details: string }> {
  try {
    await promise;
    return { code: "OK", details: "" };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
}

/**
 * A TCP proxy to a real server, which a test can close (refusing and cutting
 * every connection, like a crashed or partitioned server) and reopen on the
 * same port.
 */
export async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    /** Stops listening and cuts every open connection. */
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
    /** Listens again on the same port. */
    reopen: open,
  };
}

export const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};
