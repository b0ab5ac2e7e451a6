// Training datasets: registered by offline-query in state CREATING under a
// feature view version, completed (READY) or failed by it; immutable after
// that except for description and tags.
import { clone } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { applyMask, maskPaths, parseName } from "@fti/aip";
import { FailedPreconditionError, InvalidArgumentError, type FieldViolation } from "@fti/errors";
import { TrainingDatasetSchema as TrainingDatasetDesc, TrainingDataset_State as State, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { featureViewType } from "./feature-views.js";
import { names } from "./names.js";
import { deleteExisting, filterColumns, insertNew, listPage, load, resolveLatest, transact, updateExisting, type ListRequest, type RegistryContext, type ResourceType } from "./resources.js";
import { latestVersion, lockCollection } from "./store.js";
import { idViolations, tagViolations } from "./validation.js";

const stateNames: Record<State, string> = { [State.UNSPECIFIED]: "UNSPECIFIED", [State.CREATING]: "CREATING", [State.READY]: "READY", [State.FAILED]: "FAILED" };

export const trainingDatasetType: ResourceType<TrainingDataset> = {
  kind: "training_dataset",
  schema: TrainingDatasetDesc,
  owner: () => "",
  attrs: (td) => ({ state: stateNames[td.state] }),
};

const always = ["description", "tags"];
const whileCreating = ["state", "location", "splits", "as_of", "fitted_transformations", "failure_reason"];

function splitViolations(td: TrainingDataset): FieldViolation[] {
  const v: FieldViolation[] = [];
  const split = td.split?.kind;
  if (split?.case === "random") {
    const seen = new Set<string>();
    let sum = 0;
    split.value.fractions.forEach((f, i) => {
      v.push(...idViolations(f.name, `training_dataset.split.random.fractions[${i}].name`));
      if (seen.has(f.name)) v.push({ field: `training_dataset.split.random.fractions[${i}].name`, description: `duplicate split "${f.name}"` });
      seen.add(f.name);
      if (!(f.fraction > 0 && f.fraction <= 1)) v.push({ field: `training_dataset.split.random.fractions[${i}].fraction`, description: "must be in (0, 1]" });
      sum += f.fraction;
    });
    if (split.value.fractions.length === 0) v.push({ field: "training_dataset.split.random.fractions", description: "name at least one split" });
    else if (Math.abs(sum - 1) > 1e-9) v.push({ field: "training_dataset.split.random.fractions", description: `fractions sum to ${sum}, not 1` });
  } else if (split?.case === "time") {
    const seen = new Set<string>();
    split.value.ranges.forEach((r, i) => {
      v.push(...idViolations(r.name, `training_dataset.split.time.ranges[${i}].name`));
      if (seen.has(r.name)) v.push({ field: `training_dataset.split.time.ranges[${i}].name`, description: `duplicate split "${r.name}"` });
      seen.add(r.name);
      if (r.range?.startTime && r.range.endTime && timestampMs(r.range.startTime) >= timestampMs(r.range.endTime)) v.push({ field: `training_dataset.split.time.ranges[${i}].range`, description: "start_time must be before end_time" });
    });
  }
  const range = td.rows.case === "eventTimeRange" ? td.rows.value : undefined;
  if (range?.startTime && range.endTime && timestampMs(range.startTime) >= timestampMs(range.endTime)) v.push({ field: "training_dataset.event_time_range", description: "start_time must be before end_time" });
  return v;
}

export function trainingDatasetOperations(ctx: RegistryContext) {
  return {
    async createTrainingDataset(parent: string, trainingDataset: TrainingDataset | undefined): Promise<TrainingDataset> {
      const { project } = parseName(names.featureView, parent, "parent", ["version"]);
      if (!trainingDataset) throw InvalidArgumentError.field("training_dataset", "is required");
      const td = clone(TrainingDatasetDesc, trainingDataset);
      const violations = [...tagViolations(td.tags, "training_dataset.tags"), ...splitViolations(td)];
      if (violations.length) throw new InvalidArgumentError(violations);
      return transact(ctx, async (db) => {
        const viewName = await resolveLatest(db, "feature_view", parent);
        // NOT_FOUND when the view version is gone; locked so it cannot vanish before we commit.
        const view = await load(db, featureViewType, viewName);
        await db.query("SELECT 1 FROM resources WHERE name = $1 FOR KEY SHARE", [viewName]);
        const readable = new Set((await db.query<{ upstream: string }>("SELECT upstream FROM dependencies WHERE downstream = $1", [viewName])).rows.map((r) => r.upstream));
        const notRead = td.asOf.flatMap((s, i) => (readable.has(s.featureGroup) ? [] : [{ field: `training_dataset.as_of[${i}].feature_group`, description: `${view.name} does not read "${s.featureGroup}"` }]));
        if (notRead.length) throw new InvalidArgumentError(notRead);
        await lockCollection(db, viewName);
        const version = (await latestVersion(db, viewName)) + 1;
        Object.assign(td, { version, featureView: viewName, state: State.CREATING, location: "", splits: [], fittedTransformations: [], failureReason: "" });
        const ids = parseName(names.featureView, viewName, "parent", ["version"]);
        return insertNew(ctx, db, trainingDatasetType, td, {
          name: names.trainingDataset.format({ ...ids, dataset: version }),
          project: names.project.format({ project }),
          collection: viewName,
          id: ids.feature_view,
          version,
          upstream: [viewName],
        });
      });
    },

    async getTrainingDataset(name: string): Promise<TrainingDataset> {
      parseName(names.trainingDataset, name, "name", ["version", "dataset"]);
      return load(ctx.pool, trainingDatasetType, name);
    },

    async listTrainingDatasets(request: ListRequest & { parent: string }) {
      parseName(names.featureView, request.parent, "parent", ["version"]);
      const parent = await resolveLatest(ctx.pool, "feature_view", request.parent);
      const columns = { state: filterColumns.attr("state", ["CREATING", "READY", "FAILED"]) };
      return listPage(ctx, trainingDatasetType, request, { where: (p) => [`r.collection = ${p.add(parent)}`], filterColumns: columns, order: "version_asc", fingerprint: [parent] });
    },

    async updateTrainingDataset(trainingDataset: TrainingDataset | undefined, mask: FieldMask | undefined): Promise<TrainingDataset> {
      if (!trainingDataset) throw InvalidArgumentError.field("training_dataset", "is required");
      parseName(names.trainingDataset, trainingDataset.name, "training_dataset.name", ["version", "dataset"]);
      const paths = maskPaths(mask?.paths ?? [], [...always, ...whileCreating]);
      const violations = tagViolations(trainingDataset.tags, "training_dataset.tags");
      if (paths.includes("state") && ![State.CREATING, State.READY, State.FAILED].includes(trainingDataset.state)) violations.push({ field: "training_dataset.state", description: "must be CREATING, READY or FAILED" });
      if (violations.length) throw new InvalidArgumentError(violations);
      return updateExisting(ctx, trainingDatasetType, trainingDataset.name, trainingDataset.etag, (current) => {
        const frozen = paths.filter((p) => whileCreating.includes(p));
        if (frozen.length && current.state !== State.CREATING)
          throw new FailedPreconditionError(`${current.name} is ${stateNames[current.state]}, so ${frozen.join(", ")} can no longer change; only description and tags can`);
        return { next: applyMask(current, trainingDataset, paths), changedFields: paths };
      });
    },

    async deleteTrainingDataset(name: string, etag: string): Promise<void> {
      parseName(names.trainingDataset, name, "name", ["version", "dataset"]);
      await deleteExisting(ctx, trainingDatasetType, name, etag);
    },
  };
}

