// Models: versioned ONNX artifacts. A model version pins the training dataset
// it was trained on, and through it the feature view version it needs.
import { clone } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, maskPaths, parseName } from "@fti/aip";
import type { PoolClient } from "@fti/db";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import { ModelSchema as ModelDesc, TensorDataType, type Model, type TensorSpec } from "@fti/proto/fti/registry/v1/model_pb";
import { TrainingDataset_State as DatasetState } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { names, projectIdOf } from "./names.js";
import { enqueueEvent } from "./outbox.js";
import { deleteExisting, filterColumns, insertNew, listPage, load, requireProject, resolveLatest, transact, updateExisting, type ListRequest, type RegistryContext, type ResourceType } from "./resources.js";
import { latestVersion, lockCollection } from "./store.js";
import { trainingDatasetType } from "./training-datasets.js";
import { tagViolations } from "./validation.js";

export const modelType: ResourceType<Model> = {
  kind: "model",
  schema: ModelDesc,
  owner: (m) => m.owner,
  attrs: (m) => ({ training_dataset: m.trainingDataset }),
};

const updatable = ["description", "owner", "tags", "metrics", "slice_metrics", "validation_gate"];
const immutable = ["artifact_uri", "checksum", "inputs", "outputs", "training_dataset", "label", "training_job"];

function tensorViolations(tensors: TensorSpec[], field: string): FieldViolation[] {
  const v: FieldViolation[] = [];
  const seen = new Set<string>();
  tensors.forEach((t, i) => {
    if (t.name === "") v.push({ field: `${field}[${i}].name`, description: "is required" });
    else if (seen.has(t.name)) v.push({ field: `${field}[${i}].name`, description: `duplicate tensor "${t.name}"` });
    seen.add(t.name);
    if (t.dataType === TensorDataType.UNSPECIFIED || TensorDataType[t.dataType] === undefined) v.push({ field: `${field}[${i}].data_type`, description: "unknown or unset tensor type" });
    if (t.shape.some((d) => d < -1n || d === 0n)) v.push({ field: `${field}[${i}].shape`, description: "dimensions are positive, or -1 for a variable one" });
  });
  return v;
}

function modelViolations(m: Model): FieldViolation[] {
  const v: FieldViolation[] = [...tagViolations(m.tags, "model.tags")];
  if (m.artifactUri === "") v.push({ field: "model.artifact_uri", description: "is required: the ONNX file's URI" });
  if (!/^sha256:[0-9a-f]{64}$/.test(m.checksum)) v.push({ field: "model.checksum", description: 'must be "sha256:" and 64 lowercase hex digits' });
  if (!names.trainingDataset.match(m.trainingDataset)) v.push({ field: "model.training_dataset", description: `is required, as "${names.trainingDataset.pattern}"` });
  v.push(...tensorViolations(m.inputs, "model.inputs"), ...tensorViolations(m.outputs, "model.outputs"));
  return v;
}

export function modelOperations(ctx: RegistryContext) {
  function validated(model: Model | undefined): Model {
    if (!model) throw InvalidArgumentError.field("model", "is required");
    const violations = modelViolations(model);
    if (violations.length) throw new InvalidArgumentError(violations);
    return clone(ModelDesc, model);
  }

  async function insertVersion(db: PoolClient, project: string, modelId: string, version: number, model: Model): Promise<Model> {
    const dataset = await load(db, trainingDatasetType, model.trainingDataset).catch((err) => {
      if (err instanceof NotFoundError) throw new FailedPreconditionError(`model.training_dataset: ${model.trainingDataset} does not exist`, [{ type: "REFERENCE", subject: model.trainingDataset, description: "training dataset does not exist" }]);
      throw err;
    });
    if (dataset.state === DatasetState.FAILED) throw new FailedPreconditionError(`model.training_dataset: ${dataset.name} FAILED (${dataset.failureReason}); train on a READY dataset`);
    model.version = version;
    model.featureView = dataset.featureView;
    const name = names.model.format({ project, model: modelId, version });
    const created = await insertNew(ctx, db, modelType, model, {
      name,
      project: names.project.format({ project }),
      collection: names.modelFamily.format({ project, model: modelId }),
      id: modelId,
      version,
      upstream: [dataset.name],
    });
    await enqueueEvent(db, ctx.events, {
      type: "model.version.registered",
      subjectTokens: [projectIdOf(name), modelId],
      resource: name,
      time: new Date(),
      payload: {
        case: "modelVersionRegistered",
        value: { model: name, trainingDataset: created.trainingDataset, featureView: created.featureView, metrics: created.metrics, validationGate: created.validationGate, trainingJob: created.trainingJob, tags: created.tags },
      },
    });
    return created;
  }

  return {
    async createModel(parent: string, modelId: string, model: Model | undefined): Promise<Model> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(modelId, "model_id");
      const m = validated(model);
      const family = names.modelFamily.format({ project, model: modelId });
      return transact(ctx, async (db) => {
        await requireProject(db, parent);
        await lockCollection(db, family);
        if ((await latestVersion(db, family)) > 0) throw new AlreadyExistsError("model", family);
        return insertVersion(db, project, modelId, 1, m);
      });
    },

    async createModelVersion(parent: string, model: Model | undefined): Promise<Model> {
      const { project, model: modelId } = parseName(names.modelFamily, parent, "parent");
      const m = validated(model);
      return transact(ctx, async (db) => {
        await lockCollection(db, parent);
        const latest = await latestVersion(db, parent);
        if (latest === 0) throw new NotFoundError("model", parent);
        return insertVersion(db, project, modelId, latest + 1, m);
      });
    },

    async getModel(name: string): Promise<Model> {
      parseName(names.model, name, "name", ["version"]);
      return load(ctx.pool, modelType, await resolveLatest(ctx.pool, "model", name));
    },

    async listModels(request: ListRequest & { parent: string }) {
      const columns = { owner: filterColumns.owner, training_dataset: filterColumns.attr("training_dataset") };
      if (names.project.match(request.parent)) {
        parseName(names.project, request.parent, "parent");
        return listPage(ctx, modelType, request, { where: (p) => [`r.project = ${p.add(request.parent)}`], filterColumns: columns, latestOnly: true, order: "id", fingerprint: [request.parent] });
      }
      parseName(names.modelFamily, request.parent, "parent");
      return listPage(ctx, modelType, request, { where: (p) => [`r.collection = ${p.add(request.parent)}`], filterColumns: columns, order: "version_desc", fingerprint: [request.parent] });
    },

    async updateModel(model: Model | undefined, mask: FieldMask | undefined): Promise<Model> {
      if (!model) throw InvalidArgumentError.field("model", "is required");
      parseName(names.model, model.name, "model.name", ["version"]);
      const fixed = (mask?.paths ?? []).filter((p) => immutable.includes(p));
      if (fixed.length) throw new FailedPreconditionError(`${fixed.join(", ")} of a model version are immutable; register a new version with CreateModelVersion`);
      const paths = maskPaths(mask?.paths ?? [], updatable);
      const violations = tagViolations(model.tags, "model.tags");
      if (violations.length) throw new InvalidArgumentError(violations);
      const name = await resolveLatest(ctx.pool, "model", model.name);
      return updateExisting(ctx, modelType, name, model.etag, (current) => ({ next: applyMask(current, model, paths), changedFields: paths }));
    },

    async deleteModel(name: string, etag: string): Promise<void> {
      parseName(names.model, name, "name", ["version"]);
      await deleteExisting(ctx, modelType, await resolveLatest(ctx.pool, "model", name), etag);
    },
  };
}
