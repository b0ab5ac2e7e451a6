// The point-in-time join as one DuckDB query. For each entity row at time t,
// each group contributes its latest row with event time <= t (and >= t - ttl
// when the group has a TTL); of rows with equal event time the later commit
// wins. DuckDB's ASOF LEFT JOIN does the search over exactly the snapshot's
// Parquet files, sorting and spilling as memory allows; the result streams.
//
// The inequality of each ASOF join is an "ingestion order" value `__o`: the
// event time with the commit's rank below it, so ties on event time resolve
// to the later commit inside the join itself, without a de-duplication pass.
// When every commit read holds events strictly newer than every earlier
// commit's (by the files' min/max stats) no two commits can tie, and `__o` is
// the event time itself: the join is then the plain ASOF join over the files,
// with no per-row arithmetic. Otherwise, with fewer than 1000 commits, `__o`
// is a TIMESTAMP_NS (event time in microseconds * 1000 + rank), which DuckDB
// sorts fastest; beyond that a HUGEINT (event time << 32 | rank). Rows of one
// commit sharing a key and event time are duplicates within one batch; which
// one is read is unspecified.
//
// Bitemporal reads also need the row to be committed at or before t. A row
// becomes visible at b = max(event time, commit time). A row that, once
// visible, is older (in `__o`) than a row visible no later than it can never
// be the answer, so those rows are dropped first (a window over the narrow
// key/time columns only); the ASOF join on b over the rest then yields, for
// each t, the visible row with the latest event time.
//
// Most tables are appended in time order: every commit holds events older than
// its commit time and newer than every earlier commit's (by the files' min/max
// stats). Then the rows visible at t are exactly those up to a bound (the
// newest event of the last commit made by t), so the bitemporal read is the
// plain ASOF join with the label's `__o` capped at that bound: no window, no
// anti-join. Tables that break the order (backfills) take the general plan.
import type { ScanFile, ScanPlan } from "@fti/offline-store";
import type { Column } from "@fti/transforms";
import { parquetList, quoteIdent, secondsInterval, sqlType, timestampLiteral } from "./sql.js";
import type { GroupRead, ViewPlan } from "./view-plan.js";

export type EntitySource =
  /** Caller-supplied rows in a DuckDB relation (a temp table or read_parquet(...)). */
  | { kind: "rows"; relation: string; columns: Column[]; eventTime: string }
  /** The root group's own rows with event time in [start, end). */
  | { kind: "root"; startMs?: number; endMs?: number; latestPerEntity?: boolean };

export interface PointInTimeQuery {
  plan: ViewPlan;
  scans: ReadonlyMap<string, ScanPlan>;
  entities: EntitySource;
  bitemporal: boolean;
  /** Add the view's label columns that the entity rows do not carry. */
  includeLabels: boolean;
}

export interface PointInTimeSql {
  sql: string;
  /** The result columns in order: entity columns, looked-up outputs, labels. */
  columns: Column[];
  /** The leading entity columns (keys, event time, pass-through). */
  entityColumns: Column[];
  /** The event-time column of the entity rows. */
  eventTime: string;
}

const fastRankLimit = 1000;

type Ordering = "event" | "ns" | "huge";

/** The commit rank of each file of a scan (0 = oldest commit read), and how many commits. */
function commitRanks(files: readonly ScanFile[]): { ranks: number[]; commits: number } {
  const versions = [...new Set(files.map((f) => f.appendedInVersion))].sort((a, b) => a - b);
  const rank = new Map(versions.map((v, i) => [v, i]));
  return { ranks: files.map((f) => rank.get(f.appendedInVersion)!), commits: versions.length };
}

/** How each ordering writes `__o`, in one place. */
const orderings: Record<
  Ordering,
  {
    /** Its SQL type. */
    type: string;
    /** A history row's value, from its event time and its commit's rank. */
    row(time: string, rank: string): string;
    /** A label row's value at `time`: after every row at that time, whatever its commit. */
    label(time: string): string;
    /** After every row with event time at or before `micros`. */
    upTo(micros: bigint): string;
    /** Below every row (not NULL: DuckDB's ASOF join treats a NULL inequality value as matching the latest row). */
    belowAll: string;
  }
> = {
  event: {
    type: "TIMESTAMPTZ",
    row: (time) => time,
    label: (time) => `${time}::TIMESTAMPTZ`,
    upTo: (micros) => `make_timestamptz(${micros}::BIGINT)`,
    belowAll: "'-infinity'::TIMESTAMPTZ",
  },
  ns: {
    type: "TIMESTAMP_NS",
    row: (time, rank) => `make_timestamp_ns(epoch_us(${time}) * 1000 + ${rank})`,
    label: (time) => `make_timestamp_ns(epoch_us(${time}) * 1000 + 999)`,
    upTo: (micros) => `make_timestamp_ns(${micros * 1000n + 999n})`,
    belowAll: "make_timestamp_ns(-9000000000000000000)",
  },
  huge: {
    type: "HUGEINT",
    row: (time, rank) => `((epoch_us(${time})::HUGEINT << 32) + ${rank})`,
    label: (time) => `((epoch_us(${time})::HUGEINT << 32) + 4294967295)`,
    upTo: (micros) => `((${micros}::HUGEINT << 32) + 4294967295)`,
    belowAll: "(-(1::HUGEINT << 120))",
  },
};

