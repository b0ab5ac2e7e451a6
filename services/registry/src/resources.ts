// Create / get / list / update / delete of any registry resource, in one
// transaction with its outbox event: the generic half of every RPC. The
// per-kind modules add validation, version numbering and references.
import { fromBinary, toBinary, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { checkEtag, decodePageToken, formatEtag, pageSize, paginate, parseFilter, requestFingerprint, tagKey, type FilterTerm } from "@fti/aip";
import { withTransaction, type Pool, type PoolClient, type Queryable } from "@fti/db";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import { label, type Kind } from "./names.js";
import { Change, enqueueResourceChanged, type EventSettings } from "./outbox.js";
import * as store from "./store.js";

/** What every stored message has. */
export type StoredMessage = Message & { name: string; etag: string; createTime?: Timestamp; updateTime?: Timestamp; tags: Record<string, string> };

export interface RegistryContext {
  pool: Pool;
  logger: Logger;
  events: EventSettings;
  /** Called after every commit that wrote outbox rows (wakes the relay). */
  onCommit(): void;
}

/** A resource kind: its message and the row columns derived from it. */
export interface ResourceType<M extends StoredMessage> {
  kind: Kind;
  schema: GenMessage<M>;
  owner(m: M): string;
  /** Filterable per-kind fields, as text. */
  attrs?(m: M): Record<string, string>;
}

export const decode = <M extends StoredMessage>(type: ResourceType<M>, row: store.ResourceRow): M => fromBinary(type.schema, row.body);

/** Runs `fn` in a transaction and wakes the outbox relay after it commits. */
export async function transact<T>(ctx: RegistryContext, fn: (db: PoolClient) => Promise<T>): Promise<T> {
  try {
    const result = await withTransaction(ctx.pool, fn);
    ctx.onCommit();
    return result;
  } catch (err) {
    throw translateConstraint(err);
  }
}

/** Constraint violations that lost a race with another request, as the errors a caller understands. */
function translateConstraint(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e?.code === "23503") return new FailedPreconditionError("a resource this change refers to was deleted, or one being deleted is still referenced; re-read and retry");
  if (e?.code === "23505") return new AlreadyExistsError("resource", "(created concurrently)");
  return err;
}

function stamp<M extends StoredMessage>(message: M, revision: bigint, time: Date, created: boolean): M {
  message.etag = formatEtag(revision);
  message.updateTime = timestampFromDate(time);
  if (created) message.createTime = timestampFromDate(time);
  return message;
}

/** Fails with NOT_FOUND unless the project exists; locks it against deletion until the transaction ends. */
export async function requireProject(db: Queryable, project: string): Promise<void> {
  const { rows } = await db.query("SELECT 1 FROM resources WHERE name = $1 AND kind = 'project' FOR KEY SHARE", [project]);
  if (rows.length === 0) throw new NotFoundError("project", project);
}

export interface Placement {
  name: string;
  project: string | null;
  collection: string;
  id: string;
  version: number;
  /** The resources this one is built from (lineage and referential checks). */
  upstream?: string[];
}

/** Inserts a new resource with its dependencies and its "created" event. */
export async function insertNew<M extends StoredMessage>(ctx: RegistryContext, db: Queryable, type: ResourceType<M>, message: M, place: Placement): Promise<M> {
  const revision = await store.nextRevision(db);
  const time = new Date();
  message.name = place.name;
  stamp(message, revision, time, true);
  const exists = await db.query("SELECT 1 FROM resources WHERE name = $1", [place.name]);
  if (exists.rows.length) throw new AlreadyExistsError(label(type.kind), place.name);
  await store.insertResource(db, {
    ...place,
    kind: type.kind,
    owner: type.owner(message),
    tags: message.tags,
    attrs: type.attrs?.(message) ?? {},
    revision,
    body: toBinary(type.schema, message),
    createTime: time,
    updateTime: time,
  });
  await store.setDependencies(db, place.name, place.upstream ?? []);
  await enqueueResourceChanged(db, ctx.events, { kind: type.kind, name: place.name, change: Change.CREATED, etag: message.etag, revision, time });
  return message;
}

export async function load<M extends StoredMessage>(db: Queryable, type: ResourceType<M>, name: string, options: { forUpdate?: boolean } = {}): Promise<M> {
  const body = options.forUpdate ? (await store.loadResource(db, type.kind, name, options))?.body : await store.loadBody(db, type.kind, name);
  if (!body) throw new NotFoundError(label(type.kind), name);
  return fromBinary(type.schema, body);
}

/**
 * Read-modify-write of one resource under its row lock: a stale etag is
 * ABORTED; `change` returns the new message and the fields it changed.
 */
