// The global flags every command takes, and the connection they describe.
import { createFtiClient, type FtiClient } from "@fti/client";
import { UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import type { OutputFormat } from "./output.js";
import { explainRpcError, type CallContext } from "./rpc-errors.js";
import { parseDuration } from "./values.js";

export const serviceNames = ["registry", "ingestion", "offline-query", "online-serving", "training-runner", "monitoring"] as const;
export type ServiceName = (typeof serviceNames)[number];

/** parseArgs option specs shared by every command. */
export const globalOptions = {
  host: { type: "string" },
  protocol: { type: "string" },
  output: { type: "string", short: "o" },
  project: { type: "string", short: "p" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
  ...Object.fromEntries(serviceNames.map((s) => [s, { type: "string" }])),
} as const satisfies Record<string, { type: "string" | "boolean"; short?: string }>;

export type GlobalValues = { [K in keyof typeof globalOptions]?: (typeof globalOptions)[K]["type"] extends "boolean" ? boolean : string } & Record<string, unknown>;

/** Everything a command needs besides its own arguments. */
export interface Context {
  io: Io;
  format: OutputFormat;
  /** The --project flag or FTI_PROJECT; commands that need one call requireProject(). */
  project?: string;
  requireProject(): string;
  client: FtiClient;
  /** Runs a call, turning its failure into a CliError that says what to do. */
  call<T>(service: ServiceName, run: (client: FtiClient) => Promise<T>, listHint?: string): Promise<T>;
  /** The CallContext used for `service` (for commands that handle errors themselves). */
  callContext(service: ServiceName, listHint?: string): CallContext;
}

const envUrl = (service: ServiceName) => `FTI_${service.toUpperCase().replace("-", "_")}_URL`;

export function createContext(values: GlobalValues, io: Io): Context {
  const format = (values.output ?? io.env.FTI_OUTPUT ?? "table") as string;
  if (format !== "table" && format !== "json") throw new UsageError(`--output must be "table" or "json", not "${format}"`);
  const protocol = (values.protocol ?? io.env.FTI_PROTOCOL ?? "grpc") as string;
  if (protocol !== "grpc" && protocol !== "connect") throw new UsageError(`--protocol must be "grpc" or "connect", not "${protocol}"`);
  let timeoutMs = 30_000;
  if (values.timeout !== undefined) {
    const seconds = /^\d+(\.\d+)?$/.test(values.timeout) ? Number(values.timeout) : parseDuration(values.timeout);
    if (seconds === undefined || seconds <= 0) throw new UsageError(`--timeout must be a duration like 30s, 2m or a number of seconds, not "${values.timeout}"`);
    timeoutMs = seconds * 1000;
  }
  const host = (values.host as string | undefined) ?? io.env.FTI_HOST ?? "127.0.0.1";
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const s of serviceNames) {
    const url = (values[s] as string | undefined) ?? io.env[envUrl(s)];
    if (url) urls[s] = url.includes("://") ? url : `http://${url}`;
  }
  const client = createFtiClient({ host, urls, protocol, timeoutMs });
  const project = (values.project as string | undefined) ?? io.env.FTI_PROJECT;
  const callContext = (service: ServiceName, listHint?: string): CallContext => ({
    service,
    address: urls[service] ?? `${host} (its default ${protocol === "grpc" ? "gRPC" : "web"} port)`,
    listHint,
  });
  return {
    io,
    format,
    project,
    client,
    requireProject() {
      if (!project) throw new UsageError("no project: pass --project <name> (or set FTI_PROJECT)");
      return project;
    },
    async call(service, run, listHint) {
      try {
        return await run(client);
      } catch (err) {
        throw explainRpcError(err, callContext(service, listHint));
      }
    },
    callContext,
  };
}
