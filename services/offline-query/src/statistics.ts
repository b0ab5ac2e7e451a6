// Per-split statistics of a training dataset, in fti.common.v1's shape (the
// one ingestion and monitoring use, so splits compare with serving windows):
// one aggregate query per split over its Parquet files.
import type { DuckDBConnection } from "@duckdb/node-api";
import { create } from "@bufbuild/protobuf";
import { FeatureStatisticsSchema, type FeatureStatistics } from "@fti/proto/fti/common/v1/statistics_pb";
import type { Column } from "@fti/transforms";
import { parquetList, quoteIdent } from "./sql.js";

const quantiles = [0.01, 0.25, 0.5, 0.75, 0.99];
const numeric = new Set(["int32", "int64", "float", "double"]);

export async function splitStatistics(connection: DuckDBConnection, files: readonly string[], columns: readonly Column[]): Promise<{ rowCount: number; statistics: FeatureStatistics[] }> {
  if (files.length === 0) return { rowCount: 0, statistics: columns.map((c) => create(FeatureStatisticsSchema, { feature: c.name })) };
  const select = ["count(*)"];
  for (const c of columns) {
    const col = quoteIdent(c.name);
    select.push(`count(${col})`);
    if (typeof c.type === "string" && numeric.has(c.type)) {
      const x = `${col}::DOUBLE`;
      select.push(`min(${x})`, `max(${x})`, `avg(${x})`, `stddev_pop(${x})`, `approx_count_distinct(${col})`, `approx_quantile(${x}, [${quantiles.join(", ")}])`);
    } else if (c.type === "timestamp") {
      select.push(`min(epoch_us(${col}))::DOUBLE`, `max(epoch_us(${col}))::DOUBLE`, `approx_count_distinct(${col})`);
    } else if (c.type === "string" || c.type === "bool" || c.type === "bytes") {
      select.push(`approx_count_distinct(${col})`);
    }
  }
  const reader = await connection.runAndReadAll(`SELECT ${select.join(", ")} FROM read_parquet(${parquetList(files)})`);
  const row = reader.getRowsJS()[0]!;
  let at = 0;
  const next = () => row[at++];
  const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  const rowCount = Number(next());
  const statistics = columns.map((c) => {
    const nonNull = Number(next());
    const s = create(FeatureStatisticsSchema, { feature: c.name, count: BigInt(rowCount), nullCount: BigInt(rowCount - nonNull) });
    if (typeof c.type === "string" && numeric.has(c.type)) {
      s.min = num(next());
      s.max = num(next());
      s.mean = num(next());
      s.stddev = num(next());
      s.approxDistinct = BigInt(Number(next() ?? 0));
      const qs = next() as number[] | null;
      if (qs) s.quantiles = qs.map((value, i) => ({ $typeName: "fti.common.v1.Quantile" as const, quantile: quantiles[i]!, value: Number(value) }));
    } else if (c.type === "timestamp") {
      s.min = num(next());
      s.max = num(next());
      s.approxDistinct = BigInt(Number(next() ?? 0));
    } else if (c.type === "string" || c.type === "bool" || c.type === "bytes") {
      s.approxDistinct = BigInt(Number(next() ?? 0));
    }
    return s;
  });
  return { rowCount, statistics };
}