/** A per-row value from a per-file list, indexed by DuckDB's file_index virtual column. */
function perFile(values: readonly (number | string)[]): string {
  if (new Set(values).size <= 1) return String(values[0] ?? 0);
  return `[${values.join(", ")}][file_index::BIGINT + 1]`;
}

interface CommitRange {
  committedAtMs: number;
  minMs: number;
  maxMs: number;
  rank: number;
}

/** Each commit read, oldest first, with its events' time range; undefined when a file lacks event-time stats. */
function commitRanges(scan: ScanPlan, eventTime: string): CommitRange[] | undefined {
  const byVersion = new Map<number, Omit<CommitRange, "rank">>();
  for (const f of scan.files) {
    const min = f.stats?.minValues[eventTime];
    const max = f.stats?.maxValues[eventTime];
    if (typeof min !== "number" || typeof max !== "number") return undefined;
    const c = byVersion.get(f.appendedInVersion) ?? { committedAtMs: f.appendedAt.getTime(), minMs: Infinity, maxMs: -Infinity };
    byVersion.set(f.appendedInVersion, { committedAtMs: c.committedAtMs, minMs: Math.min(c.minMs, min), maxMs: Math.max(c.maxMs, max) });
  }
  return [...byVersion.entries()].sort((a, b) => a[0] - b[0]).map(([, c], rank) => ({ ...c, rank }));
}

/**
 * Whether each commit's events are all newer than every earlier commit's, so
 * no two commits share an event time. Stats hold milliseconds (floored), so
 * the gaps must be strict: then even microsecond values keep the order.
 */
function disjointInTime(commits: readonly CommitRange[]): boolean {
  return commits.every((c, i) => i === 0 || commits[i - 1]!.maxMs < c.minMs);
}

/**
 * For a snapshot appended in time order (disjoint in time, and every commit
 * made after its newest event), each commit's time and the largest `__o` of
 * any row it or an earlier commit holds; undefined otherwise.
 */
function inOrderCommits(scan: ScanPlan, eventTime: string): CommitRange[] | undefined {
  const commits = commitRanges(scan, eventTime);
  if (!commits || !disjointInTime(commits)) return undefined;
  const ordered = commits.every((c, i) => c.maxMs < c.committedAtMs && (i === 0 || commits[i - 1]!.committedAtMs <= c.committedAtMs));
  return ordered ? commits : undefined;
}

/**
 * SELECT of a group's snapshot: the wanted columns plus `__o` (and `__b` when
 * bitemporal). With the "event" ordering `__o` is the event time column itself
 * (see `ordOf`), not carried twice through the join's sort.
 */
function historySql(group: GroupRead, scan: ScanPlan, columns: readonly string[], ordering: Ordering, bitemporal: boolean): string {
  const et = quoteIdent(group.schema.eventTime);
  const wanted = columns.map(quoteIdent);
  const typeOf = (name: string) => sqlType(scan.schema.features.find((f) => f.name === name)?.type ?? group.schema.features.find((f) => f.name === name)!.type);
  if (scan.files.length === 0) {
    const nulls = columns.map((c) => `NULL::${typeOf(c)} AS ${quoteIdent(c)}`);
    return `SELECT ${[...nulls, `NULL::${orderings[ordering].type} AS __o`, ...(bitemporal ? ["NULL::TIMESTAMPTZ AS __b"] : [])].join(", ")} WHERE false`;
  }
  const { ranks } = commitRanks(scan.files);
  const source = `read_parquet(${parquetList(scan.files.map((f) => f.location))})`;
  const ord = orderings[ordering].row(et, perFile(ranks));
  if (!bitemporal) return `SELECT ${[...wanted, ...(ordering === "event" ? [] : [`${ord} AS __o`])].join(", ")} FROM ${source}`;
  const committed = perFile(scan.files.map((f) => `make_timestamptz(${f.appendedAt.getTime() * 1000}::BIGINT)`));
  const visible = `greatest(${et}, ${committed})`;
  const keys = group.schema.primaryKey.map(quoteIdent).join(", ");
  const dominated = `SELECT __fi, __rn FROM (
      SELECT __fi, __rn, __o, max(__o) OVER (PARTITION BY ${keys} ORDER BY __b RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __best
      FROM (SELECT ${keys}, file_index AS __fi, file_row_number AS __rn, ${ord} AS __o, ${visible} AS __b FROM ${source})
    ) WHERE __o < __best`;
  return `SELECT ${[...wanted.map((c) => `h.${c}`), "h.__o", "h.__b"].join(", ")}
    FROM (SELECT ${[...wanted, `${ord} AS __o`, `${visible} AS __b`, "file_index AS __fi", "file_row_number AS __rn"].join(", ")} FROM ${source}) h
    ANTI JOIN (${dominated}) d ON h.__fi = d.__fi AND h.__rn = d.__rn`;
}

