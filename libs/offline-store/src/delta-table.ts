// One feature group version's Delta table: commits (create, append, delete),
// snapshots and time travel, scans for the query layer, incremental reads and
// vacuum. Every write is data files first, then one log entry written with
// create-if-absent; a writer that loses a version re-reads the log and retries.
import { randomUUID } from "node:crypto";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { AbortedError, AlreadyExistsError, InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import type { Logger } from "@fti/logger";
import { schemaViolations, valueProblem, type FeatureGroupSchema, type Row } from "@fti/schema";
import { validatedColumns, type ColumnBatch, type FeatureBatch } from "./batch.js";
import { DeltaLog, type Commit } from "./delta-log.js";
import {
  appendedInVersionTag,
  deltaSchemaString,
  engineInfo,
  minReaderVersion,
  minWriterVersion,
  type Action,
  type AddAction,
  type CommitInfoAction,
} from "./delta-protocol.js";
import { fromDuckDBJS, parquetList, quoteIdent, quoteString, stagedTimestamp } from "./duckdb-types.js";
import type { ObjectStore } from "./object-store.js";
import { copyToParquet, stageBatch, writeBatchFile } from "./parquet-writer.js";
import { replay, schemaConfigKey, type DataFile, type Snapshot } from "./snapshot.js";
import { collectStats, mayContainAnyKey, mayOverlapTime, serializeStats, type FileStats, type TimeRange } from "./stats.js";

export interface TableId {
  project: string;
  featureGroup: string;
  version: number;
}

export interface TableDeps {
  store: ObjectStore;
  duckdb: DuckDBInstance;
  logger: Logger;
}

/** A version, a point in time (the latest commit at or before it), or the latest when omitted. */
export type AsOf = { version: number } | { timestamp: Date };

export interface CommitOptions {
  /** Our id for the commit, recorded in commitInfo; generated when omitted. */
  commitId?: string;
  /** The ingestion batch this commit writes, recorded in commitInfo. */
  batchId?: string;
}

export interface CommitResult {
  /** The table version the commit created, or the current version when there was nothing to commit. */
  version: number;
  committed: boolean;
  commitId: string;
  timestamp: Date;
  rowsAdded: number;
  rowsRemoved: number;
}

export interface CommitSummary {
  version: number;
  timestamp: Date;
  operation: string;
  operationParameters: Record<string, string>;
  commitId?: string;
  batchId?: string;
  rowsAdded: number;
  rowsRemoved: number;
  filesAdded: number;
  filesRemoved: number;
}

export interface ScanFile {
  /** Where DuckDB reads the file: pass these to `read_parquet([...])`. */
  location: string;
  /** Relative to the table root, as in the log. */
  path: string;
  size: number;
  numRecords: number | undefined;
  stats: FileStats | undefined;
  /** The version whose commit appended the file's rows (kept when a delete rewrites the file): orders ingestion. */
  appendedInVersion: number;
  /** When that commit was made: when its rows became known (bitemporal reads). */
  appendedAt: Date;
}

export interface ScanPlan {
  version: number;
  timestamp: Date;
  schema: FeatureGroupSchema;
  files: ScanFile[];
}

export interface ScanFilter {
  asOf?: AsOf;
  /** Only files that may hold one of these entities (primary key columns only). */
  keys?: readonly Row[];
  /** Only files with event times inside this inclusive range. */
  eventTime?: TimeRange;
}

export interface ReadOptions extends ScanFilter {
  /** Features to return; all when omitted. */
  columns?: readonly string[];
}

export interface VacuumResult {
  /** Keys of the deleted objects. */
  deleted: string[];
}

const maxCommitAttempts = 200;
const namePattern = /^[a-z][a-z0-9_-]{0,62}$/;

export function tableKey(id: TableId): string {
  const v: FieldViolation[] = [];
  if (!namePattern.test(id.project)) v.push({ field: "project", description: "must start with a lowercase letter and hold only lowercase letters, digits, _ and -" });
  if (!namePattern.test(id.featureGroup)) v.push({ field: "feature_group", description: "must start with a lowercase letter and hold only lowercase letters, digits, _ and -" });
  if (!Number.isInteger(id.version) || id.version < 1) v.push({ field: "version", description: "must be a positive integer" });
  if (v.length) throw new InvalidArgumentError(v);
  return `${id.project}/${id.featureGroup}/v${id.version}`;
}

export class DeltaTable {
  readonly key: string;
  /** The resource name, for errors and logs. */
  readonly name: string;
  private readonly log: DeltaLog;

  constructor(
    private readonly deps: TableDeps,
    readonly id: TableId,
  ) {
    this.key = tableKey(id);
    this.name = `projects/${id.project}/featureGroups/${id.featureGroup}/versions/${id.version}`;
    this.log = new DeltaLog(deps.store, this.key);
  }

  /** Writes version 0: protocol, metadata with the Delta schema, and commitInfo. */
  async create(schema: FeatureGroupSchema, options: CommitOptions & { description?: string } = {}): Promise<CommitResult> {
    const violations = schemaViolations(schema);
    if (violations.length) throw new InvalidArgumentError(violations);
    const commitId = options.commitId ?? randomUUID();
    const now = Date.now();
    const actions: Action[] = [
      {
        commitInfo: {
          timestamp: now,
          operation: "CREATE TABLE",
          operationParameters: { isManaged: "false", description: options.description ?? "", partitionBy: "[]", properties: "{}" },
          isBlindAppend: true,
          engineInfo,
          fti: { commitId, rowsAdded: 0, rowsRemoved: 0, ...(options.batchId ? { batchId: options.batchId } : {}) },
        },
      },
      { protocol: { minReaderVersion, minWriterVersion } },
      {
        metaData: {
          id: randomUUID(),
          name: `${this.id.project}.${this.id.featureGroup}_v${this.id.version}`,
          ...(options.description ? { description: options.description } : {}),
          format: { provider: "parquet", options: {} },
          schemaString: deltaSchemaString(schema),
          partitionColumns: [],
          createdTime: now,
          configuration: { [schemaConfigKey]: JSON.stringify(schema) },
        },
      },
    ];
    if (!(await this.log.tryCommit(0, actions))) throw new AlreadyExistsError("offline table", this.name);
    this.deps.logger.info("offline table created", { table: this.name });
    return { version: 0, committed: true, commitId, timestamp: new Date(now), rowsAdded: 0, rowsRemoved: 0 };
  }

  async exists(): Promise<boolean> {
    await this.log.refresh();
    return this.log.latestVersion >= 0;
  }

  /** The table as of a version or time (latest when omitted). */
  async snapshot(asOf?: AsOf): Promise<Snapshot> {
    const commits = await this.commitsOrThrow();
    return replay(commits, this.resolveVersion(commits, asOf));
  }

  /**
   * Appends a batch as one commit and returns the version it became. The batch
   * is validated first; on bad input nothing is written.
   */
  async append(batch: FeatureBatch, options: CommitOptions = {}): Promise<CommitResult> {
    const { schema } = await this.snapshot();
    const columns = validatedColumns(schema, batch);
    const commitId = options.commitId ?? randomUUID();
    if (columns.rowCount === 0) return this.noCommit(commitId);
    const file = await this.writeDataFile(schema, columns);
    for (let attempt = 0; attempt < maxCommitAttempts; attempt++) {
      const commits = await this.log.refresh();
      const version = commits.length;
      const timestamp = commitTimestamp(commits);
      const actions: Action[] = [
        { commitInfo: this.commitInfo(timestamp, "WRITE", { mode: "Append", partitionBy: "[]" }, true, { commitId, batchId: options.batchId, rowsAdded: columns.rowCount, rowsRemoved: 0 }) },
        { add: { ...file, tags: { [appendedInVersionTag]: String(version) } } },
      ];
      if (await this.log.tryCommit(version, actions)) {
        this.deps.logger.info("commit written", { table: this.name, version, commitId, batchId: options.batchId, rows: columns.rowCount });
        return { version, committed: true, commitId, timestamp: new Date(timestamp), rowsAdded: columns.rowCount, rowsRemoved: 0 };
      }
      // Another writer took this version. An append conflicts with nothing, so retry as the next one.
    }
    throw new AbortedError(`could not commit to ${this.name} after ${maxCommitAttempts} attempts; too many concurrent writers`);
  }

  /**
   * Deletes every row of the given entities (all event times). Only files whose
   * key stats may hold a key are opened; each affected file is rewritten
   * without those rows (remove + add). On losing a version to another writer
   * the whole delete is planned again on the newer snapshot, so rows appended
   * concurrently for those keys are deleted too.
   */
  async deleteRows(keys: readonly Row[], options: CommitOptions = {}): Promise<CommitResult> {
    const commitId = options.commitId ?? randomUUID();
    for (let attempt = 0; attempt < maxCommitAttempts; attempt++) {
      const snapshot = await this.snapshot();
      const { schema } = snapshot;
      assertValidKeys(schema, keys);
      if (keys.length === 0) return this.noCommit(commitId);
      const rewrites = await this.planDelete(snapshot, keys);
      if (rewrites.length === 0) return this.noCommit(commitId);
      const version = snapshot.version + 1;
      const timestamp = commitTimestamp(await this.log.refresh());
      const rowsRemoved = rewrites.reduce((sum, r) => sum + r.rowsRemoved, 0);
      const actions: Action[] = [
        {
          commitInfo: this.commitInfo(timestamp, "DELETE", { predicate: JSON.stringify([`(${schema.primaryKey.join(", ")}) IN (${keys.length} keys)`]) }, false, {
            commitId,
            batchId: options.batchId,
            rowsAdded: 0,
            rowsRemoved,
          }),
        },
        ...rewrites.map((r): Action => ({ remove: { path: r.removed.path, deletionTimestamp: timestamp, dataChange: true, extendedFileMetadata: true, partitionValues: {}, size: r.removed.size } })),
        ...rewrites.flatMap((r): Action[] => (r.added ? [{ add: r.added }] : [])),
      ];
      if (await this.log.tryCommit(version, actions)) {
        this.deps.logger.info("rows deleted", { table: this.name, version, commitId, keys: keys.length, rows: rowsRemoved, filesRewritten: rewrites.length });
        return { version, committed: true, commitId, timestamp: new Date(timestamp), rowsAdded: 0, rowsRemoved };
      }
      // Lost the version: the rewritten files are based on a stale snapshot. Drop them and plan again.
      await Promise.all(rewrites.flatMap((r) => (r.added ? [this.deps.store.delete(`${this.key}/${r.added.path}`)] : [])));
    }
    throw new AbortedError(`could not commit a delete to ${this.name} after ${maxCommitAttempts} attempts; too many concurrent writers`);
  }

  /** Every commit, oldest first. */
  async listCommits(): Promise<CommitSummary[]> {
    const commits = await this.commitsOrThrow();
    return commits.map(summarize);
  }

  /**
   * The Parquet files of a snapshot with their stats, pruned by min/max for the
   * filter's keys and time range. The caller runs `read_parquet([...])` over
   * exactly `files[].location` (and applies the same filter to the rows).
   */
  async scan(filter: ScanFilter = {}): Promise<ScanPlan> {
    const commits = await this.commitsOrThrow();
    const snapshot = replay(commits, this.resolveVersion(commits, filter.asOf));
    if (filter.keys) assertValidKeys(snapshot.schema, filter.keys);
    return this.plan(snapshot, snapshot.files.filter((f) => keepFile(snapshot.schema, f, filter)), commits);
  }

  /** Rows of a snapshot, read through DuckDB over the pruned files. Row order is unspecified. */
  async readRows(options: ReadOptions = {}): Promise<Row[]> {
    const plan = await this.scan(options);
    return this.readFiles(plan, options);
  }

  /**
   * The files holding rows appended after `sinceVersion`, up to `untilVersion`
   * (the latest when omitted), that are still in that snapshot: rows later
   * deleted are not returned, rows rewritten by a delete keep their original
   * append version. `sinceVersion` -1 means from the beginning.
   */
  async scanChangesSince(sinceVersion: number, options: { untilVersion?: number } = {}): Promise<ScanPlan> {
    const commits = await this.commitsOrThrow();
    const snapshot = replay(commits, this.resolveVersion(commits, options.untilVersion === undefined ? undefined : { version: options.untilVersion }));
    if (!Number.isInteger(sinceVersion) || sinceVersion < -1 || sinceVersion > snapshot.version)
      throw InvalidArgumentError.field("since_version", `must be between -1 and ${snapshot.version}`);
    return this.plan(snapshot, snapshot.files.filter((f) => appendedIn(f) > sinceVersion), commits);
  }

  async readChangesSince(sinceVersion: number, options: { untilVersion?: number; columns?: readonly string[] } = {}): Promise<Row[]> {
    return this.readFiles(await this.scanChangesSince(sinceVersion, options), options);
  }

  /**
   * Rows of exactly the files of a plan from `scan` or `scanChangesSince`
   * (possibly narrowed to some of its files, e.g. one at a time to checkpoint
   * progress), with the same row filters as `readRows`.
   */
  async readPlan(plan: ScanPlan, options: Omit<ReadOptions, "asOf"> = {}): Promise<Row[]> {
    return this.readFiles(plan, options);
  }

  /**
   * Deletes data files that no log entry references (left by a writer that
   * crashed or lost a delete race) once they are older than `graceMs`, so a
   * write still in progress keeps its file. Files of older versions stay, so
   * time travel keeps working.
   */
  async vacuum(options: { graceMs?: number } = {}): Promise<VacuumResult> {
    const graceMs = options.graceMs ?? 60 * 60 * 1000;
    const commits = await this.commitsOrThrow();
    const referenced = new Set<string>();
    for (const commit of commits)
      for (const action of commit.actions) {
        if ("add" in action) referenced.add(action.add.path);
        else if ("remove" in action) referenced.add(action.remove.path);
      }
    const cutoff = Date.now() - graceMs;
    const deleted: string[] = [];
    for (const object of await this.deps.store.list(`${this.key}/`)) {
      const path = object.key.slice(this.key.length + 1);
      const orphanData = !path.startsWith("_delta_log/") && path.endsWith(".parquet") && !referenced.has(path);
      const staleTemp = path.startsWith("_delta_log/") && path.endsWith(".tmp");
      if ((orphanData || staleTemp) && object.modifiedMs < cutoff) {
        await this.deps.store.delete(object.key);
        deleted.push(object.key);
      }
    }
    this.deps.logger.info("offline table vacuumed", { table: this.name, deleted: deleted.length });
    return { deleted };
  }

  private async commitsOrThrow(): Promise<readonly Commit[]> {
    const commits = await this.log.refresh();
    if (commits.length === 0) throw new NotFoundError("offline table", this.name);
    return commits;
  }

  private resolveVersion(commits: readonly Commit[], asOf: AsOf | undefined): number {
    const latest = commits.length - 1;
    if (!asOf) return latest;
    if ("version" in asOf) {
      if (!Number.isInteger(asOf.version) || asOf.version < 0) throw InvalidArgumentError.field("as_of_version", "must be a non-negative integer");
      if (asOf.version > latest) throw new NotFoundError("offline table version", `${this.name}@${asOf.version}`);
      return asOf.version;
    }
    const t = asOf.timestamp.getTime();
    if (Number.isNaN(t)) throw InvalidArgumentError.field("as_of_time", "must be a valid time");
    let found = -1;
    for (const c of commits) if ((c.info?.timestamp ?? 0) <= t) found = c.version;
    if (found < 0) throw InvalidArgumentError.field("as_of_time", `${asOf.timestamp.toISOString()} is before the table was created (${new Date(commits[0]!.info?.timestamp ?? 0).toISOString()})`);
    return found;
  }

  private commitInfo(timestamp: number, operation: string, operationParameters: Record<string, string>, isBlindAppend: boolean, fti: { commitId: string; batchId?: string; rowsAdded: number; rowsRemoved: number }): CommitInfoAction {
    const { batchId, ...rest } = fti;
    return { timestamp, operation, operationParameters, isBlindAppend, engineInfo, fti: { ...rest, ...(batchId ? { batchId } : {}) } };
  }

  private async noCommit(commitId: string): Promise<CommitResult> {
    const snapshot = await this.snapshot();
    return { version: snapshot.version, committed: false, commitId, timestamp: snapshot.timestamp, rowsAdded: 0, rowsRemoved: 0 };
  }

  private newDataFileKey(): { path: string; key: string } {
    const path = `part-00000-${randomUUID()}-c000.snappy.parquet`;
    return { path, key: `${this.key}/${path}` };
  }

  /** Writes the batch as a Parquet file and returns its add action (without the version tag). */
  private async writeDataFile(schema: FeatureGroupSchema, batch: ColumnBatch): Promise<AddAction> {
    const { path, key } = this.newDataFileKey();
    await this.deps.store.prepareWrite(key);
    const stats = await this.withConnection((c) => writeBatchFile(c, schema, batch, this.deps.store.location(key), `stage_${randomUUID().replaceAll("-", "")}`));
    return this.addAction(schema, path, key, stats);
  }

  private async addAction(schema: FeatureGroupSchema, path: string, key: string, stats: FileStats): Promise<AddAction> {
    const info = await this.deps.store.stat(key);
    if (!info) throw new Error(`data file ${key} vanished after it was written`);
    return { path, partitionValues: {}, size: info.size, modificationTime: Math.floor(info.modifiedMs), dataChange: true, stats: serializeStats(schema, stats) };
  }

  private async planDelete(snapshot: Snapshot, keys: readonly Row[]): Promise<{ removed: DataFile; added: AddAction | undefined; rowsRemoved: number }[]> {
    const { schema } = snapshot;
    const candidates = snapshot.files.filter((f) => mayContainAnyKey(schema, f.stats, keys));
    if (candidates.length === 0) return [];
    return this.withConnection(async (connection) => {
      const keysTable = await stageKeys(connection, schema, keys);
      const rewrites: { removed: DataFile; added: AddAction | undefined; rowsRemoved: number }[] = [];
      for (const file of candidates) {
        const source = `read_parquet(${quoteString(this.deps.store.location(`${this.key}/${file.path}`))}) t`;
        const on = keyJoin(schema, "t");
        const counted = await connection.runAndReadAll(`SELECT count(*) FILTER (WHERE k_hit), count(*) FROM (SELECT EXISTS (SELECT 1 FROM ${quoteIdent(keysTable)} k WHERE ${on}) AS k_hit FROM ${source})`);
        const [hits, total] = counted.getRowsJS()[0]!.map(Number) as [number, number];
        if (hits === 0) continue;
        let added: AddAction | undefined;
        if (hits < total) {
          const { path, key } = this.newDataFileKey();
          await this.deps.store.prepareWrite(key);
          const location = this.deps.store.location(key);
          await copyToParquet(connection, `SELECT t.* FROM ${source} WHERE NOT EXISTS (SELECT 1 FROM ${quoteIdent(keysTable)} k WHERE ${on})`, location);
          const stats = await collectStats(connection, schema, `read_parquet(${quoteString(location)})`);
          added = { ...(await this.addAction(schema, path, key, stats)), tags: { [appendedInVersionTag]: String(appendedIn(file)) } };
        }
        rewrites.push({ removed: file, added, rowsRemoved: hits });
      }
      return rewrites;
    });
  }

  private plan(snapshot: Snapshot, files: DataFile[], commits: readonly Commit[]): ScanPlan {
    return {
      version: snapshot.version,
      timestamp: snapshot.timestamp,
      schema: snapshot.schema,
      files: files.map((f) => {
        const appendedInVersion = appendedIn(f);
        return {
          location: this.deps.store.location(`${this.key}/${f.path}`),
          path: f.path,
          size: f.size,
          numRecords: f.stats?.numRecords,
          stats: f.stats,
          appendedInVersion,
          appendedAt: new Date(commits[appendedInVersion]?.info?.timestamp ?? 0),
        };
      }),
    };
  }

  private async readFiles(plan: ScanPlan, options: ReadOptions): Promise<Row[]> {
    const { schema } = plan;
    const features = options.columns ? options.columns.map((name) => featureOrThrow(schema, name)) : schema.features;
    if (plan.files.length === 0) return [];
    return this.withConnection(async (connection) => {
      const where: string[] = [];
      const et = quoteIdent(schema.eventTime);
      if (options.eventTime?.from) where.push(`t.${et} >= ${timestampLiteral(options.eventTime.from)}`);
      if (options.eventTime?.to) where.push(`t.${et} <= ${timestampLiteral(options.eventTime.to)}`);
      if (options.keys) {
        const keysTable = await stageKeys(connection, schema, options.keys);
        where.push(`EXISTS (SELECT 1 FROM ${quoteIdent(keysTable)} k WHERE ${keyJoin(schema, "t")})`);
      }
      const select = features.map((f) => `t.${quoteIdent(f.name)}`).join(", ");
      const sql = `SELECT ${select} FROM read_parquet(${parquetList(plan.files.map((f) => f.location))}) t${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
      const reader = await connection.runAndReadAll(sql);
      const convert = features.map((f) => fromDuckDBJS(f.type));
      return reader.getRowsJS().map((values) => {
        const row: Row = {};
        features.forEach((f, i) => (row[f.name] = convert[i]!(values[i])));
        return row;
      });
    });
  }

  private async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.deps.duckdb.connect();
    try {
      // Timestamps are UTC everywhere; the TIMESTAMP → TIMESTAMPTZ cast must not use the host's zone.
      await connection.run("SET TimeZone = 'UTC'");
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }
}

/** Commit timestamps strictly increase with the version, so "as of time t" is well defined even when clocks step back. */
function commitTimestamp(commits: readonly Commit[]): number {
  const previous = commits.at(-1)?.info?.timestamp ?? 0;
  return Math.max(Date.now(), previous + 1);
}

function appendedIn(file: DataFile): number {
  const tag = file.add.tags?.[appendedInVersionTag];
  return tag === undefined ? file.addedInVersion : Number(tag);
}

/** Narrows a scan plan to the files that may hold the keys or event times (min/max file skipping). */
export function pruneScan(plan: ScanPlan, filter: Pick<ScanFilter, "keys" | "eventTime">): ScanPlan {
  return { ...plan, files: plan.files.filter((f) => keepFile(plan.schema, f, filter)) };
}

function keepFile(schema: FeatureGroupSchema, file: { stats: FileStats | undefined }, filter: Pick<ScanFilter, "keys" | "eventTime">): boolean {
  if (filter.keys && !mayContainAnyKey(schema, file.stats, filter.keys)) return false;
  if (filter.eventTime && !mayOverlapTime(schema, file.stats, filter.eventTime)) return false;
  return true;
}

function summarize(commit: Commit): CommitSummary {
  let rowsAdded = 0;
  let rowsRemoved = 0;
  let filesAdded = 0;
  let filesRemoved = 0;
  for (const action of commit.actions) {
    if ("add" in action) filesAdded++;
    if ("remove" in action) filesRemoved++;
  }
  if (commit.info?.fti) ({ rowsAdded, rowsRemoved } = commit.info.fti);
  return {
    version: commit.version,
    timestamp: new Date(commit.info?.timestamp ?? 0),
    operation: commit.info?.operation ?? "UNKNOWN",
    operationParameters: commit.info?.operationParameters ?? {},
    commitId: commit.info?.fti?.commitId,
    batchId: commit.info?.fti?.batchId,
    rowsAdded,
    rowsRemoved,
    filesAdded,
    filesRemoved,
  };
}

function featureOrThrow(schema: FeatureGroupSchema, name: string) {
  const f = schema.features.find((x) => x.name === name);
  if (!f) throw InvalidArgumentError.field("columns", `"${name}" is not a feature of the table`);
  return f;
}

function assertValidKeys(schema: FeatureGroupSchema, keys: readonly Row[]): void {
  const v: FieldViolation[] = [];
  keys.forEach((key, i) => {
    for (const column of schema.primaryKey) {
      const value = key[column];
      const type = schema.features.find((f) => f.name === column)!.type;
      if (value === null || value === undefined) v.push({ field: `keys[${i}].${column}`, description: "primary key value is required" });
      else {
        const problem = valueProblem(type, value);
        if (problem) v.push({ field: `keys[${i}].${column}`, description: problem });
      }
    }
  });
  if (v.length) throw new InvalidArgumentError(v.slice(0, 20));
}

/** Loads the keys into a temp table for a semi or anti join; returns its name. */
async function stageKeys(connection: DuckDBConnection, schema: FeatureGroupSchema, keys: readonly Row[]): Promise<string> {
  const name = `keys_${randomUUID().replaceAll("-", "")}`;
  const keyFeatures = schema.primaryKey.map((k) => schema.features.find((f) => f.name === k)!);
  const columns: ColumnBatch["columns"] = {};
  for (const f of keyFeatures) columns[f.name] = keys.map((key) => key[f.name] ?? null);
  await stageBatch(connection, { ...schema, features: keyFeatures }, { rowCount: keys.length, columns }, name);
  return name;
}

function keyJoin(schema: FeatureGroupSchema, alias: string): string {
  return schema.primaryKey
    .map((k) => {
      const type = schema.features.find((f) => f.name === k)!.type;
      // Staged keys hold epoch milliseconds; Parquet columns are TIMESTAMPTZ.
      const right = type === "timestamp" ? stagedTimestamp(`k.${quoteIdent(k)}`) : `k.${quoteIdent(k)}`;
      return `${alias}.${quoteIdent(k)} = ${right}`;
    })
    .join(" AND ");
}

function timestampLiteral(time: Date): string {
  return `'${time.toISOString()}'::TIMESTAMPTZ`;
}
