// A tiny, obviously-correct point-in-time join over in-memory history, as the
// offline store computes a training row: for a label row of entity e at time
// t, the root's latest row with event time <= t, and for each joined group its
// latest row with event time <= t and, with a TTL, >= t - ttl (ties: the row
// written later wins). Used to check that serving returns the same vector.
import type { Row, Value } from "@fti/schema";

export interface HistoryGroup {
  rows: Row[];
  key: string[];
  eventTime: string;
  ttlSeconds?: number;
}

export interface ReferenceJoin {
  group: HistoryGroup;
  /** Right key column → left column of the row built so far. */
  on: Record<string, string>;
  features: string[];
  prefix: string;
}

function latest(group: HistoryGroup, match: (r: Row) => boolean, t: Date): Row | undefined {
  let best: Row | undefined;
  for (const row of group.rows) {
    if (!match(row)) continue;
    const ts = (row[group.eventTime] as Date).getTime();
    if (ts > t.getTime()) continue;
    if (group.ttlSeconds !== undefined && ts < t.getTime() - group.ttlSeconds * 1000) continue;
    if (!best || ts >= (best[group.eventTime] as Date).getTime()) best = row;
  }
  return best;
}

const same = (a: Value, b: Value) => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b);

/** The point-in-time row of `entity` at `t`: root features, then each join's (prefixed), nulls where nothing matched. */
export function pointInTimeRow(root: HistoryGroup, rootFeatures: string[], joins: ReferenceJoin[], entity: Row, t: Date): Row | undefined {
  const rootRow = latest(root, (r) => root.key.every((k) => same(r[k]!, entity[k]!)), t);
  if (!rootRow) return undefined;
  const out: Row = {};
  const context: Row = { ...rootRow };
  for (const f of rootFeatures) out[f] = rootRow[f] ?? null;
  for (const join of joins) {
    const match = latest(join.group, (r) => Object.entries(join.on).every(([right, left]) => context[left] !== null && same(r[right]!, context[left]!)), t);
    for (const f of join.features) {
      out[join.prefix + f] = match?.[f] ?? null;
      context[join.prefix + f] = match?.[f] ?? null;
    }
  }
  return out;
}
