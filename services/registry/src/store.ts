// SQL for the resources, dependencies and deployment_revisions tables. Plain
// functions over a connection so the domain code composes them inside one
// transaction (with the outbox row of the change).
import type { CursorValue } from "@fti/aip";
import type { Queryable } from "@fti/db";
import type { Kind } from "./names.js";

export interface ResourceRow {
  name: string;
  kind: Kind;
  project: string | null;
  collection: string;
  id: string;
  version: number;
  owner: string;
  tags: Record<string, string>;
  attrs: Record<string, string>;
  revision: bigint;
  body: Uint8Array;
  createTime: Date;
  updateTime: Date;
}

const columns = "name, kind, project, collection, id, version, owner, tags, attrs, revision, body, create_time, update_time";

function toRow(r: Record<string, unknown>): ResourceRow {
  return {
    name: r.name as string,
    kind: r.kind as Kind,
    project: r.project as string | null,
    collection: r.collection as string,
    id: r.id as string,
    version: r.version as number,
    owner: r.owner as string,
    tags: r.tags as Record<string, string>,
    attrs: r.attrs as Record<string, string>,
    revision: BigInt(r.revision as string),
    body: r.body as Uint8Array,
    createTime: r.create_time as Date,
    updateTime: r.update_time as Date,
  };
}

/** The number of a new change (see the `changes` sequence). */
export async function nextRevision(db: Queryable): Promise<bigint> {
  const { rows } = await db.query<{ n: string }>("SELECT nextval('changes') AS n");
  return BigInt(rows[0]!.n);
}

/** Serialises version numbering within one collection until the transaction ends. */
export async function lockCollection(db: Queryable, collection: string): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtext('fti.registry.collection'), hashtext($1))", [collection]);
}

