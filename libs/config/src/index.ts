// Typed configuration from an injected environment map. Every setting names its
// variable, so a bad value fails at start with that name, and the Helm chart's
// keys can be checked against `describeSettings()`.

export interface Setting<T> {
  /** The environment variable. */
  env: string;
  description: string;
  /** Used when the variable is unset or empty; no default means required. */
  default?: T;
  /** Parses the raw string, throwing an Error whose message says what is expected. */
  parse(raw: string): T;
  /** Secrets are never logged. */
  secret?: boolean;
}

export type SettingsSpec = Record<string, Setting<unknown>>;
export type ConfigOf<S extends SettingsSpec> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export class ConfigError extends Error {
  constructor(readonly problems: { env: string; problem: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.env}: ${p.problem}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig<S extends SettingsSpec>(spec: S, env: Record<string, string | undefined> = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: { env: string; problem: string }[] = [];
  for (const [key, setting] of Object.entries(spec)) {
    const raw = env[setting.env];
    if (raw === undefined || raw === "") {
      if (setting.default === undefined) problems.push({ env: setting.env, problem: `required (${setting.description})` });
      else out[key] = setting.default;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (err) {
      problems.push({ env: setting.env, problem: err instanceof Error ? err.message : String(err) });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** The variables a spec reads, for documentation and for checking deployment manifests. */
export function describeSettings(spec: SettingsSpec): { env: string; description: string; required: boolean; secret: boolean; default?: string }[] {
  return Object.values(spec).map((s) => ({
    env: s.env,
    description: s.description,
    required: s.default === undefined,
    secret: s.secret ?? false,
    ...(s.default === undefined ? {} : { default: String(s.default) }),
  }));
}

/** Config values safe to log: secrets are masked. */
export function redact<S extends SettingsSpec>(spec: S, config: ConfigOf<S>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(spec)) out[key] = setting.secret ? "***" : (config as Record<string, unknown>)[key];
  return out;
}

// ---- setting builders ----

export function str(env: string, description: string, def?: string, options: { secret?: boolean } = {}): Setting<string> {
  return { env, description, default: def, parse: (raw) => raw, secret: options.secret };
}

export function int(env: string, description: string, def?: number, range: { min?: number; max?: number } = {}): Setting<number> {
  return {
    env,
    description,
    default: def,
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
      const value = Number(raw);
      if (range.min !== undefined && value < range.min) throw new Error(`must be ≥ ${range.min}, got ${value}`);
      if (range.max !== undefined && value > range.max) throw new Error(`must be ≤ ${range.max}, got ${value}`);
      return value;
    },
  };
}

export function bool(env: string, description: string, def?: boolean): Setting<boolean> {
  return {
    env,
    description,
    default: def,
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      throw new Error(`expected true or false, got "${raw}"`);
    },
  };
}

export function oneOf<const T extends string>(env: string, description: string, values: readonly T[], def?: T): Setting<T> {
  return {
    env,
    description,
    default: def,
    parse(raw) {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(", ")}, got "${raw}"`);
      return raw as T;
    },
  };
}

export function url(env: string, description: string, protocols: string[], def?: string, options: { secret?: boolean } = {}): Setting<string> {
  return {
    env,
    description,
    default: def,
    secret: options.secret,
    parse(raw) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new Error(`expected a URL (${protocols.join(" or ")}), got "${options.secret ? "***" : raw}"`);
      }
      if (!protocols.includes(parsed.protocol.replace(/:$/, ""))) throw new Error(`expected a ${protocols.join(" or ")} URL`);
      return raw;
    },
  };
}

export function list(env: string, description: string, def?: string[]): Setting<string[]> {
  return { env, description, default: def, parse: (raw) => raw.split(",").map((s) => s.trim()).filter(Boolean) };
}

// ---- the settings every service shares ----

/** Default ports per service: gRPC (grpc-js) and web (Connect, gRPC-Web, /metrics). */
export const servicePorts = {
  registry: { grpc: 50051, web: 8081 },
  ingestion: { grpc: 50052, web: 8082 },
  "offline-query": { grpc: 50053, web: 8083 },
  "online-serving": { grpc: 50054, web: 8084 },
  "training-runner": { grpc: 50055, web: 8085 },
  monitoring: { grpc: 50056, web: 8086 },
} as const;

export type ServiceName = keyof typeof servicePorts;

/** Listener, logging and lifecycle settings of any service. */
export function serverSettings(service: ServiceName) {
  return {
    host: str("FTI_HOST", "address both listeners bind to", "0.0.0.0"),
    grpcPort: int("FTI_GRPC_PORT", "gRPC listener port (grpc-js); 0 picks a free port", servicePorts[service].grpc, { min: 0, max: 65535 }),
    webPort: int("FTI_WEB_PORT", "web listener port (Connect, gRPC-Web, JSON, /metrics); 0 picks a free port", servicePorts[service].web, { min: 0, max: 65535 }),
    logLevel: oneOf("FTI_LOG_LEVEL", "log level", ["debug", "info", "warn", "error", "silent"] as const, "info"),
    shutdownGraceMs: int("FTI_SHUTDOWN_GRACE_MS", "how long SIGTERM waits for in-flight calls before cancelling them", 10_000, { min: 0 }),
    healthIntervalMs: int("FTI_HEALTH_INTERVAL_MS", "how often dependencies are probed for the health service", 2_000, { min: 100 }),
    logRequests: bool("FTI_LOG_REQUESTS", "log every RPC at debug level (failures are always logged)", false),
  };
}

/**
 * Postgres settings of one service. Each service keeps its tables (and its
 * migration history) in a schema of its own, `fti_<service>` by default.
 */
export function databaseSettings(service: ServiceName) {
  return {
    databaseUrl: url("FTI_DATABASE_URL", "Postgres connection URL for metadata", ["postgres", "postgresql"], "postgres://postgres@127.0.0.1:5432/postgres", { secret: true }),
    databaseSchema: str("FTI_DATABASE_SCHEMA", "Postgres schema holding this service's tables", defaultDatabaseSchema(service)),
    databasePoolSize: int("FTI_DATABASE_POOL_SIZE", "maximum Postgres connections per process", 10, { min: 1, max: 1000 }),
  };
}

/** `fti_registry`, `fti_offline_query`, … */
export function defaultDatabaseSchema(service: ServiceName, prefix = "fti"): string {
  return `${prefix}_${service.replace(/-/g, "_")}`;
}

export const natsSettings = {
  natsUrl: url("FTI_NATS_URL", "NATS server URL (JetStream enabled)", ["nats", "tls"], "nats://127.0.0.1:4222"),
  natsStreamPrefix: str("FTI_NATS_STREAM_PREFIX", "prefix of JetStream stream names, to share one NATS between installations", "FTI"),
  natsSubjectPrefix: str("FTI_NATS_SUBJECT_PREFIX", "prefix of every subject this installation uses", "fti"),
};

/** Where Delta tables (offline features, training datasets) and ONNX model files live. */
export const offlineStoreSettings = {
  offlineRoot: str("FTI_OFFLINE_ROOT", "root of the offline store (Delta tables) and model files: a local directory, shared by every service that reads or writes them", ".data/offline"),
};

export const cassandraConsistencies = ["ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"] as const;

/** Which online store serves feature vectors; the Cassandra settings apply only when it is cassandra. */
export const onlineStoreSettings = {
  onlineStore: oneOf("FTI_ONLINE_STORE", "online feature store: postgres (the metadata database, for small installs) or cassandra (Cassandra/ScyllaDB, for scale)", ["postgres", "cassandra"] as const, "postgres"),
  onlinePostgresSchema: str("FTI_ONLINE_POSTGRES_SCHEMA", "Postgres schema holding the online tables when the online store is postgres (in the FTI_DATABASE_URL database); every service reading or writing online features must use the same", "online_store"),
  cassandraContactPoints: list("FTI_CASSANDRA_CONTACT_POINTS", "Cassandra/ScyllaDB contact points, comma-separated host or host:port", ["127.0.0.1:9042"]),
  cassandraLocalDc: str("FTI_CASSANDRA_LOCAL_DC", "Cassandra/ScyllaDB data center this process prefers (load balancing, LOCAL_* consistency)", "datacenter1"),
  cassandraKeyspace: str("FTI_CASSANDRA_KEYSPACE", "Cassandra/ScyllaDB keyspace holding the online tables", "fti"),
  cassandraConsistency: oneOf("FTI_CASSANDRA_CONSISTENCY", "consistency level of online reads and writes", cassandraConsistencies, "LOCAL_QUORUM"),
};

/** Where services that read metadata find the registry. */
export const registryClientSettings = {
  registryAddress: str("FTI_REGISTRY_ADDRESS", "host:port of the registry's gRPC listener", "127.0.0.1:50051"),
  metadataCacheMaxAgeMs: int("FTI_METADATA_CACHE_MAX_AGE_MS", "how long cached registry metadata is used before it is re-read (registry events invalidate it sooner)", 60_000, { min: 0 }),
};
