// The offline-query service's operations, composed from their parts: the
// point-in-time reads of feature views, training datasets (jobs, build, read),
// and time-travel reads of feature groups.

import { timestampMs } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@fti/errors";
import type {
  CreateTrainingDatasetRequest,
  GetBatchDataRequest,
  GetHistoricalFeaturesRequest,
  GetHistoricalFeaturesStreamRequest,
  ListTrainingDatasetJobsRequest,
  ReadFeatureGroupRequest,
  ReadTrainingDatasetRequest,
  TrainingDatasetJob,
} from "@fti/proto/fti/offline/v1/offline_pb";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { readFeatureGroup, type FeatureGroupPart } from "./feature-group-reader.js";
import { readFeatureView, type OfflineQueryDeps } from "./historical-features.js";
import { loadFittedPipeline } from "./fitted-transformations.js";
import type { TrainingDatasets } from "./training-datasets.js";
import { readTrainingDataset, type TrainingDatasetPart } from "./training-dataset-reader.js";
import { loadViewPlan } from "./view-plan.js";

export interface OfflineQuery {
  getHistoricalFeatures(req: GetHistoricalFeaturesRequest, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  getHistoricalFeaturesStream(requests: AsyncIterable<GetHistoricalFeaturesStreamRequest>, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  createTrainingDataset(req: CreateTrainingDatasetRequest): Promise<TrainingDatasetJob>;
  getTrainingDatasetJob(name: string): Promise<TrainingDatasetJob>;
  listTrainingDatasetJobs(req: ListTrainingDatasetJobsRequest): Promise<{ jobs: TrainingDatasetJob[]; nextPageToken: string }>;
  cancelTrainingDatasetJob(name: string): Promise<TrainingDatasetJob>;
  readTrainingDataset(req: ReadTrainingDatasetRequest, signal?: AbortSignal): AsyncIterable<TrainingDatasetPart>;
  getBatchData(req: GetBatchDataRequest, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  readFeatureGroup(req: ReadFeatureGroupRequest, signal?: AbortSignal): AsyncIterable<FeatureGroupPart>;
}

async function* single<T>(value: T): AsyncIterable<T> {
  yield value;
}

export function createOfflineQuery(deps: OfflineQueryDeps & { trainingDatasets: TrainingDatasets }): OfflineQuery {
  const { trainingDatasets } = deps;
  return {
    async *getHistoricalFeatures(req, signal) {
      const plan = await loadViewPlan(deps.metadata, req.featureView, "feature_view");
      const entities =
        req.entities.case === "entityRows"
          ? { kind: "rows" as const, parts: single(req.entities.value), field: "entity_rows" }
          : req.entities.case === "rootEventTimeRange"
            ? { kind: "root" as const, range: req.entities.value, field: "root_event_time_range" }
            : undefined;
      if (!entities) throw InvalidArgumentError.field("entities", "set entity_rows or root_event_time_range");
      yield* readFeatureView(deps, { plan, entities, options: req.options, optionsField: "options", includeLabels: true, signal });
    },

    async *getHistoricalFeaturesStream(requests, signal) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done) throw InvalidArgumentError.field("feature_view", "the first message must name the feature view");
      const head = first.value;
      const plan = await loadViewPlan(deps.metadata, head.featureView, "feature_view");
      async function* parts(): AsyncIterable<RecordBatch> {
        if (head.entityRows) yield head.entityRows;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          if (next.value.featureView && next.value.featureView !== head.featureView) throw InvalidArgumentError.field("feature_view", "set it on the first message only");
          if (next.value.entityRows) yield next.value.entityRows;
        }
      }
      yield* readFeatureView(deps, { plan, entities: { kind: "rows", parts: parts(), field: "entity_rows" }, options: head.options, optionsField: "options", includeLabels: true, signal });
    },

    createTrainingDataset: (req) => trainingDatasets.create(req),
    getTrainingDatasetJob: (name) => trainingDatasets.getJob(name),
    listTrainingDatasetJobs: (req) => trainingDatasets.listJobs(req),
    cancelTrainingDatasetJob: (name) => trainingDatasets.cancelJob(name),
    readTrainingDataset: (req, signal) => readTrainingDataset(deps, req, signal),

    async *getBatchData(req, signal) {
      const plan = await loadViewPlan(deps.metadata, req.featureView, "feature_view");
      const transformations = req.trainingDataset ? await loadFittedPipeline(deps, plan, req.trainingDataset, "training_dataset") : undefined;
      const entities =
        req.entities.case === "entityRows"
          ? { kind: "rows" as const, parts: single(req.entities.value), field: "entity_rows", defaultTimeMs: req.asOfTime ? timestampMs(req.asOfTime) : Date.now() }
          : req.entities.case === "eventTimeRange"
            ? { kind: "root" as const, range: req.entities.value, field: "event_time_range", latestPerEntity: req.latestPerEntity }
            : undefined;
      if (!entities) throw InvalidArgumentError.field("entities", "set event_time_range or entity_rows");
      yield* readFeatureView(deps, { plan, entities, options: req.options, optionsField: "options", includeLabels: false, transformations, signal });
    },

    readFeatureGroup: (req, signal) => readFeatureGroup(deps, req, signal),
  };
}


