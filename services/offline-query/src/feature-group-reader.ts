// ReadFeatureGroup: a feature group's rows as of a commit or time, or only
// those appended after a commit; optionally one row per key (its latest, ties
// to the later commit).
import { InvalidArgumentError } from "@fti/errors";
import type { ReadFeatureGroupRequest } from "@fti/proto/fti/offline/v1/offline_pb";
import { encodeRecordBatch } from "@fti/record-batch";
import type { MetadataCache } from "@fti/registry-client";
import { parseName } from "@fti/aip";
import type { OfflineStore, ScanPlan } from "@fti/offline-store";
import type { QueryEngine } from "./query-engine.js";
import { names, tableIdOf } from "./names.js";
import { batchSizeOf, encoderColumn, streamQuery } from "./result-stream.js";
import { asOfOf } from "./snapshots.js";
import { parquetList, quoteIdent, timestampLiteral } from "./sql.js";
import { rangeOf } from "./time-range.js";

export interface FeatureGroupPart {
  batch: Uint8Array;
  commitId: bigint;
}

export async function* readFeatureGroup(deps: { metadata: MetadataCache; store: OfflineStore; engine: QueryEngine }, req: ReadFeatureGroupRequest, signal?: AbortSignal): AsyncGenerator<FeatureGroupPart> {
  parseName(names.featureGroup, req.featureGroup, "feature_group", ["version"]);
  // NOT_FOUND for a group the registry does not know, before touching storage.
  const group = await deps.metadata.featureGroup(req.featureGroup);
  const table = deps.store.table(tableIdOf(group.name, "feature_group"));
  const range = rangeOf(req.eventTimeRange, "event_time_range");
  const asOf = asOfOf(req.asOf);
  let scan: ScanPlan;
  if (req.afterCommitId !== undefined) {
    const untilVersion = asOf && "version" in asOf ? asOf.version : asOf ? (await table.scan({ asOf })).version : undefined;
    scan = await table.scanChangesSince(Number(req.afterCommitId), { untilVersion });
  } else scan = await table.scan({ asOf });
  const { schema } = scan;
  const always = [...schema.primaryKey, schema.eventTime];
  const violations = req.features.flatMap((name, i) => (schema.features.some((f) => f.name === name) ? [] : [{ field: `features[${i}]`, description: `"${name}" is not a feature of ${group.name}` }]));
  if (violations.length) throw new InvalidArgumentError(violations);
  const wanted = req.features.length ? [...new Set([...always, ...req.features])] : schema.features.map((f) => f.name);
  const columns = wanted.map((name) => schema.features.find((f) => f.name === name)!);
  const commitId = BigInt(scan.version);
  const emptyBatch = () => encodeRecordBatch(0, columns.map((c) => ({ name: c.name, type: c.type, values: [] })));
  if (scan.files.length === 0) {
    yield { batch: emptyBatch(), commitId };
    return;
  }
  const et = quoteIdent(schema.eventTime);
  const where = [range.startMs !== undefined ? `${et} >= ${timestampLiteral(range.startMs)}` : "", range.endMs !== undefined ? `${et} < ${timestampLiteral(range.endMs)}` : ""].filter(Boolean);
  const versions = scan.files.map((f) => f.appendedInVersion);
  const commitOf = new Set(versions).size <= 1 ? String(versions[0]) : `[${versions.join(", ")}][file_index::BIGINT + 1]`;
  const latest = req.latestPerKey ? ` QUALIFY row_number() OVER (PARTITION BY ${schema.primaryKey.map(quoteIdent).join(", ")} ORDER BY ${et} DESC, __commit DESC) = 1` : "";
  const sql = `SELECT ${wanted.map(quoteIdent).join(", ")} FROM (SELECT *, ${commitOf} AS __commit FROM read_parquet(${parquetList(scan.files.map((f) => f.location))}))${where.length ? ` WHERE ${where.join(" AND ")}` : ""}${latest}`;
  const q = await deps.engine.open(signal);
  try {
    let sent = 0;
    for await (const batch of streamQuery(q, sql, columns, batchSizeOf(req.batchSize))) {
      sent += batch.rowCount;
      yield { batch: encodeRecordBatch(batch.rowCount, columns.map((c) => encoderColumn(c, batch.columns[c.name], batch.rowCount))), commitId };
    }
    if (sent === 0) yield { batch: emptyBatch(), commitId };
  } catch (err) {
    throw q.failure(err);
  } finally {
    q.close();
  }
}
