// The scenario most tests share: a "shop" project scoring customers.
//   customers (root, key customer_id): age, income, segment_id, churned (label)
//   activity  (joined on customer_id, TTL 1 h): clicks_7d, spend_30d
//   segments  (joined on the root's segment_id, not a key): risk
// View "scoring": those features (prefixes act_ and seg_), request parameter
// amount, on-demand amount_ratio = amount / income, a standard scaler on income
// and a mean imputer on act_spend_30d.
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { recordBatchMessage, decodeRecordBatch } from "@fti/record-batch";
import type { FeatureColumn } from "@fti/proto/fti/serving/v1/serving_pb";
import type { Row, Value } from "@fti/schema";
import type { Column } from "@fti/transforms";
import { createGroup, createProject, createView, type ServingHarness } from "./harness.js";

const scalar = (name: string, type: ScalarType, nullable = true) => ({ name, type: { kind: { case: "scalar" as const, value: type } }, nullable });

export const project = "shop";
export const ttlSeconds = 3600;

export async function createShop(h: ServingHarness, p = project) {
  await createProject(h, p);
  const customers = await createGroup(h, p, "customers", {
    schema: { features: [scalar("customer_id", ScalarType.INT64, false), scalar("ts", ScalarType.TIMESTAMP, false), scalar("age", ScalarType.INT32), scalar("income", ScalarType.DOUBLE), scalar("segment_id", ScalarType.INT64), scalar("churned", ScalarType.BOOL)] },
    primaryKey: ["customer_id"],
    eventTime: "ts",
  });
  const activity = await createGroup(h, p, "activity", {
    schema: { features: [scalar("customer_id", ScalarType.INT64, false), scalar("ts", ScalarType.TIMESTAMP, false), scalar("clicks_7d", ScalarType.INT32), scalar("spend_30d", ScalarType.DOUBLE)] },
    primaryKey: ["customer_id"],
    eventTime: "ts",
    ttl: { seconds: BigInt(ttlSeconds) },
  });
  const segments = await createGroup(h, p, "segments", {
    schema: { features: [scalar("segment_id", ScalarType.INT64, false), scalar("ts", ScalarType.TIMESTAMP, false), scalar("risk", ScalarType.DOUBLE)] },
    primaryKey: ["segment_id"],
    eventTime: "ts",
  });
  const view = await createView(h, p, "scoring", {
    root: { featureGroup: customers.name, features: ["age", "income", "segment_id", "churned"] },
    joins: [
      { selection: { featureGroup: activity.name, prefix: "act_" }, keys: [{ left: "customer_id", right: "customer_id" }] },
      { selection: { featureGroup: segments.name, features: ["risk"], prefix: "seg_" }, keys: [{ left: "segment_id", right: "segment_id" }] },
    ],
    labelColumns: ["churned"],
    requestParameters: [scalar("amount", ScalarType.DOUBLE)],
    onDemandFeatures: [{ name: "amount_ratio", type: { kind: { case: "scalar", value: ScalarType.DOUBLE } }, expression: "amount / nullif(income, 0)" }],
    transformations: [
      { feature: "income", kind: { case: "standardScaler", value: {} } },
      { feature: "act_spend_30d", kind: { case: "imputer", value: { strategy: 1 } } },
    ],
  });
  return { customers, activity, segments, view };
}

/** The view's columns before transformations (the inputs transformations are fitted over). */
export const viewColumns: Column[] = [
  { name: "age", type: "int32" },
  { name: "income", type: "double" },
  { name: "segment_id", type: "int64" },
  { name: "act_clicks_7d", type: "int32" },
  { name: "act_spend_30d", type: "double" },
  { name: "seg_risk", type: "double" },
  { name: "amount_ratio", type: "double" },
  { name: "amount", type: "double" },
];

export const entities = (ids: bigint[]) => recordBatchMessage(ids.length, [{ name: "customer_id", type: "int64", values: ids }]);
export const requestData = (amounts: number[]) => recordBatchMessage(amounts.length, [{ name: "amount", type: "double", values: amounts }]);

/** A response column's values, decoded. */
export function valuesOf(column: FeatureColumn, rowCount: number): Value[] {
  const decoded = decodeRecordBatch({ $typeName: "fti.common.v1.RecordBatch", rowCount, columns: [column.values!] });
  return decoded.columns[column.values!.name]!;
}

/** name → { values, statuses } of a response. */
export function byName(columns: FeatureColumn[], rowCount: number) {
  return Object.fromEntries(columns.map((c) => [c.values!.name, { values: valuesOf(c, rowCount), statuses: c.statuses.map(Number), eventTimes: c.eventTimeMicros }]));
}

export const at = (t: Date, deltaMs: number) => new Date(t.getTime() + deltaMs);
export type { Row };