/** The `__o` of a row of `historySql(group, …, bitemporal = false)`, qualified by `alias`. */
function ordOf(ordering: Ordering, group: GroupRead, alias?: string): string {
  const column = ordering === "event" ? quoteIdent(group.schema.eventTime) : "__o";
  return alias ? `${alias}.${column}` : column;
}

/** Up to this many commits, a label's bitemporal cap is a CASE over the commit times; beyond, an ASOF join on them. */
const capCaseLimit = 32;

export function pointInTimeSql(query: PointInTimeQuery): PointInTimeSql {
  const { plan, scans, entities, bitemporal } = query;
  const scanOf = (g: GroupRead) => scans.get(g.name)!;
  const ordering: Ordering = plan.groups.every((g) => {
    const commits = commitRanges(scanOf(g), g.schema.eventTime);
    return commits !== undefined && disjointInTime(commits);
  })
    ? "event"
    : plan.groups.every((g) => commitRanks(scanOf(g).files).commits < fastRankLimit)
      ? "ns"
      : "huge";
  const root = plan.root;
  const rootFromEntities = entities.kind === "root";

  // Root columns later joins use as keys, by their own (unprefixed) names.
  const rootColumns = new Set(root.schema.features.map((f) => f.name));
  const keyColumnsOfRoot = new Set(plan.joins.flatMap((j) => j.keys.map((k) => k.left)).filter((l) => rootColumns.has(l)));

  // ---- the entity relation `e`
  let entitySql: string;
  let entityColumns: Column[];
  let eventTime: string;
  if (entities.kind === "rows") {
    eventTime = entities.eventTime;
    entityColumns = entities.columns;
    entitySql = `SELECT ${entityColumns.map((c) => quoteIdent(c.name)).join(", ")} FROM ${entities.relation}`;
  } else {
    const scan = scanOf(root);
    eventTime = root.schema.eventTime;
    const typeOf = (name: string) => root.schema.features.find((f) => f.name === name)!.type;
    entityColumns = [...root.schema.primaryKey, eventTime].map((name) => ({ name, type: typeOf(name) }));
    const columns = [...new Set([...root.schema.primaryKey, eventTime, ...root.features.map((f) => f.source), ...keyColumnsOfRoot])];
    const et = quoteIdent(eventTime);
    const where = [entities.startMs !== undefined ? `${et} >= ${timestampLiteral(entities.startMs)}` : "", entities.endMs !== undefined ? `${et} < ${timestampLiteral(entities.endMs)}` : ""].filter(Boolean);
    const keys = root.schema.primaryKey.map(quoteIdent).join(", ");
    // One label row per key and event time (the later commit's, as everywhere); or per key, its latest.
    const order = ordOf(ordering, root);
    const partition = entities.latestPerEntity ? `PARTITION BY ${keys} ORDER BY ${order} DESC` : `PARTITION BY ${keys}, ${et} ORDER BY ${order} DESC`;
    entitySql = `SELECT ${columns.map(quoteIdent).join(", ")} FROM (${historySql(root, scan, columns, ordering, false)})${where.length ? ` WHERE ${where.join(" AND ")}` : ""} QUALIFY row_number() OVER (${partition}) = 1`;
  }
  const t = `e.${quoteIdent(eventTime)}`;
  const entityOrd = orderings[ordering].label(quoteIdent(eventTime));

  // ---- column expressions of each group, guarded by its TTL
  const columnOf = (g: GroupRead, source: string): string => {
    if (g === root && rootFromEntities) return `e.${quoteIdent(source)}`;
    const value = `${g.alias}.${quoteIdent(source)}`;
    if (!g.schema.ttlSeconds) return value;
    return `CASE WHEN ${g.alias}.${quoteIdent(g.schema.eventTime)} >= ${t} - ${secondsInterval(g.schema.ttlSeconds)} THEN ${value} END`;
  };
  const outputSource = new Map<string, { group: GroupRead; source: string }>();
  for (const g of plan.groups) for (const f of g.features) outputSource.set(f.output, { group: g, source: f.source });
  // A join key's left side: a root column by its own name, else an earlier join's output column.
  // The root's key columns are the entity rows' own, present whether or not the root has a row.
  const leftOf = (left: string): string => {
    if (root.schema.primaryKey.includes(left)) return `e.${quoteIdent(left)}`;
    if (rootColumns.has(left)) return columnOf(root, left);
    const from = outputSource.get(left)!;
    return columnOf(from.group, from.source);
  };

  // ---- the joins
  const joins: string[] = [];
  // Bitemporal reads of in-order tables cap each label's `__o` per group (see the top of this file);
  // the caps are computed on the entity side first, so each group's ASOF join compares plain columns.
  const caps: string[] = [];
  const capJoins: string[] = [];
  const asofJoin = (g: GroupRead, on: string[], columns: string[]) => {
    const commits = bitemporal ? inOrderCommits(scanOf(g), g.schema.eventTime) : undefined;
    if (bitemporal && commits) {
      // The newest `__o` known at t: the bound of the last commit made at or before t (none: nothing is known).
      // Stats hold milliseconds (floored): the bound takes in every microsecond of the newest one.
      const bound = (ms: number) => orderings[ordering].upTo(BigInt(ms) * 1000n + 999n);
      const known = `${g.alias}_known`;
      const nothingKnown = orderings[ordering].belowAll;
      const cap = `__o_${g.alias}`;
      const x = `x.${quoteIdent(eventTime)}`;
      if (commits.length === 0) caps.push(`${nothingKnown} AS ${cap}`);
      else if (commits.length <= capCaseLimit) {
        const whens = [...commits].reverse().map((c) => `WHEN ${x} >= ${timestampLiteral(c.committedAtMs)} THEN ${bound(c.maxMs)}`);
        caps.push(`least(x.__o, CASE ${whens.join(" ")} ELSE ${nothingKnown} END) AS ${cap}`);
      } else {
        const rows = commits.map((c) => `(${timestampLiteral(c.committedAtMs)}, ${bound(c.maxMs)})`);
        capJoins.push(`ASOF LEFT JOIN (SELECT * FROM (VALUES ${rows.join(", ")}) v(__committed, __bound)) ${known} ON ${x} >= ${known}.__committed`);
        caps.push(`CASE WHEN ${known}.__bound IS NULL THEN ${nothingKnown} ELSE least(x.__o, ${known}.__bound) END AS ${cap}`);
      }
      joins.push(`ASOF LEFT JOIN (${historySql(g, scanOf(g), columns, ordering, false)}) ${g.alias} ON ${[...on, `e.${cap} >= ${ordOf(ordering, g, g.alias)}`].join(" AND ")}`);
      return;
    }
    const condition = bitemporal ? `${t} >= ${g.alias}.__b` : `e.__o >= ${ordOf(ordering, g, g.alias)}`;
    joins.push(`ASOF LEFT JOIN (${historySql(g, scanOf(g), columns, ordering, bitemporal)}) ${g.alias} ON ${[...on, condition].join(" AND ")}`);
  };
  if (!rootFromEntities) {
    const columns = [...new Set([...root.schema.primaryKey, root.schema.eventTime, ...root.features.map((f) => f.source), ...keyColumnsOfRoot])];
    asofJoin(root, root.schema.primaryKey.map((k) => `e.${quoteIdent(k)} = g0.${quoteIdent(k)}`), columns);
  }
  for (const g of plan.joins) {
    const columns = [...new Set([...g.schema.primaryKey, g.schema.eventTime, ...g.features.map((f) => f.source)])];
    asofJoin(g, g.keys.map((k) => `${leftOf(k.left)} = ${g.alias}.${quoteIdent(k.right)}`), columns);
  }

  // ---- the select list
  const present = new Set(entityColumns.map((c) => c.name));
  const select = entityColumns.map((c) => `e.${quoteIdent(c.name)}`);
  const columns: Column[] = [...entityColumns];
  for (const c of plan.lookedUp) {
    const from = outputSource.get(c.name)!;
    select.push(`${columnOf(from.group, from.source)} AS ${quoteIdent(c.name)}`);
    columns.push(c);
  }
  if (query.includeLabels)
    for (const label of plan.rootLabels) {
      if (present.has(label.name) || columns.some((c) => c.name === label.name)) continue;
      const from = outputSource.get(label.name)!;
      select.push(`${columnOf(from.group, from.source)} AS ${quoteIdent(label.name)}`);
      columns.push(label);
    }

  const withOrd = `SELECT *, ${entityOrd} AS __o FROM (${entitySql})`;
  const entityRelation = caps.length ? `SELECT x.*, ${caps.join(", ")} FROM (${withOrd}) x ${capJoins.join(" ")}` : withOrd;
  const sql = `SELECT ${select.join(", ")}
FROM (${entityRelation}) e
${joins.join("\n")}`;
  return { sql, columns, entityColumns, eventTime };
}
