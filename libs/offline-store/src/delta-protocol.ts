// The Delta Lake log actions we read and write (protocol reader 1 / writer 2),
// and the mapping of feature types to Delta's JSON schema. Field names follow
// PROTOCOL.md of delta-io/delta so Spark, Trino and delta-rs read our tables.
import type { FeatureGroupSchema, FeatureType, ScalarType } from "@fti/schema";

export const minReaderVersion = 1;
export const minWriterVersion = 2;

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
}

export interface MetadataAction {
  id: string;
  name?: string;
  description?: string;
  format: { provider: "parquet"; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  createdTime: number;
  configuration: Record<string, string>;
}

export interface AddAction {
  /** Relative to the table root, URL-encoded as the protocol asks (our names need no escaping). */
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON string: numRecords, minValues, maxValues, nullCount. */
  stats?: string;
  tags?: Record<string, string>;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp: number;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
}

/** Our own fields inside commitInfo, under one key so they never clash with Delta's. */
export interface FtiCommitInfo {
  commitId: string;
  batchId?: string;
  rowsAdded: number;
  rowsRemoved: number;
}

export interface CommitInfoAction {
  timestamp: number;
  operation: string;
  operationParameters: Record<string, string>;
  isBlindAppend?: boolean;
  engineInfo?: string;
  fti?: FtiCommitInfo;
}

export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetadataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { commitInfo: CommitInfoAction };

/** The add tag recording the version whose append first brought a file's rows, kept through delete rewrites (incremental reads use it). */
export const appendedInVersionTag = "fti.appendedInVersion";

export const engineInfo = "fti-offline-store/0.1";

/** `_delta_log/00000000000000000007.json` */
export function logFileName(version: number): string {
  return `${String(version).padStart(20, "0")}.json`;
}

export function parseLogFileName(name: string): number | undefined {
  const m = /^(\d{20})\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** One JSON object per line, as the protocol requires. */
export function serializeActions(actions: readonly Action[]): string {
  return actions.map((a) => JSON.stringify(a)).join("\n") + "\n";
}

export function parseActions(text: string): Action[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Action);
}

const deltaScalar: Record<ScalarType, string> = {
  bool: "boolean",
  int32: "integer",
  int64: "long",
  float: "float",
  double: "double",
  string: "string",
  bytes: "binary",
  // Delta "timestamp" is microseconds, adjusted to UTC.
  timestamp: "timestamp",
};

export function deltaType(type: FeatureType): string | { type: "array"; elementType: string; containsNull: boolean } {
  if (typeof type === "string") return deltaScalar[type];
  // @fti/schema refuses null elements, so arrays never contain null.
  if ("array" in type) return { type: "array", elementType: deltaScalar[type.array], containsNull: false };
  return { type: "array", elementType: "float", containsNull: false };
}

/** Delta's schemaString: a struct of the feature group's features. Keys and event time are not nullable. */
export function deltaSchemaString(schema: FeatureGroupSchema): string {
  const required = new Set([...schema.primaryKey, schema.eventTime]);
  return JSON.stringify({
    type: "struct",
    fields: schema.features.map((f) => ({
      name: f.name,
      type: deltaType(f.type),
      nullable: !required.has(f.name) && f.nullable !== false,
      metadata: {},
    })),
  });
}