export async function insertResource(db: Queryable, row: ResourceRow): Promise<void> {
  await db.query(`INSERT INTO resources (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [
    row.name, row.kind, row.project, row.collection, row.id, row.version, row.owner, row.tags, row.attrs, row.revision.toString(), row.body, row.createTime, row.updateTime,
  ]);
}

/** One resource of `kind`; `forUpdate` locks it until the transaction ends. */
export async function loadResource(db: Queryable, kind: Kind, name: string, options: { forUpdate?: boolean } = {}): Promise<ResourceRow | undefined> {
  const { rows } = await db.query(`SELECT ${columns} FROM resources WHERE name = $1 AND kind = $2${options.forUpdate ? " FOR UPDATE" : ""}`, [name, kind]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Only the stored message of a resource: the read path of every Get. */
export async function loadBody(db: Queryable, kind: Kind, name: string): Promise<Uint8Array | undefined> {
  const { rows } = await db.query<{ body: Uint8Array }>("SELECT body FROM resources WHERE name = $1 AND kind = $2", [name, kind]);
  return rows[0]?.body;
}

/** The highest version in a collection, or 0 when it has none. */
export async function latestVersion(db: Queryable, collection: string): Promise<number> {
  const { rows } = await db.query<{ v: number | null }>("SELECT max(version) AS v FROM resources WHERE collection = $1", [collection]);
  return rows[0]?.v ?? 0;
}

export async function updateResource(db: Queryable, row: Pick<ResourceRow, "name" | "owner" | "tags" | "attrs" | "revision" | "body" | "updateTime">): Promise<void> {
  await db.query("UPDATE resources SET owner = $2, tags = $3, attrs = $4, revision = $5, body = $6, update_time = $7 WHERE name = $1", [
    row.name, row.owner, row.tags, row.attrs, row.revision.toString(), row.body, row.updateTime,
  ]);
}

export async function deleteResource(db: Queryable, name: string): Promise<void> {
  await db.query("DELETE FROM resources WHERE name = $1", [name]);
}

/** Names of the resources that depend on `name` (sorted; at most `limit`). */
export async function dependentsOf(db: Queryable, name: string, limit = 20): Promise<string[]> {
  const { rows } = await db.query<{ downstream: string }>("SELECT downstream FROM dependencies WHERE upstream = $1 ORDER BY downstream LIMIT $2", [name, limit]);
  return rows.map((r) => r.downstream);
}

/** Names of the resources a project holds (at most `limit`). */
export async function resourcesOfProject(db: Queryable, project: string, limit = 20): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM resources WHERE project = $1 ORDER BY name LIMIT $2", [project, limit]);
  return rows.map((r) => r.name);
}

/** Makes `downstream` depend on exactly `upstreams`. */
export async function setDependencies(db: Queryable, downstream: string, upstreams: readonly string[]): Promise<void> {
  await db.query("DELETE FROM dependencies WHERE downstream = $1", [downstream]);
  if (upstreams.length) await db.query("INSERT INTO dependencies (upstream, downstream) SELECT DISTINCT unnest($1::text[]), $2", [upstreams, downstream]);
}

export interface Edge {
  upstream: string;
  downstream: string;
  upstreamKind: Kind;
  downstreamKind: Kind;
}

/** Edges touching any of `names`, in the given direction(s). */
export async function edgesAround(db: Queryable, names: readonly string[], direction: "up" | "down"): Promise<Edge[]> {
  const match = direction === "up" ? "d.downstream" : "d.upstream";
  const { rows } = await db.query(
    `SELECT d.upstream, d.downstream, u.kind AS upstream_kind, w.kind AS downstream_kind
       FROM dependencies d JOIN resources u ON u.name = d.upstream JOIN resources w ON w.name = d.downstream
      WHERE ${match} = ANY($1::text[])`,
    [names],
  );
  return rows.map((r) => ({ upstream: r.upstream, downstream: r.downstream, upstreamKind: r.upstream_kind, downstreamKind: r.downstream_kind }));
}

// ---- listing ----

/** Builds parameter placeholders for one statement. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export type ListOrder = "id" | "version_desc" | "version_asc";

export interface ListQuery {
  kind: Kind;
  /** SQL conditions on `r` (the resources row), using `params`. */
  where: string[];
  params: Params;
  /** Only the highest version of each collection. */
  latestOnly?: boolean;
  order: ListOrder;
  /** The sort key of the last row of the previous page. */
  after?: CursorValue[];
  limit: number;
}

/** The sort key keyset pagination continues after. */
export function cursorOf(row: ResourceRow, order: ListOrder): CursorValue[] {
  return order === "id" ? [row.id, row.version] : [row.version];
}

export async function listResources(db: Queryable, q: ListQuery): Promise<ResourceRow[]> {
  const p = q.params;
  const where = [`r.kind = ${p.add(q.kind)}`, ...q.where];
  if (q.latestOnly) where.push("r.version = (SELECT max(l.version) FROM resources l WHERE l.collection = r.collection)");
  let orderBy: string;
  if (q.order === "id") {
    if (q.after) where.push(`(r.id, r.version) > (${p.add(String(q.after[0]))}, ${p.add(Number(q.after[1]))})`);
    orderBy = "r.id, r.version";
  } else if (q.order === "version_desc") {
    if (q.after) where.push(`r.version < ${p.add(Number(q.after[0]))}`);
    orderBy = "r.version DESC";
  } else {
    if (q.after) where.push(`r.version > ${p.add(Number(q.after[0]))}`);
    orderBy = "r.version";
  }
  const { rows } = await db.query(`SELECT ${columns.replace(/(\w+)/g, "r.$1")} FROM resources r WHERE ${where.join(" AND ")} ORDER BY ${orderBy} LIMIT ${p.add(q.limit)}`, p.values);
  return rows.map(toRow);
}

// ---- deployment revisions ----

export async function insertRevision(db: Queryable, deployment: string, revision: bigint, body: Uint8Array, createTime: Date): Promise<void> {
  await db.query("INSERT INTO deployment_revisions (deployment, revision, body, create_time) VALUES ($1, $2, $3, $4)", [deployment, revision.toString(), body, createTime]);
}

export async function loadRevision(db: Queryable, deployment: string, revision: bigint): Promise<Uint8Array | undefined> {
  const { rows } = await db.query<{ body: Uint8Array }>("SELECT body FROM deployment_revisions WHERE deployment = $1 AND revision = $2", [deployment, revision.toString()]);
  return rows[0]?.body;
}

/** Revisions newest first, older than `before` when set. */
export async function listRevisions(db: Queryable, deployment: string, before: bigint | undefined, limit: number): Promise<{ revision: bigint; body: Uint8Array }[]> {
  const { rows } = await db.query<{ revision: string; body: Uint8Array }>(
    `SELECT revision, body FROM deployment_revisions WHERE deployment = $1 ${before !== undefined ? "AND revision < $3" : ""} ORDER BY revision DESC LIMIT $2`,
    before !== undefined ? [deployment, limit, before.toString()] : [deployment, limit],
  );
  return rows.map((r) => ({ revision: BigInt(r.revision), body: r.body }));
}
