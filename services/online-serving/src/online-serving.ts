// GetFeatureVectors and Predict: the request path. Metadata comes from the
// serving catalog (in memory), features from the online store, scores from
// the deployment's routed model version; shadows and the prediction log run
// after the response is on its way.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { OnlineStore } from "@fti/online-store";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import {
  GetFeatureVectorsResponseSchema,
  PredictResponseSchema,
  type GetFeatureVectorsRequest,
  type GetFeatureVectorsResponse,
  type PredictRequest,
  type PredictResponse,
} from "@fti/proto/fti/serving/v1/serving_pb";
import { decodeRecordBatch, encodeRecordBatch, withEncodedField, type TypedColumn } from "@fti/record-batch";
import type { ColumnBatch } from "@fti/schema";
import type { Columns } from "@fti/transforms";
import { applyTransformations, readFeatureVectors, type FeatureVectors } from "./feature-vectors.js";
import type { FeatureViewPlan } from "./feature-view-plan.js";
import { outputColumns } from "./model-inputs.js";
import type { ModelMetrics } from "./model-metrics.js";
import { assertFeatureViewName, parseDeploymentName } from "./names.js";
import type { PredictionLog } from "./prediction-log.js";
import { decodeEntities, decodeRequestData, type EntityBatch } from "./request-batches.js";
import { bucketOf, entityRoutingKey, pickRoute } from "./routing.js";
import type { DeploymentState, FittedTransformations, ServingCatalog, ServingModel } from "./serving-catalog.js";
import { appendFeatureColumns } from "./vector-encoding.js";

export interface OnlineServingDependencies {
  store: OnlineStore;
  catalog: ServingCatalog;
  metrics: ModelMetrics;
  logger: Logger;
  predictionLog?: PredictionLog;
  /** The clock for TTL decisions. */
  now?: () => Date;
}

export type OnlineServing = ReturnType<typeof createOnlineServing>;

