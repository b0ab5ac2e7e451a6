// The write path's requests: Ingest / IngestStream / a NATS micro-batch /
// DeleteRows turned into checked batches and commits, and the commit history.
// Order of checks: arguments, the feature group (NOT_FOUND), the rows' shape
// and types (INVALID_ARGUMENT naming row and column), then the expectations.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { decodePageToken, pageSize, paginate, requestFingerprint } from "@fti/aip";
import type { Pool } from "@fti/db";
import { InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { CommitSchema, Commit_Kind as Kind, Commit_Source as Source, type Commit, type ValidationReport } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { ExpectationPolicy } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { decodeRecordBatch } from "@fti/record-batch";
import { validatedColumns, valueProblem, type ColumnBatch, type Feature, type Value } from "@fti/schema";
import { commitFilterSql } from "./commit-filter.js";
import * as store from "./commit-store.js";
import type { CommitWriter, WriteResult } from "./commit-writer.js";
import { ExpectationsFailedError } from "./errors.js";
import { checkExpectations } from "./expectations.js";
import type { FeatureGroups, ResolvedGroup } from "./feature-groups.js";
import { parseCommitName, parseFeatureGroupName } from "./names.js";
import { computeStatistics } from "./statistics.js";

export interface IngestInput {
  featureGroup: string;
  batchId: string;
  /** One or more parts (IngestStream), written as one commit. */
  parts: readonly RecordBatch[];
  validateOnly: boolean;
}

export interface Ingestion {
  ingest(input: IngestInput): Promise<WriteResult>;
  /**
   * Checks one NATS message's rows against a resolved group: the columns, or
   * an error saying why they cannot be written (the dead-letter reason).
   */
  checkMessage(group: ResolvedGroup, rows: RecordBatch | undefined): ColumnBatch;
  /** Writes already checked columns (a NATS micro-batch) as one SOURCE_STREAM commit. */
  ingestStream(group: ResolvedGroup, batchId: string, columns: ColumnBatch, messageIds: readonly string[]): Promise<WriteResult>;
  deleteRows(input: { featureGroup: string; batchId: string; keys: RecordBatch | undefined }): Promise<WriteResult>;
  getCommit(name: string): Promise<Commit>;
  listCommits(request: { parent: string; pageSize: number; pageToken: string; filter: string }): Promise<{ items: Commit[]; nextPageToken: string }>;
}

export interface IngestionDeps {
  pool: Pool;
  groups: FeatureGroups;
  writer: CommitWriter;
  /** Largest number of rows in one commit. */
  maxBatchRows: number;
}

const maxBatchIdLength = 512;

export function createIngestion(deps: IngestionDeps): Ingestion {
  const { groups, writer } = deps;

  function checkArguments(featureGroup: string, batchId: string) {
    const v: FieldViolation[] = [];
    try {
      parseFeatureGroupName(featureGroup, "feature_group");
    } catch (err) {
      if (err instanceof InvalidArgumentError) v.push(...err.violations);
      else throw err;
    }
    if (!batchId) v.push({ field: "batch_id", description: "is required: an idempotency key chosen by the caller, e.g. a UUID" });
    else if (batchId.length > maxBatchIdLength) v.push({ field: "batch_id", description: `must be at most ${maxBatchIdLength} characters` });
    if (v.length) throw new InvalidArgumentError(v);
  }

  /** Decodes and type-checks the rows of every part as one batch. */
  function checkedColumns(group: ResolvedGroup, parts: readonly (RecordBatch | undefined)[], field: string): ColumnBatch {
    const total = parts.reduce((n, p) => n + (p?.rowCount ?? 0), 0);
    if (total === 0) throw InvalidArgumentError.field(`${field}.row_count`, "at least one row is required");
    if (total > deps.maxBatchRows) throw InvalidArgumentError.field(`${field}.row_count`, `${total} rows exceed the limit of ${deps.maxBatchRows} per commit; split the batch`);
    const decoded = parts.filter((p): p is RecordBatch => !!p && p.rowCount > 0).map((p, i) => decodeRecordBatch(p, parts.length > 1 ? `parts[${i}].${field}` : field));
    return validatedColumns(group.schema, decoded.length === 1 ? decoded[0]! : concat(decoded));
  }

  function draftOf(group: ResolvedGroup, batchId: string, source: Source, columns: ColumnBatch, report: ValidationReport): Commit {
    const times = columns.columns[group.schema.eventTime] as readonly Date[];
    let min = Infinity;
    let max = -Infinity;
    for (const t of times) {
      const ms = t.getTime();
      if (ms < min) min = ms;
      if (ms > max) max = ms;
    }
    return create(CommitSchema, {
      featureGroup: group.name,
      kind: Kind.INGEST,
      source,
      batchId,
      rowsWritten: BigInt(columns.rowCount),
      minEventTime: timestampFromDate(new Date(min)),
      maxEventTime: timestampFromDate(new Date(max)),
      validationReport: report,
      statistics: computeStatistics(group.schema, columns, group.message.statisticsConfig),
    });
  }

  function expectationsOf(group: ResolvedGroup) {
    return { expectations: group.message.expectations, policy: group.policy, schema: group.schema };
  }

  return {
    async ingest(input) {
      checkArguments(input.featureGroup, input.batchId);
      const group = await groups.resolve(input.featureGroup);
      const columns = checkedColumns(group, input.parts, "rows");
      const report = checkExpectations(expectationsOf(group), columns);
      if (!report.success && group.policy === ExpectationPolicy.STRICT) throw new ExpectationsFailedError(group.name, report);
      if (input.validateOnly) {
        return { commit: create(CommitSchema, { featureGroup: group.name, batchId: input.batchId, kind: Kind.INGEST, source: Source.API, rowsWritten: BigInt(columns.rowCount), validationReport: report }), duplicate: false };
      }
      return writer.append(group, draftOf(group, input.batchId, Source.API, columns, report), columns);
    },

    checkMessage(group, rows) {
      const columns = checkedColumns(group, [rows], "rows");
      const report = checkExpectations(expectationsOf(group), columns);
      if (!report.success && group.policy === ExpectationPolicy.STRICT) throw new ExpectationsFailedError(group.name, report);
      return columns;
    },

    async ingestStream(group, batchId, columns, messageIds) {
      // Each message passed the STRICT check alone; the commit stores the report of the whole micro-batch.
      const report = checkExpectations(expectationsOf(group), columns);
      return writer.append(group, draftOf(group, batchId, Source.STREAM, columns, report), columns, { messageIds });
    },

    async deleteRows(input) {
      checkArguments(input.featureGroup, input.batchId);
      const group = await groups.resolve(input.featureGroup);
      if (!input.keys || input.keys.rowCount === 0) throw InvalidArgumentError.field("keys.row_count", "at least one entity key is required");
      if (input.keys.rowCount > deps.maxBatchRows) throw InvalidArgumentError.field("keys.row_count", `${input.keys.rowCount} keys exceed the limit of ${deps.maxBatchRows}`);
      const keys = decodeRecordBatch(input.keys, "keys");
      const primaryKey = new Set(group.schema.primaryKey);
      const v: FieldViolation[] = [];
      for (const name of Object.keys(keys.columns)) if (!primaryKey.has(name)) v.push({ field: `keys.columns.${name}`, description: `"${name}" is not a primary key column; send exactly ${group.schema.primaryKey.join(", ")}` });
      for (const name of primaryKey) if (!keys.columns[name]) v.push({ field: `keys.columns.${name}`, description: "primary key column is required" });
      if (v.length) throw new InvalidArgumentError(v);
      checkKeyValues(group.schema.features.filter((f) => primaryKey.has(f.name)), keys);
      const draft = create(CommitSchema, { featureGroup: group.name, kind: Kind.DELETE, source: Source.API, batchId: input.batchId });
      return writer.delete(group, draft, keys);
    },

    async getCommit(name) {
      const { featureGroup, commitId } = parseCommitName(name);
      const stored = await store.findByCommitId(deps.pool, featureGroup, commitId);
      if (!stored) throw new NotFoundError("commit", name);
      return stored.commit;
    },

    async listCommits(request) {
      parseFeatureGroupName(request.parent, "parent");
      const group = await groups.resolve(request.parent);
      const size = pageSize(request.pageSize);
      const fingerprint = requestFingerprint([group.name, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const values: unknown[] = [group.name];
      const conditions = ["feature_group = $1", "commit_id IS NOT NULL"];
      if (cursor) {
        values.push(Number(cursor[0]));
        conditions.push(`commit_id < $${values.length}`);
      }
      const filter = commitFilterSql(request.filter, values.length + 1);
      conditions.push(...filter.conditions);
      values.push(...filter.values, size + 1);
      const { rows } = await deps.pool.query<{ commit: Uint8Array }>(`SELECT commit FROM commits WHERE ${conditions.join(" AND ")} ORDER BY commit_id DESC LIMIT $${values.length}`, values);
      const commits = rows.map((r) => store.decodeCommit(r.commit));
      return paginate(commits, size, (c) => [Number(c.commitId)], fingerprint);
    },
  };
}

/** Keys must be present and of the key column's type; paths are `keys[i].column`. */
function checkKeyValues(features: readonly Feature[], keys: ColumnBatch) {
  const v: FieldViolation[] = [];
  for (const f of features) {
    const column = keys.columns[f.name]!;
    for (let i = 0; i < keys.rowCount && v.length < 20; i++) {
      const value = column[i] ?? null;
      const problem = value === null ? "primary key value is required" : valueProblem(f.type, value);
      if (problem) v.push({ field: `keys[${i}].${f.name}`, description: problem });
    }
  }
  if (v.length) throw new InvalidArgumentError(v);
}

/** Joins the parts of an IngestStream; every part must have the same columns. */
function concat(parts: ColumnBatch[]): ColumnBatch {
  const names = Object.keys(parts[0]!.columns).sort();
  const v: FieldViolation[] = [];
  parts.forEach((p, i) => {
    const these = Object.keys(p.columns).sort();
    if (these.join("\u0000") !== names.join("\u0000")) v.push({ field: `parts[${i}].rows.columns`, description: `every part must have the same columns as the first (${names.join(", ")}); got ${these.join(", ")}` });
  });
  if (v.length) throw new InvalidArgumentError(v);
  const columns: Record<string, Value[]> = {};
  for (const name of names) columns[name] = ([] as Value[]).concat(...parts.map((p) => p.columns[name] as Value[]));
  return { rowCount: parts.reduce((n, p) => n + p.rowCount, 0), columns };
}