export async function updateExisting<M extends StoredMessage>(
  ctx: RegistryContext,
  type: ResourceType<M>,
  name: string,
  etag: string,
  change: (current: M, db: PoolClient) => Promise<{ next: M; changedFields: string[]; upstream?: string[] }> | { next: M; changedFields: string[]; upstream?: string[] },
  afterWrite?: (next: M, db: PoolClient, revision: bigint) => Promise<void>,
): Promise<M> {
  return transact(ctx, async (db) => {
    const current = await load(db, type, name, { forUpdate: true });
    checkEtag(etag, current.etag, name);
    const { next, changedFields, upstream } = await change(current, db);
    const revision = await store.nextRevision(db);
    const time = new Date();
    next.name = current.name;
    next.createTime = current.createTime;
    stamp(next, revision, time, false);
    await store.updateResource(db, { name, owner: type.owner(next), tags: next.tags, attrs: type.attrs?.(next) ?? {}, revision, body: toBinary(type.schema, next), updateTime: time });
    if (upstream) await store.setDependencies(db, name, upstream);
    await enqueueResourceChanged(db, ctx.events, { kind: type.kind, name, change: Change.UPDATED, etag: next.etag, revision, changedFields, time });
    await afterWrite?.(next, db, revision);
    return next;
  });
}

/**
 * Deletes a resource nothing depends on; otherwise FAILED_PRECONDITION listing
 * the dependents (by default those in the dependencies table).
 */
export async function deleteExisting<M extends StoredMessage>(
  ctx: RegistryContext,
  type: ResourceType<M>,
  name: string,
  etag: string,
  hooks: { dependents?: (db: PoolClient) => Promise<string[]>; afterDelete?: (deleted: M, db: PoolClient, revision: bigint) => Promise<void> } = {},
): Promise<void> {
  await transact(ctx, async (db) => {
    const current = await load(db, type, name, { forUpdate: true });
    checkEtag(etag, current.etag, name);
    const dependents = await (hooks.dependents ?? ((c) => store.dependentsOf(c, name)))(db);
    if (dependents.length) {
      throw new FailedPreconditionError(
        `${label(type.kind)} ${name} is still used by ${dependents.join(", ")}; delete or change those first`,
        dependents.map((d) => ({ type: "DEPENDENT", subject: d, description: `${d} depends on ${name}` })),
      );
    }
    await store.deleteResource(db, name);
    const revision = await store.nextRevision(db);
    await enqueueResourceChanged(db, ctx.events, { kind: type.kind, name, change: Change.DELETED, etag: "", revision, time: new Date() });
    await hooks.afterDelete?.(current, db, revision);
  });
}

// ---- List ----

/** How a filter field becomes SQL on the row `r`. */
export type FilterColumn = (value: string, params: store.Params) => string;

export const filterColumns = {
  owner: ((v, p) => `r.owner = ${p.add(v)}`) as FilterColumn,
  /** A per-kind field stored in attrs; `values` restricts what may be compared. */
  attr: (key: string, values?: readonly string[]): FilterColumn => (v, p) => {
    if (values && !values.includes(v)) throw InvalidArgumentError.field("filter", `${key} is one of ${values.map((x) => `"${x}"`).join(", ")}`);
    return `r.attrs ->> ${p.add(key)} = ${p.add(v)}`;
  },
  /** Resources that depend on the named one. */
  dependsOn: ((v, p) => `EXISTS (SELECT 1 FROM dependencies d WHERE d.downstream = r.name AND d.upstream = ${p.add(v)})`) as FilterColumn,
};

/** SQL conditions for a parsed filter: owner, tags.<key> and the kind's own fields. */
export function filterConditions(filter: string, columns: Record<string, FilterColumn>, params: store.Params): string[] {
  const terms: FilterTerm[] = parseFilter(filter, [...Object.keys(columns), "tags.*"]);
  return terms.map((t) => {
    const key = tagKey(t);
    if (key !== undefined) return `r.tags ->> ${params.add(key)} = ${params.add(t.value)}`;
    return columns[t.field]!(t.value, params);
  });
}

export interface ListRequest {
  pageSize: number;
  pageToken: string;
  filter?: string;
}

/** One page of resources of a kind, keyset-paginated. */
export async function listPage<M extends StoredMessage>(
  ctx: RegistryContext,
  type: ResourceType<M>,
  request: ListRequest,
  query: { where: (params: store.Params) => string[]; filterColumns: Record<string, FilterColumn>; latestOnly?: boolean; order: store.ListOrder; fingerprint: unknown[] },
): Promise<{ items: M[]; nextPageToken: string }> {
  const size = pageSize(request.pageSize);
  const fingerprint = requestFingerprint([type.kind, request.filter ?? "", ...query.fingerprint]);
  const after = decodePageToken(request.pageToken, fingerprint);
  const params = new store.Params();
  const where = [...query.where(params), ...filterConditions(request.filter ?? "", query.filterColumns, params)];
  const rows = await store.listResources(ctx.pool, { kind: type.kind, where, params, latestOnly: query.latestOnly, order: query.order, after, limit: size + 1 });
  const page = paginate(rows, size, (r) => store.cursorOf(r, query.order), fingerprint);
  return { items: page.items.map((r) => decode(type, r)), nextPageToken: page.nextPageToken };
}

/** Resolves ".../versions/latest" to the highest version's name; NOT_FOUND when there is none. */
export async function resolveLatest(db: Queryable, kind: Kind, name: string): Promise<string> {
  if (!name.endsWith("/versions/latest")) return name;
  const family = name.slice(0, -"/versions/latest".length);
  const version = await store.latestVersion(db, family);
  if (version === 0) throw new NotFoundError(label(kind), family);
  return `${family}/versions/${version}`;
}