export function createOnlineServing(deps: OnlineServingDependencies) {
  const { store, catalog, metrics, logger } = deps;
  const now = deps.now ?? (() => new Date());

  /** Routed model version of a deployment for this request: a stable hash of the request id, or of the first entity. */
  function route(state: DeploymentState, entities: ColumnBatch, requestId: string): { serving: ServingModel; routingKey: string } {
    const routingKey = requestId || entityRoutingKey(entities.columns);
    return { serving: pickRoute(state.routes, bucketOf(routingKey)).serving, routingKey };
  }

  async function vectorsFor(plan: FeatureViewPlan, entities: EntityBatch, requestData: Columns, at: Date) {
    return readFeatureVectors(store, plan, entities, requestData, at);
  }

  function transformed(vectors: FeatureVectors, fitted: FittedTransformations | undefined, requestData: Columns): FeatureVectors {
    return fitted ? applyTransformations(vectors, fitted.pipeline, fitted.sourceOf, requestData) : vectors;
  }

  function decodeBatch(batch: RecordBatch | undefined, field: string): ColumnBatch | undefined {
    return batch ? decodeRecordBatch(batch, field) : undefined;
  }

  async function getFeatureVectors(req: GetFeatureVectorsRequest): Promise<GetFeatureVectorsResponse> {
    const at = now();
    const raw = decodeBatch(req.entities, "entities");
    let plan: FeatureViewPlan;
    let fitted: FittedTransformations | undefined;
    let model = "";
    if (req.target.case === "deployment") {
      parseDeploymentName(req.target.value, "deployment");
      const state = await catalog.deployment(req.target.value);
      if (!raw) throw InvalidArgumentError.field("entities", "at least one entity is required");
      const { serving } = route(state, raw, req.requestId);
      plan = serving.view;
      fitted = req.applyTransformations ? serving.transformations : undefined;
      model = serving.model.name;
    } else if (req.target.case === "featureView") {
      assertFeatureViewName(req.target.value, "feature_view");
      plan = await catalog.featureView(req.target.value);
      if (req.applyTransformations && plan.transformationCount > 0) {
        if (!req.trainingDataset) throw InvalidArgumentError.field("training_dataset", "is required to apply transformations to a feature view: its fitted parameters are used");
        fitted = await catalog.fittedTransformations(req.trainingDataset, plan.name);
      }
    } else {
      throw InvalidArgumentError.field("target", "set feature_view or deployment");
    }
    const entities = decodeEntities(req.entities, raw, plan.servingKeys, "entities");
    const requestData = decodeRequestData(req.requestData, plan.requestParameters, entities.rowCount, "request_data");
    const vectors = transformed(await vectorsFor(plan, entities, requestData, at), fitted, requestData);

    let columns = vectors.columns;
    if (req.features.length) {
      const byName = new Map(columns.map((c) => [c.name, c]));
      const unknown = req.features.flatMap((f, i) => (byName.has(f) ? [] : [{ field: `features[${i}]`, description: `"${f}" is not an output column of ${plan.name}` }]));
      if (unknown.length) throw new InvalidArgumentError(unknown);
      columns = req.features.map((f) => byName.get(f)!);
    }
    const response = create(GetFeatureVectorsResponseSchema, { featureView: plan.name, model });
    appendFeatureColumns(response, 3, vectors.rowCount, columns, req.includeEventTimes);
    return response;
  }

  async function predict(req: PredictRequest): Promise<PredictResponse> {
    const started = performance.now();
    const at = now();
    parseDeploymentName(req.deployment, "deployment");
    const state = await catalog.deployment(req.deployment);
    // Counted so a hot swap releases this revision's models only after we are done.
    state.inFlight++;
    let shadowsScheduled = false;
    try {
      const raw = decodeBatch(req.entities, "entities");
      if (!raw) throw InvalidArgumentError.field("entities", "at least one entity is required");
      const requestId = req.requestId || randomUUID();
      const { serving, routingKey } = route(state, raw, req.requestId);
      const entities = decodeEntities(req.entities, raw, serving.view.servingKeys, "entities");
      const requestData = decodeRequestData(req.requestData, serving.view.requestParameters, entities.rowCount, "request_data");
      const vectors = await vectorsFor(serving.view, entities, requestData, at);
      const scored = await score(state, serving, vectors, requestData, "routed", started);

      const response = create(PredictResponseSchema, { requestId, model: serving.model.name, deploymentRevision: state.revision, featureView: serving.view.name });
      withEncodedField(response, 5, encodeRecordBatch(entities.rowCount, scored.outputs));
      if (req.includeFeatures) appendFeatureColumns(response, 6, entities.rowCount, scored.inputs.columns, false);

      log(state, serving, false, requestId, at, started, entities, vectors, requestData, scored.outputs);
      const shadows = state.shadows.filter((s) => bucketOf(routingKey, s.serving.model.name) < s.samplePercent);
      if (shadows.length) {
        shadowsScheduled = true;
        setImmediate(() => void runShadows(state, shadows.map((s) => s.serving), requestId, at, entities, requestData, serving.view, vectors));
      }
      return response;
    } finally {
      if (!shadowsScheduled) state.inFlight--;
    }
  }

  /** Transformations + the model; records latency and errors per model version. */
  async function score(state: DeploymentState, serving: ServingModel, vectors: FeatureVectors, requestData: Columns, role: "routed" | "shadow", started: number) {
    try {
      const inputs = transformed(vectors, serving.transformations, requestData);
      const tensors = await serving.model.run(serving.inputs.feeds(inputs));
      const outputs = outputColumns(serving.model.outputs, tensors, vectors.rowCount);
      metrics.observe(state.name, serving.model.name, role, (performance.now() - started) / 1000);
      return { inputs, outputs };
    } catch (err) {
      metrics.error(state.name, serving.model.name, role);
      throw err;
    }
  }

  /** Shadow versions: scored after the response, logged, never returned; a failure only counts. */
  async function runShadows(state: DeploymentState, shadows: ServingModel[], requestId: string, at: Date, entities: EntityBatch, requestData: Columns, routedView: FeatureViewPlan, routedVectors: FeatureVectors) {
    try {
      for (const shadow of shadows) {
        const started = performance.now();
        try {
          const vectors = shadow.view === routedView ? routedVectors : await vectorsFor(shadow.view, entities, requestData, at);
          const scored = await score(state, shadow, vectors, requestData, "shadow", started);
          log(state, shadow, true, requestId, at, started, entities, vectors, requestData, scored.outputs);
        } catch (err) {
          logger.warn("shadow model failed", { deployment: state.name, model: shadow.model.name, requestId, error: (err as Error).message });
        }
      }
    } finally {
      state.inFlight--;
    }
  }

  function log(state: DeploymentState, serving: ServingModel, shadow: boolean, requestId: string, at: Date, started: number, entities: EntityBatch, vectors: FeatureVectors, requestData: Columns, outputs: TypedColumn[]) {
    if (!deps.predictionLog) return;
    deps.predictionLog.append({
      deployment: state.name,
      project: state.project,
      deploymentId: state.deploymentId,
      revision: state.revision,
      model: serving.model.name,
      featureView: serving.view.name,
      shadow,
      requestId,
      time: at,
      latencyMicros: Math.round((performance.now() - started) * 1000),
      rowCount: entities.rowCount,
      // Literals, not { ...k, values }: see copyToExtend in @fti/transforms (a new hidden class per request).
      entities: serving.view.servingKeys.map((k) => ({ name: k.name, type: k.type, values: entities.columns[k.name]! })),
      features: [...vectors.columns, ...serving.view.requestParameters.map((p) => ({ name: p.name, type: p.type, values: requestData[p.name]! }))],
      outputs,
    });
  }

  return { getFeatureVectors, predict };
}
