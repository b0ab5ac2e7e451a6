// Per-split statistics of a training dataset, in fti.common.v1's shape (the
// one ingestion and monitoring use, so splits compare with serving windows):
// one aggregate query per split over its Parquet files, with every column's
// aggregates chosen for what they cost on a wide split:
//   - count, null count, min and max: exact; min and max in a query of their
//     own, which DuckDB answers from the Parquet footers without reading values;
//   - mean and standard deviation: exact (one streaming pass);
//   - quantiles: from a uniform reservoir sample of 8192 values per column
//     (rank error about ±0.5% at the median), a tenth of a t-digest's cost;
//   - approximate distinct counts (HyperLogLog): for integer, string, bool and
//     timestamp columns. Not for float and double columns, where a count of
//     distinct continuous values says little and the sketch costs as much as
//     every other statistic together; their approx_distinct stays 0.
import type { DuckDBConnection } from "@duckdb/node-api";
import { create } from "@bufbuild/protobuf";
import { FeatureStatisticsSchema, type FeatureStatistics } from "@fti/proto/fti/common/v1/statistics_pb";
import type { Column } from "@fti/transforms";
import { parquetList, quoteIdent } from "./sql.js";

const quantiles = [0.01, 0.25, 0.5, 0.75, 0.99];
const quantileSample = 8192;
const numericTypes = new Set(["int32", "int64", "float", "double"]);
const continuousTypes = new Set(["float", "double"]);
const isNumeric = (c: Column) => typeof c.type === "string" && numericTypes.has(c.type);
/** Scalars other than float and double get a distinct-count sketch. */
const isSketched = (c: Column) => typeof c.type === "string" && !continuousTypes.has(c.type);

export async function splitStatistics(connection: DuckDBConnection, files: readonly string[], columns: readonly Column[]): Promise<{ rowCount: number; statistics: FeatureStatistics[] }> {
  if (files.length === 0) return { rowCount: 0, statistics: columns.map((c) => create(FeatureStatisticsSchema, { feature: c.name })) };
  const source = `read_parquet(${parquetList(files)})`;
  const ranged = columns.filter((c) => c.type === "timestamp" || isNumeric(c));
  // Timestamps as microseconds since the epoch.
  const extremes = ranged.flatMap((c) => (c.type === "timestamp" ? ["min", "max"].map((f) => `epoch_us(${f}(${quoteIdent(c.name)}))`) : ["min", "max"].map((f) => `${f}(${quoteIdent(c.name)})`)));
  const range = new Map<string, [unknown, unknown]>();
  if (extremes.length) {
    const row = (await connection.runAndReadAll(`SELECT ${extremes.join(", ")} FROM ${source}`)).getRowsJS()[0]!;
    ranged.forEach((c, i) => range.set(c.name, [row[2 * i], row[2 * i + 1]]));
  }

  const select = ["count(*)"];
  for (const c of columns) {
    const col = quoteIdent(c.name);
    select.push(`count(${col})`);
    if (isNumeric(c)) select.push(`avg(${col})`, `stddev_pop(${col})`, `reservoir_quantile(${col}, [${quantiles.join(", ")}], ${quantileSample})`);
    if (isSketched(c)) select.push(`approx_count_distinct(${col})`);
  }
  const row = (await connection.runAndReadAll(`SELECT ${select.join(", ")} FROM ${source}`)).getRowsJS()[0]!;
  let at = 0;
  const next = () => row[at++];
  const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  const rowCount = Number(next());
  const statistics = columns.map((c) => {
    const nonNull = Number(next());
    const s = create(FeatureStatisticsSchema, { feature: c.name, count: BigInt(rowCount), nullCount: BigInt(rowCount - nonNull) });
    const [min, max] = range.get(c.name) ?? [];
    if (range.has(c.name)) {
      s.min = num(min);
      s.max = num(max);
    }
    if (isNumeric(c)) {
      s.mean = num(next());
      s.stddev = num(next());
      const qs = next() as (number | bigint)[] | null;
      if (qs) s.quantiles = qs.map((value, i) => ({ $typeName: "fti.common.v1.Quantile" as const, quantile: quantiles[i]!, value: Number(value) }));
    }
    if (isSketched(c)) s.approxDistinct = BigInt(Math.min(Number(next() ?? 0), nonNull));
    return s;
  });
  return { rowCount, statistics };
}
