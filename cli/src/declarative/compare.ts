// What differs between a registered resource and its definition: which
// top-level fields changed (for update masks and plan output), and which
// schema changes are breaking (they need a new version, as the registry's
// UpdateFeatureGroup would refuse them).
import { create, equals, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { featureTypeFromWire } from "@fti/record-batch";
import { typeName } from "@fti/schema";
import { formatDuration } from "../values.js";

export interface FieldChange {
  /** The update-mask path, e.g. "online_enabled". */
  path: string;
  /** For people, e.g. `online_enabled: false → true`. */
  detail: string;
}

/** The fields among `paths` (proto field names) whose values differ. */
export function changedFields<D extends DescMessage>(schema: D, current: MessageShape<D>, desired: MessageShape<D>, paths: readonly string[]): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const path of paths) {
    const field = schema.fields.find((f) => f.name === path);
    if (!field) throw new Error(`${schema.typeName} has no field ${path}`);
    const key = field.localName as keyof MessageShape<D>;
    const a = create(schema) as MessageShape<D>;
    const b = create(schema) as MessageShape<D>;
    a[key] = current[key];
    b[key] = desired[key];
    if (equals(schema, a, b)) continue;
    changes.push({ path, detail: describe(path, field.fieldKind, current[key], desired[key]) });
  }
  return changes;
}

function describe(path: string, kind: string, before: unknown, after: unknown): string {
  const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
  if (kind === "scalar" || kind === "enum") return `${path}: ${show(before)} → ${show(after)}`;
  if (path === "ttl" || path === "window") {
    const d = (v: unknown) => (v ? formatDuration(Number((v as { seconds: bigint }).seconds)) : "none");
    return `${path}: ${d(before)} → ${d(after)}`;
  }
  if (kind === "map") return `${path}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`;
  return `${path} changes`;
}

/**
 * Why `desired` cannot replace `current` in place: a removed feature, a
 * changed type, nullability or position, a new non-nullable feature, another
 * primary key or event-time column. Empty when an update will do.
 */
export function breakingChanges(current: FeatureGroup, desired: FeatureGroup): string[] {
  const problems: string[] = [];
  const features = (fg: FeatureGroup) => (fg.schema?.features ?? []).map((f, i) => ({ name: f.name, type: typeName(featureTypeFromWire(f.type, `features[${i}].type`)), nullable: f.nullable ?? true }));
  const before = features(current);
  const after = features(desired);
  const afterByName = new Map(after.map((f, i) => [f.name, { f, i }]));
  before.forEach((f, i) => {
    const now = afterByName.get(f.name);
    if (!now) problems.push(`feature "${f.name}" is removed`);
    else if (now.f.type !== f.type) problems.push(`feature "${f.name}" changes type from ${f.type} to ${now.f.type}`);
    else if (now.f.nullable !== f.nullable) problems.push(`feature "${f.name}" changes nullability`);
    else if (now.i !== i) problems.push(`feature "${f.name}" moves from position ${i} to ${now.i}`);
  });
  const known = new Set(before.map((f) => f.name));
  for (const f of desired.schema?.features ?? []) if (!known.has(f.name) && f.nullable === false) problems.push(`new feature "${f.name}" is not nullable`);
  if (current.primaryKey.join(",") !== desired.primaryKey.join(",")) problems.push(`primary key changes from (${current.primaryKey.join(", ")}) to (${desired.primaryKey.join(", ")})`);
  if (current.eventTime !== desired.eventTime) problems.push(`event-time column changes from "${current.eventTime}" to "${desired.eventTime}"`);
  return problems;
}

/** The in-place schema changes, for plan output: appended features, changed descriptions or tags. */
export function schemaChangeDetails(current: FeatureGroup, desired: FeatureGroup): string[] {
  const before = new Map((current.schema?.features ?? []).map((f) => [f.name, f]));
  return (desired.schema?.features ?? []).flatMap((f) => {
    const old = before.get(f.name);
    if (!old) return [`schema: adds nullable feature "${f.name}"`];
    const out: string[] = [];
    if (old.description !== f.description) out.push(`schema: description of "${f.name}" changes`);
    if (!sameTags(old.tags, f.tags)) out.push(`schema: tags of "${f.name}" change`);
    return out;
  });
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const sorted = (t: Record<string, string>) => JSON.stringify(Object.entries(t).sort(([x], [y]) => x.localeCompare(y)));
  return sorted(a) === sorted(b);
}
