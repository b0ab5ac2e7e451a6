// Feature groups: versioned, typed tables of features. CreateFeatureGroup
// makes version 1, CreateFeatureGroupVersion the next; an update may only
// append nullable features to the schema (anything else needs a new version).
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { clone } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, maskPaths, parseName } from "@fti/aip";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@fti/errors";
import { FeatureGroupSchema as FeatureGroupDesc, type FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { breakingSchemaChanges, featureGroupViolations } from "./feature-group-rules.js";
import { names } from "./names.js";
import { deleteExisting, filterColumns, insertNew, listPage, load, requireProject, resolveLatest, transact, updateExisting, type ListRequest, type RegistryContext, type ResourceType } from "./resources.js";
import { latestVersion, lockCollection } from "./store.js";

export const featureGroupType: ResourceType<FeatureGroup> = {
  kind: "feature_group",
  schema: FeatureGroupDesc,
  owner: (fg) => fg.owner,
  attrs: (fg) => ({ online_enabled: String(fg.onlineEnabled) }),
};

const updatable = ["description", "owner", "tags", "online_enabled", "ttl", "expectations", "expectation_policy", "statistics_config", "schema", "primary_key", "event_time"];

export function featureGroupOperations(ctx: RegistryContext & { offlineRoot: string }) {
  const offlineRootUri = pathToFileURL(resolve(ctx.offlineRoot)).href.replace(/\/$/, "");

  function validated(fg: FeatureGroup | undefined): FeatureGroup {
    if (!fg) throw InvalidArgumentError.field("feature_group", "is required");
    const violations = featureGroupViolations(fg);
    if (violations.length) throw new InvalidArgumentError(violations);
    return clone(FeatureGroupDesc, fg);
  }

  /** Inserts version `version` of the family; the collection lock is held. */
  async function insertVersion(db: Parameters<Parameters<typeof transact>[1]>[0], project: string, featureGroupId: string, version: number, fg: FeatureGroup) {
    fg.version = version;
    fg.offlineTableUri = `${offlineRootUri}/${project}/${featureGroupId}/v${version}`;
    const name = names.featureGroup.format({ project, feature_group: featureGroupId, version });
    return insertNew(ctx, db, featureGroupType, fg, {
      name,
      project: names.project.format({ project }),
      collection: names.featureGroupFamily.format({ project, feature_group: featureGroupId }),
      id: featureGroupId,
      version,
    });
  }

  return {
    async createFeatureGroup(parent: string, featureGroupId: string, featureGroup: FeatureGroup | undefined): Promise<FeatureGroup> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(featureGroupId, "feature_group_id");
      const fg = validated(featureGroup);
      const family = names.featureGroupFamily.format({ project, feature_group: featureGroupId });
      return transact(ctx, async (db) => {
        await requireProject(db, parent);
        await lockCollection(db, family);
        if ((await latestVersion(db, family)) > 0) throw new AlreadyExistsError("feature group", family);
        return insertVersion(db, project, featureGroupId, 1, fg);
      });
    },

    async createFeatureGroupVersion(parent: string, featureGroup: FeatureGroup | undefined): Promise<FeatureGroup> {
      const { project, feature_group: featureGroupId } = parseName(names.featureGroupFamily, parent, "parent");
      const fg = validated(featureGroup);
      return transact(ctx, async (db) => {
        await lockCollection(db, parent);
        const latest = await latestVersion(db, parent);
        if (latest === 0) throw new NotFoundError("feature group", parent);
        return insertVersion(db, project, featureGroupId, latest + 1, fg);
      });
    },

    async getFeatureGroup(name: string): Promise<FeatureGroup> {
      parseName(names.featureGroup, name, "name", ["version"]);
      return load(ctx.pool, featureGroupType, await resolveLatest(ctx.pool, "feature_group", name));
    },

    async listFeatureGroups(request: ListRequest & { parent: string }) {
      const columns = { owner: filterColumns.owner, online_enabled: filterColumns.attr("online_enabled", ["true", "false"]) };
      if (names.project.match(request.parent)) {
        parseName(names.project, request.parent, "parent");
        return listPage(ctx, featureGroupType, request, { where: (p) => [`r.project = ${p.add(request.parent)}`], filterColumns: columns, latestOnly: true, order: "id", fingerprint: [request.parent] });
      }
      parseName(names.featureGroupFamily, request.parent, "parent");
      return listPage(ctx, featureGroupType, request, { where: (p) => [`r.collection = ${p.add(request.parent)}`], filterColumns: columns, order: "version_desc", fingerprint: [request.parent] });
    },

    async updateFeatureGroup(featureGroup: FeatureGroup | undefined, mask: FieldMask | undefined): Promise<FeatureGroup> {
      if (!featureGroup) throw InvalidArgumentError.field("feature_group", "is required");
      parseName(names.featureGroup, featureGroup.name, "feature_group.name", ["version"]);
      const paths = maskPaths(mask?.paths ?? [], updatable);
      const name = await resolveLatest(ctx.pool, "feature_group", featureGroup.name);
      return updateExisting(ctx, featureGroupType, name, featureGroup.etag, (current) => {
        const next = applyMask(current, featureGroup, paths);
        const breaking: string[] = [];
        if (paths.includes("primary_key") && next.primaryKey.join(",") !== current.primaryKey.join(",")) breaking.push(`the primary key changes from (${current.primaryKey.join(", ")}) to (${next.primaryKey.join(", ")})`);
        if (paths.includes("event_time") && next.eventTime !== current.eventTime) breaking.push(`the event-time column changes from "${current.eventTime}" to "${next.eventTime}"`);
        const violations = featureGroupViolations(next);
        if (violations.length) throw new InvalidArgumentError(violations);
        if (paths.includes("schema")) breaking.push(...breakingSchemaChanges(current, next));
        if (breaking.length) {
          throw new FailedPreconditionError(
            `${name} cannot change in place: ${breaking.join("; ")}. Only appending nullable features is allowed; create a new version with CreateFeatureGroupVersion`,
            breaking.map((b) => ({ type: "SCHEMA_EVOLUTION", subject: name, description: b })),
          );
        }
        return { next, changedFields: paths };
      });
    },

    async deleteFeatureGroup(name: string, etag: string): Promise<void> {
      parseName(names.featureGroup, name, "name", ["version"]);
      await deleteExisting(ctx, featureGroupType, await resolveLatest(ctx.pool, "feature_group", name), etag);
    },
  };
}
