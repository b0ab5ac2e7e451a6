// OfflineQueryService handlers: map requests to the domain operations and
// encoded record batches to responses; nothing else. Result batches are
// encoded directly (encodeRecordBatch) and embedded as field 1 of each
// response, skipping the generic protobuf encoder.
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  GetBatchDataResponseSchema,
  GetHistoricalFeaturesResponseSchema,
  GetHistoricalFeaturesStreamResponseSchema,
  ReadFeatureGroupResponseSchema,
  ReadTrainingDatasetResponseSchema,
  type OfflineQueryService,
} from "@fti/proto/fti/offline/v1/offline_pb";
import { withEncodedField } from "@fti/record-batch";
import type { OfflineQuery } from "./offline-query.js";

export default function routes(offline: OfflineQuery): ServiceImpl<typeof OfflineQueryService> {
  return {
    async *getHistoricalFeatures(req, ctx: HandlerContext) {
      for await (const bytes of offline.getHistoricalFeatures(req, ctx.signal)) yield withEncodedField(create(GetHistoricalFeaturesResponseSchema), 1, bytes);
    },
    async *getHistoricalFeaturesStream(requests, ctx: HandlerContext) {
      for await (const bytes of offline.getHistoricalFeaturesStream(requests, ctx.signal)) yield withEncodedField(create(GetHistoricalFeaturesStreamResponseSchema), 1, bytes);
    },
    createTrainingDataset: async (req) => ({ job: await offline.createTrainingDataset(req) }),
    getTrainingDatasetJob: async (req) => ({ job: await offline.getTrainingDatasetJob(req.name) }),
    listTrainingDatasetJobs: async (req) => {
      const page = await offline.listTrainingDatasetJobs(req);
      return { jobs: page.jobs, nextPageToken: page.nextPageToken };
    },
    cancelTrainingDatasetJob: async (req) => ({ job: await offline.cancelTrainingDatasetJob(req.name) }),
    async *readTrainingDataset(req, ctx: HandlerContext) {
      for await (const part of offline.readTrainingDataset(req, ctx.signal)) {
        const message = create(ReadTrainingDatasetResponseSchema, { files: part.files ?? [], rowCount: part.rowCount ?? 0n });
        yield part.batch ? withEncodedField(message, 1, part.batch) : message;
      }
    },
    async *getBatchData(req, ctx: HandlerContext) {
      for await (const bytes of offline.getBatchData(req, ctx.signal)) yield withEncodedField(create(GetBatchDataResponseSchema), 1, bytes);
    },
    async *readFeatureGroup(req, ctx: HandlerContext) {
      for await (const part of offline.readFeatureGroup(req, ctx.signal)) yield withEncodedField(create(ReadFeatureGroupResponseSchema, { commitId: part.commitId }), 1, part.batch);
    },
  };
}
