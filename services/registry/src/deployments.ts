// Deployments: which model versions serve under a name. Every change of
// routes or shadows is a new immutable revision; rollback copies an earlier
// revision into a new one. Each route carries the feature view version (and
// training dataset) its model needs, so features and model move together.
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate, type FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, decodePageToken, maskPaths, pageSize, paginate, parseName, requestFingerprint } from "@fti/aip";
import type { PoolClient } from "@fti/db";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import {
  DeploymentRevisionSchema,
  DeploymentSchema as DeploymentDesc,
  type Deployment,
  type DeploymentRevision,
  type ShadowRoute,
  type TrafficRoute,
} from "@fti/proto/fti/registry/v1/deployment_pb";
import type { Model } from "@fti/proto/fti/registry/v1/model_pb";
import { modelType } from "./models.js";
import { names, projectIdOf } from "./names.js";
import { enqueueEvent } from "./outbox.js";
import { deleteExisting, filterColumns, insertNew, listPage, load, requireProject, resolveLatest, transact, updateExisting, type ListRequest, type RegistryContext, type ResourceType } from "./resources.js";
import { insertRevision, listRevisions, loadRevision } from "./store.js";
import { tagViolations } from "./validation.js";

export const deploymentType: ResourceType<Deployment> = { kind: "deployment", schema: DeploymentDesc, owner: (d) => d.owner };

/** The shape of routes and shadows: weights sum to 100, names parse, no model routed twice. */
function routeViolations(routes: TrafficRoute[], shadows: ShadowRoute[], prefix: string): FieldViolation[] {
  const v: FieldViolation[] = [];
  if (routes.length === 0) v.push({ field: `${prefix}routes`, description: "at least one model version must serve traffic" });
  const seen = new Set<string>();
  let sum = 0;
  routes.forEach((r, i) => {
    if (!names.model.match(r.model)) v.push({ field: `${prefix}routes[${i}].model`, description: `"${r.model}" is not a model version name ("${names.model.pattern}")` });
    if (seen.has(r.model)) v.push({ field: `${prefix}routes[${i}].model`, description: `"${r.model}" is routed twice` });
    seen.add(r.model);
    if (r.weight > 100) v.push({ field: `${prefix}routes[${i}].weight`, description: "must be 0..100" });
    sum += r.weight;
  });
  if (routes.length && sum !== 100) v.push({ field: `${prefix}routes`, description: `weights sum to ${sum}; they must sum to 100` });
  shadows.forEach((s, i) => {
    if (!names.model.match(s.model)) v.push({ field: `${prefix}shadows[${i}].model`, description: `"${s.model}" is not a model version name ("${names.model.pattern}")` });
    if (s.samplePercent > 100) v.push({ field: `${prefix}shadows[${i}].sample_percent`, description: "must be 0..100" });
  });
  return v;
}

