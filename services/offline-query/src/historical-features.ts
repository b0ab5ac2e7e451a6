// GetHistoricalFeatures (entity rows inline or from the root group over a
// time range) and GetHistoricalFeaturesStream (entity rows streamed in): the
// view is planned, entity rows staged in DuckDB, the point-in-time join run,
// and its result streamed out as encoded record batches.
import type { DuckDBConnection } from "@duckdb/node-api";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import type { Column } from "@fti/transforms";
import type { TimeRange } from "@fti/proto/fti/common/v1/types_pb";
import type { PointInTimeOptions } from "@fti/proto/fti/offline/v1/offline_pb";
import { InvalidArgumentError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { OfflineStore } from "@fti/offline-store";
import type { MetadataCache } from "@fti/registry-client";
import { appendEntityRows, createEntityTable, decodeEntityRows, parquetEntitySource, type EntityRowsSpec } from "./entity-rows.js";
import type { FittedPipeline } from "./fitted-transformations.js";
import { encodeBatch, outputShape } from "./output-columns.js";
import { pointInTimeSql, type EntitySource } from "./point-in-time.js";
import type { QueryEngine } from "./query-engine.js";
import { batchSizeOf, streamQuery } from "./result-stream.js";
import { scanGroups } from "./snapshots.js";
import { quoteIdent } from "./sql.js";
import { rangeOf } from "./time-range.js";
import type { ViewPlan } from "./view-plan.js";

export interface OfflineQueryDeps {
  metadata: MetadataCache;
  store: OfflineStore;
  engine: QueryEngine;
  logger: Logger;
}

export type Entities =
  /** Entity rows, in one or more parts with the same columns. */
  | { kind: "rows"; parts: AsyncIterable<RecordBatch>; field: string; defaultTimeMs?: number }
  | { kind: "root"; range: TimeRange | undefined; field: string; latestPerEntity?: boolean }
  /** Entity rows in a Parquet file or directory (training datasets, benchmarks). */
  | { kind: "parquet"; path: string; field: string };

export interface FeatureViewRead {
  plan: ViewPlan;
  entities: Entities;
  options: PointInTimeOptions | undefined;
  optionsField: string;
  includeLabels: boolean;
  /** Applied after on-demand features (GetBatchData with a training dataset). */
  transformations?: FittedPipeline;
  signal?: AbortSignal;
}

/** Streams a point-in-time read of a feature view as encoded RecordBatch messages. */
export async function* readFeatureView(deps: OfflineQueryDeps, read: FeatureViewRead): AsyncGenerator<Uint8Array> {
  const { plan, options, optionsField } = read;
  const batchSize = batchSizeOf(options?.batchSize ?? 0);
  const eventTime = options?.eventTimeColumn || plan.root.schema.eventTime;
  const range = read.entities.kind === "root" ? rangeOf(read.entities.range, read.entities.field) : undefined;
  const scans = await scanGroups(deps.store, plan.groups, { asOf: options?.asOf, groupAsOf: options?.groupAsOf, field: optionsField });

  const q = await deps.engine.open(read.signal);
  try {
    let entities: EntitySource;
    if (read.entities.kind === "rows") {
      const staged = await stageEntityRows(q.connection, read.entities, {
        servingKeys: plan.servingKeys,
        eventTime,
        defaultTimeMs: read.entities.defaultTimeMs,
        reserved: new Set(plan.outputs.map((c) => c.name)),
        field: read.entities.field,
      });
      entities = { kind: "rows", relation: quoteIdent(staged.table), columns: staged.columns, eventTime };
    } else if (read.entities.kind === "parquet") entities = await parquetEntitySource(q.connection, read.entities.path, eventTime, read.entities.field);
    else entities = { kind: "root", ...range, latestPerEntity: read.entities.latestPerEntity };

    const query = pointInTimeSql({ plan, scans, entities, bitemporal: options?.bitemporal ?? false, includeLabels: read.includeLabels });
    const shape = outputShape(plan, query.entityColumns, { includeLabels: read.includeLabels, features: options?.features, featuresField: `${optionsField}.features`, transformations: read.transformations });
    deps.logger.debug("point-in-time query", { featureView: plan.view.name, sql: query.sql });
    let sent = 0;
    // Each batch is encoded before the next is asked for: its arrays can be refilled.
    for await (const batch of streamQuery(q, query.sql, query.columns, batchSize, { reuse: true })) {
      sent += batch.rowCount;
      yield encodeBatch(shape, batch);
    }
    // An empty result still tells the caller its columns.
    if (sent === 0) yield encodeBatch(shape, { rowCount: 0, columns: {} });
  } catch (err) {
    throw q.failure(err);
  } finally {
    q.close();
  }
}

/** Stages every part of the entity rows in one temp table (which spills to disk when large). */
async function stageEntityRows(connection: DuckDBConnection, entities: Extract<Entities, { kind: "rows" }>, spec: EntityRowsSpec) {
  let table: string | undefined;
  let columns: Column[] | undefined;
  for await (const part of entities.parts) {
    if (part.columns.length === 0 && part.rowCount === 0) continue;
    const decoded = decodeEntityRows(part, spec, columns);
    if (!table) {
      columns = decoded.columns;
      table = await createEntityTable(connection, columns);
    }
    await appendEntityRows(connection, table, columns!, decoded.batch);
  }
  if (!table || !columns) throw InvalidArgumentError.field(entities.field, "entity rows are required: the serving key columns and the event-time column");
  return { table, columns };
}
