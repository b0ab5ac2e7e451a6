// Feature views: versioned queries over feature group versions. A view pins
// the group versions it reads ("latest" is resolved when it is created), and
// those groups cannot be deleted while it exists.
import { clone } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, maskPaths, parseName } from "@fti/aip";
import type { PoolClient } from "@fti/db";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@fti/errors";
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { FeatureViewSchema as FeatureViewDesc, type FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { outputSchemaMessage, planFeatureView, selectionsOf } from "./feature-view-rules.js";
import { names } from "./names.js";
import { deleteExisting, filterColumns, insertNew, listPage, load, requireProject, resolveLatest, transact, updateExisting, type ListRequest, type RegistryContext, type ResourceType } from "./resources.js";
import { latestVersion, loadResource, lockCollection } from "./store.js";
import { tagViolations } from "./validation.js";
import { fromBinary } from "@bufbuild/protobuf";
import { FeatureGroupSchema as FeatureGroupDesc } from "@fti/proto/fti/registry/v1/feature_group_pb";

export const featureViewType: ResourceType<FeatureView> = { kind: "feature_view", schema: FeatureViewDesc, owner: (v) => v.owner };

export function featureViewOperations(ctx: RegistryContext) {
  /**
   * Checks the view's shape, pins "latest" selections to numbers, loads the
   * groups (FAILED_PRECONDITION naming any that do not exist) and derives the
   * output-only fields. Runs inside the creating transaction so a referenced
   * group cannot vanish before the view's dependencies are written.
   */
  async function prepare(db: PoolClient, input: FeatureView | undefined): Promise<{ view: FeatureView; upstream: string[] }> {
    if (!input) throw InvalidArgumentError.field("feature_view", "is required");
    const view = clone(FeatureViewDesc, input);
    if (!view.root) throw InvalidArgumentError.field("feature_view.root", "is required: the root feature group selection");
    const selections = selectionsOf(view);
    const shape = selections.flatMap(({ selection, field }) => {
      if (!selection) return [{ field, description: "is required" }];
      try {
        parseName(names.featureGroup, selection.featureGroup, `${field}.feature_group`, ["version"]);
        return [];
      } catch (err) {
        return (err as InvalidArgumentError).violations;
      }
    });
    shape.push(...tagViolations(view.tags, "feature_view.tags"));
    if (shape.length) throw new InvalidArgumentError(shape);

    const groups = new Map<string, FeatureGroup>();
    const missing: { field: string; name: string }[] = [];
    for (const { selection, field } of selections) {
      try {
        selection!.featureGroup = await resolveLatest(db, "feature_group", selection!.featureGroup);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
      // KEY SHARE lock: the group cannot be deleted until this view is committed.
      const row = await loadResource(db, "feature_group", selection!.featureGroup);
      if (!row) missing.push({ field: `${field}.feature_group`, name: selection!.featureGroup });
      else {
        await db.query("SELECT 1 FROM resources WHERE name = $1 FOR KEY SHARE", [row.name]);
        groups.set(row.name, fromBinary(FeatureGroupDesc, row.body));
      }
    }
    if (missing.length) {
      throw new FailedPreconditionError(
        `the feature view reads feature groups that do not exist: ${missing.map((m) => `${m.field} = ${m.name}`).join("; ")}`,
        missing.map((m) => ({ type: "REFERENCE", subject: m.name, description: `${m.field}: feature group does not exist` })),
      );
    }
    const plan = planFeatureView(view, groups);
    if (plan.violations.length) throw new InvalidArgumentError(plan.violations);
    view.servingKeys = plan.servingKeys;
    view.outputSchema = outputSchemaMessage(plan.outputSchema);
    return { view, upstream: [...groups.keys()] };
  }

  async function insertVersion(db: PoolClient, project: string, featureViewId: string, version: number, view: FeatureView, upstream: string[]) {
    view.version = version;
    return insertNew(ctx, db, featureViewType, view, {
      name: names.featureView.format({ project, feature_view: featureViewId, version }),
      project: names.project.format({ project }),
      collection: names.featureViewFamily.format({ project, feature_view: featureViewId }),
      id: featureViewId,
      version,
      upstream,
    });
  }

  return {
    async createFeatureView(parent: string, featureViewId: string, featureView: FeatureView | undefined): Promise<FeatureView> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(featureViewId, "feature_view_id");
      const family = names.featureViewFamily.format({ project, feature_view: featureViewId });
      return transact(ctx, async (db) => {
        const { view, upstream } = await prepare(db, featureView);
        await requireProject(db, parent);
        await lockCollection(db, family);
        if ((await latestVersion(db, family)) > 0) throw new AlreadyExistsError("feature view", family);
        return insertVersion(db, project, featureViewId, 1, view, upstream);
      });
    },

    async createFeatureViewVersion(parent: string, featureView: FeatureView | undefined): Promise<FeatureView> {
      const { project, feature_view: featureViewId } = parseName(names.featureViewFamily, parent, "parent");
      return transact(ctx, async (db) => {
        const { view, upstream } = await prepare(db, featureView);
        await lockCollection(db, parent);
        const latest = await latestVersion(db, parent);
        if (latest === 0) throw new NotFoundError("feature view", parent);
        return insertVersion(db, project, featureViewId, latest + 1, view, upstream);
      });
    },

    async getFeatureView(name: string): Promise<FeatureView> {
      parseName(names.featureView, name, "name", ["version"]);
      return load(ctx.pool, featureViewType, await resolveLatest(ctx.pool, "feature_view", name));
    },

    async listFeatureViews(request: ListRequest & { parent: string }) {
      const columns = { owner: filterColumns.owner, feature_group: filterColumns.dependsOn };
      if (names.project.match(request.parent)) {
        parseName(names.project, request.parent, "parent");
        return listPage(ctx, featureViewType, request, { where: (p) => [`r.project = ${p.add(request.parent)}`], filterColumns: columns, latestOnly: true, order: "id", fingerprint: [request.parent] });
      }
      parseName(names.featureViewFamily, request.parent, "parent");
      return listPage(ctx, featureViewType, request, { where: (p) => [`r.collection = ${p.add(request.parent)}`], filterColumns: columns, order: "version_desc", fingerprint: [request.parent] });
    },

    async updateFeatureView(featureView: FeatureView | undefined, mask: FieldMask | undefined): Promise<FeatureView> {
      if (!featureView) throw InvalidArgumentError.field("feature_view", "is required");
      parseName(names.featureView, featureView.name, "feature_view.name", ["version"]);
      const defining = (mask?.paths ?? []).filter((p) => ["root", "joins", "label_columns", "request_parameters", "on_demand_features", "transformations"].includes(p));
      if (defining.length) throw new FailedPreconditionError(`${defining.join(", ")} define the view's training data and cannot change in place; create a new version with CreateFeatureViewVersion`);
      const paths = maskPaths(mask?.paths ?? [], ["description", "owner", "tags"]);
      const violations = tagViolations(featureView.tags, "feature_view.tags");
      if (violations.length) throw new InvalidArgumentError(violations);
      const name = await resolveLatest(ctx.pool, "feature_view", featureView.name);
      return updateExisting(ctx, featureViewType, name, featureView.etag, (current) => ({ next: applyMask(current, featureView, paths), changedFields: paths }));
    },

    async deleteFeatureView(name: string, etag: string): Promise<void> {
      parseName(names.featureView, name, "name", ["version"]);
      await deleteExisting(ctx, featureViewType, await resolveLatest(ctx.pool, "feature_view", name), etag);
    },
  };
}