export function deploymentOperations(ctx: RegistryContext) {
  /**
   * Pins "latest" model versions and fills in the feature view and training
   * dataset each needs. A model that does not exist is FAILED_PRECONDITION.
   */
  async function resolveRoutes(db: PoolClient, routes: TrafficRoute[], shadows: ShadowRoute[], prefix: string) {
    const missing: string[] = [];
    const resolveModel = async (name: string, field: string): Promise<Model | undefined> => {
      try {
        return await load(db, modelType, await resolveLatest(db, "model", name));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        missing.push(`${field} = ${name}`);
        return undefined;
      }
    };
    const resolved = {
      routes: [] as TrafficRoute[],
      shadows: [] as ShadowRoute[],
    };
    for (const [i, r] of routes.entries()) {
      const m = await resolveModel(r.model, `${prefix}routes[${i}].model`);
      resolved.routes.push({ ...r, model: m?.name ?? r.model, featureView: m?.featureView ?? "", trainingDataset: m?.trainingDataset ?? "" });
    }
    for (const [i, s] of shadows.entries()) {
      const m = await resolveModel(s.model, `${prefix}shadows[${i}].model`);
      resolved.shadows.push({ ...s, model: m?.name ?? s.model, featureView: m?.featureView ?? "", trainingDataset: m?.trainingDataset ?? "" });
    }
    if (missing.length) throw new FailedPreconditionError(`a deployment can only serve existing model versions; missing: ${missing.join("; ")}`, missing.map((m) => ({ type: "REFERENCE", subject: m, description: "model version does not exist" })));
    const models = [...new Set([...resolved.routes, ...resolved.shadows].map((r) => r.model))];
    return { ...resolved, models };
  }

  /** Stores the deployment's current routes as revision `d.revision` and announces it. */
  async function recordRevision(db: PoolClient, d: Deployment, reason: string, restoredRevision: bigint) {
    const time = new Date();
    const revision = create(DeploymentRevisionSchema, {
      name: `${d.name}/revisions/${d.revision}`,
      revision: d.revision,
      routes: d.routes,
      shadows: d.shadows,
      reason,
      restoredRevision,
      createTime: timestampFromDate(time),
    });
    await insertRevision(db, d.name, d.revision, toBinary(DeploymentRevisionSchema, revision), time);
    await announce(db, d, reason, restoredRevision, false);
  }

  async function announce(db: PoolClient, d: Deployment, reason: string, restoredRevision: bigint, deleted: boolean) {
    await enqueueEvent(db, ctx.events, {
      type: "deployment.changed",
      subjectTokens: [projectIdOf(d.name), d.name.split("/")[3]!],
      resource: d.name,
      time: new Date(),
      payload: {
        case: "deploymentChanged",
        value: { deployment: d.name, revision: d.revision, routes: deleted ? [] : d.routes, shadows: deleted ? [] : d.shadows, restoredRevision, reason, deleted },
      },
    });
  }

  /** Moves a deployment to a new revision with these routes (upgrade and rollback alike). */
  function toRevision(name: string, etag: string, reason: string, target: (current: Deployment, db: PoolClient) => Promise<{ routes: TrafficRoute[]; shadows: ShadowRoute[]; restored: bigint }>) {
    let restored = 0n;
    return updateExisting(
      ctx,
      deploymentType,
      name,
      etag,
      async (current, db) => {
        const t = await target(current, db);
        restored = t.restored;
        const resolved = await resolveRoutes(db, t.routes, t.shadows, "");
        const next = clone(DeploymentDesc, current);
        next.routes = resolved.routes;
        next.shadows = resolved.shadows;
        next.revision = current.revision + 1n;
        return { next, changedFields: ["routes", "shadows", "revision"], upstream: resolved.models };
      },
      (next, db) => recordRevision(db, next, reason, restored),
    );
  }

  return {
    async createDeployment(parent: string, deploymentId: string, deployment: Deployment | undefined, reason: string): Promise<Deployment> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(deploymentId, "deployment_id");
      if (!deployment) throw InvalidArgumentError.field("deployment", "is required");
      const d = clone(DeploymentDesc, deployment);
      const violations = [...tagViolations(d.tags, "deployment.tags"), ...routeViolations(d.routes, d.shadows, "deployment.")];
      if (violations.length) throw new InvalidArgumentError(violations);
      const name = names.deployment.format({ project, deployment: deploymentId });
      return transact(ctx, async (db) => {
        await requireProject(db, parent);
        const resolved = await resolveRoutes(db, d.routes, d.shadows, "deployment.");
        Object.assign(d, { routes: resolved.routes, shadows: resolved.shadows, revision: 1n });
        const created = await insertNew(ctx, db, deploymentType, d, { name, project: parent, collection: name, id: deploymentId, version: 0, upstream: resolved.models });
        await recordRevision(db, created, reason, 0n);
        return created;
      });
    },

    async getDeployment(name: string): Promise<Deployment> {
      parseName(names.deployment, name, "name");
      return load(ctx.pool, deploymentType, name);
    },

    async listDeployments(request: ListRequest & { parent: string }) {
      parseName(names.project, request.parent, "parent");
      const columns = { owner: filterColumns.owner, model: filterColumns.dependsOn };
      return listPage(ctx, deploymentType, request, { where: (p) => [`r.project = ${p.add(request.parent)}`], filterColumns: columns, order: "id", fingerprint: [request.parent] });
    },

    async updateDeployment(deployment: Deployment | undefined, mask: FieldMask | undefined): Promise<Deployment> {
      if (!deployment) throw InvalidArgumentError.field("deployment", "is required");
      parseName(names.deployment, deployment.name, "deployment.name");
      const routing = (mask?.paths ?? []).filter((p) => p === "routes" || p === "shadows");
      if (routing.length) throw new FailedPreconditionError("routes and shadows change only through UpgradeDeployment or RollbackDeployment, which record a revision");
      const paths = maskPaths(mask?.paths ?? [], ["description", "owner", "tags"]);
      const violations = tagViolations(deployment.tags, "deployment.tags");
      if (violations.length) throw new InvalidArgumentError(violations);
      return updateExisting(ctx, deploymentType, deployment.name, deployment.etag, (current) => ({ next: applyMask(current, deployment, paths), changedFields: paths }));
    },

    async deleteDeployment(name: string, etag: string): Promise<void> {
      parseName(names.deployment, name, "name");
      await deleteExisting(ctx, deploymentType, name, etag, { afterDelete: (deleted, db) => announce(db, deleted, "deleted", 0n, true) });
    },

    async upgradeDeployment(name: string, routes: TrafficRoute[], shadows: ShadowRoute[], reason: string, etag: string): Promise<Deployment> {
      parseName(names.deployment, name, "name");
      const violations = routeViolations(routes, shadows, "");
      if (violations.length) throw new InvalidArgumentError(violations);
      return toRevision(name, etag, reason, async () => ({ routes, shadows, restored: 0n }));
    },

    async rollbackDeployment(name: string, revision: bigint, reason: string, etag: string): Promise<Deployment> {
      parseName(names.deployment, name, "name");
      if (revision < 0n) throw InvalidArgumentError.field("revision", "must be 0 (the previous revision) or a revision number");
      return toRevision(name, etag, reason, async (current, db) => {
        const target = revision === 0n ? current.revision - 1n : revision;
        if (target < 1n) throw new FailedPreconditionError(`${name} is at revision ${current.revision}; there is no earlier revision to roll back to`);
        if (target >= current.revision) throw InvalidArgumentError.field("revision", `must be an earlier revision than the current ${current.revision}`);
        const body = await loadRevision(db, name, target);
        if (!body) throw new NotFoundError("deployment revision", `${name}/revisions/${target}`);
        const restored: DeploymentRevision = fromBinary(DeploymentRevisionSchema, body);
        return { routes: restored.routes, shadows: restored.shadows, restored: target };
      });
    },

    async listDeploymentRevisions(parent: string, requestedPageSize: number, pageToken: string): Promise<{ items: DeploymentRevision[]; nextPageToken: string }> {
      parseName(names.deployment, parent, "parent");
      const size = pageSize(requestedPageSize);
      const fingerprint = requestFingerprint(["deployment_revisions", parent]);
      const after = decodePageToken(pageToken, fingerprint);
      await load(ctx.pool, deploymentType, parent);
      const rows = await listRevisions(ctx.pool, parent, after ? BigInt(after[0]!) : undefined, size + 1);
      const page = paginate(rows, size, (r) => [r.revision.toString()], fingerprint);
      return { items: page.items.map((r) => fromBinary(DeploymentRevisionSchema, r.body)), nextPageToken: page.nextPageToken };
    },
  };
}
