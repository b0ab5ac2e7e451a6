// How the pipelines reach the platform, as any user's code would: the
// TypeScript SDK for calls, the `fti` CLI for definitions and deployments, and
// NATS JetStream for the streaming feature pipeline.
import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { createFtiClient, type FtiClient } from "@fti/client";
import { main as fti, type Io } from "@fti/cli";
import { IngestMessageSchema } from "@fti/proto/fti/ingestion/v1/stream_pb";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

export const serviceNames = ["registry", "ingestion", "offline-query", "online-serving", "training-runner", "monitoring"] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface PlatformOptions {
  /** Host of every service on its default ports. Default 127.0.0.1. */
  host?: string;
  /** One URL per service, overriding `host` (e.g. "http://127.0.0.1:50051"). */
  urls?: Partial<Record<ServiceName, string>>;
  /** NATS with JetStream, for the streaming pipeline. Default nats://127.0.0.1:4222. */
  natsUrl?: string;
  /** The installation's NATS subject prefix (FTI_NATS_SUBJECT_PREFIX). Default "fti". */
  natsSubjectPrefix?: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Platform {
  client: FtiClient;
  /** Runs `fti <args>` in-process against the same services; throws on a non-zero exit. */
  cli(args: string[], options?: { allowFailure?: boolean }): Promise<CliResult>;
  /** Publishes rows for a feature group version on the streaming ingestion subject. */
  publishRows(project: string, group: string, version: number, rows: RecordBatch, messageId: string): Promise<void>;
  /** The gRPC address of online-serving (host:port), for the Python client. */
  servingAddress: string;
  close(): Promise<void>;
}

const defaultPorts: Record<ServiceName, number> = {
  registry: 50051,
  ingestion: 50052,
  "offline-query": 50053,
  "online-serving": 50054,
  "training-runner": 50055,
  monitoring: 50056,
};

/** Reads FTI_HOST and FTI_<SERVICE>_URL (the CLI's variables) and FTI_NATS_URL / FTI_NATS_SUBJECT_PREFIX. */
export function platformOptionsFromEnv(env: Record<string, string | undefined> = process.env): PlatformOptions {
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const s of serviceNames) {
    const url = env[`FTI_${s.toUpperCase().replace("-", "_")}_URL`];
    if (url) urls[s] = url;
  }
  return { host: env.FTI_HOST, urls, natsUrl: env.FTI_NATS_URL, natsSubjectPrefix: env.FTI_NATS_SUBJECT_PREFIX };
}

export async function connectPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  const urls = Object.fromEntries(
    serviceNames.map((s) => {
      const url = options.urls?.[s] ?? `http://${host}:${defaultPorts[s]}`;
      return [s, url.includes("://") ? url : `http://${url}`];
    }),
  ) as Record<ServiceName, string>;
  const client = createFtiClient({ urls, timeoutMs: 60_000 });
  const nats: NatsConnection = await connect({ servers: options.natsUrl ?? "nats://127.0.0.1:4222", name: "fraud-example" });
  const js: JetStreamClient = jetstream(nats);
  const subjectPrefix = options.natsSubjectPrefix ?? "fti";
  const urlFlags = serviceNames.flatMap((s) => [`--${s}`, urls[s]]);

  return {
    client,
    servingAddress: new URL(urls["online-serving"]).host,
    async cli(args, cliOptions = {}) {
      let stdout = "";
      let stderr = "";
      const io: Io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
      const code = await fti([...args, ...urlFlags], io);
      if (code !== 0 && !cliOptions.allowFailure) throw new Error(`fti ${args.join(" ")} exited ${code}:\n${stdout}${stderr}`);
      return { code, stdout, stderr };
    },
    async publishRows(project, group, version, rows, messageId) {
      const subject = `${subjectPrefix}.ingest.${project}.${group}.${version}`;
      const payload = toBinary(IngestMessageSchema, create(IngestMessageSchema, { rows }));
      await js.publish(subject, payload, { msgID: messageId });
    },
    async close() {
      await nats.drain().catch(() => {});
    },
  };
}

/** A short, readable reason of a failed call. */
export function reason(err: unknown): string {
  if (err instanceof ConnectError) return `${ConnectError.from(err).code} ${err.rawMessage}`;
  return err instanceof Error ? err.message : String(err);
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastError ? ` (last error: ${reason(lastError)})` : ""}`);
    await sleep(intervalMs);
  }
}
