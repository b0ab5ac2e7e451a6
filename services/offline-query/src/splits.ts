// How training dataset rows are assigned to splits, as a SQL expression.
// Random splits hash each row's identity — the seed, its entity key and its
// event time — never its position, so a row lands in the same split however
// the data is ordered or chunked. The hash is MD5 of
// "seed|key1|…|event_time_micros" (keys as text; timestamp keys as
// microseconds), its first 13 hex digits read as a fraction of 16^13, so any
// tool can recompute the assignment. Time splits use the event time.
import { idProblem } from "@fti/aip";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import type { SplitSpec } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { Column } from "@fti/transforms";
import { quoteIdent, quoteString, timestampLiteral } from "./sql.js";
import { rangeOf } from "./time-range.js";

export interface SplitPlan {
  names: string[];
  /** Every row goes to one split (no split spec, or a random split into one): no per-row assignment needed. */
  whole?: string;
  /** SQL giving each row's split name, or NULL for rows in no split (time splits). */
  expression(keys: readonly Column[], eventTime: string): string;
}

/** Checks a split spec; unset means one split, "train". */
export function splitPlan(spec: SplitSpec | undefined, field = "training_dataset.split"): SplitPlan {
  const kind = spec?.kind;
  const v: FieldViolation[] = [];
  const checkName = (name: string, at: string, seen: Set<string>) => {
    const problem = idProblem(name);
    if (problem) v.push({ field: at, description: `split name ${problem}` });
    if (seen.has(name)) v.push({ field: at, description: `duplicate split "${name}"` });
    seen.add(name);
  };
  if (kind?.case === "random") {
    const { fractions, seed } = kind.value;
    const seen = new Set<string>();
    let sum = 0;
    fractions.forEach((f, i) => {
      checkName(f.name, `${field}.random.fractions[${i}].name`, seen);
      if (!(f.fraction > 0 && f.fraction <= 1)) v.push({ field: `${field}.random.fractions[${i}].fraction`, description: `must be in (0, 1], got ${f.fraction}` });
      sum += f.fraction;
    });
    if (fractions.length === 0) v.push({ field: `${field}.random.fractions`, description: "name at least one split" });
    else if (Math.abs(sum - 1) > 1e-9) v.push({ field: `${field}.random.fractions`, description: `fractions must sum to 1, got ${sum}` });
    if (v.length) throw new InvalidArgumentError(v);
    return {
      names: fractions.map((f) => f.name),
      ...(fractions.length === 1 ? { whole: fractions[0]!.name } : {}),
      expression(keys, eventTime) {
        const parts = [quoteString(String(seed)), ...keys.map((k) => (k.type === "timestamp" ? `epoch_us(${quoteIdent(k.name)})::VARCHAR` : `${quoteIdent(k.name)}::VARCHAR`)), `epoch_us(${quoteIdent(eventTime)})::VARCHAR`];
        const fraction = `(('0x' || md5(concat_ws('|', ${parts.join(", ")}))[1:13])::BIGINT / 4503599627370496.0)`;
        let cumulative = 0;
        const whens = fractions.slice(0, -1).map((f) => {
          cumulative += f.fraction;
          return `WHEN ${fraction} < ${cumulative} THEN ${quoteString(f.name)}`;
        });
        const last = quoteString(fractions.at(-1)!.name);
        return whens.length ? `CASE ${whens.join(" ")} ELSE ${last} END` : last;
      },
    };
  }
  if (kind?.case === "time") {
    const seen = new Set<string>();
    const ranges = kind.value.ranges.map((r, i) => {
      checkName(r.name, `${field}.time.ranges[${i}].name`, seen);
      try {
        return { name: r.name, ...rangeOf(r.range, `${field}.time.ranges[${i}].range`) };
      } catch (err) {
        if (err instanceof InvalidArgumentError) v.push(...err.violations);
        return { name: r.name };
      }
    });
    if (ranges.length === 0) v.push({ field: `${field}.time.ranges`, description: "name at least one split" });
    ranges.forEach((a, i) =>
      ranges.slice(0, i).forEach((b, j) => {
        const overlaps = (a.startMs ?? -Infinity) < (b.endMs ?? Infinity) && (b.startMs ?? -Infinity) < (a.endMs ?? Infinity);
        if (overlaps) v.push({ field: `${field}.time.ranges[${i}].range`, description: `overlaps ranges[${j}] ("${b.name}")` });
      }),
    );
    if (v.length) throw new InvalidArgumentError(v);
    return {
      names: ranges.map((r) => r.name),
      expression(_keys, eventTime) {
        const t = quoteIdent(eventTime);
        const whens = ranges.map((r) => {
          const conds = [r.startMs !== undefined ? `${t} >= ${timestampLiteral(r.startMs)}` : "", r.endMs !== undefined ? `${t} < ${timestampLiteral(r.endMs)}` : ""].filter(Boolean);
          return `WHEN ${conds.length ? conds.join(" AND ") : "true"} THEN ${quoteString(r.name)}`;
        });
        return `CASE ${whens.join(" ")} END`;
      },
    };
  }
  return { names: ["train"], whole: "train", expression: () => quoteString("train") };
}

