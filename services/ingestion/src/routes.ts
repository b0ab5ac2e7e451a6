// IngestionService handlers: map requests to the ingestion operations and
// results to responses; nothing else.
import type { ServiceImpl } from "@connectrpc/connect";
import { InvalidArgumentError } from "@fti/errors";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import type { IngestionService } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { Ingestion } from "./ingestion.js";
import type { Materializations } from "./materialization.js";

export default function routes(ingestion: Ingestion, materializations: Materializations): ServiceImpl<typeof IngestionService> {
  return {
    ingest: async (req) => ingestion.ingest({ featureGroup: req.featureGroup, batchId: req.batchId, parts: req.rows ? [req.rows] : [], validateOnly: req.validateOnly }),

    async ingestStream(requests) {
      let first: { featureGroup: string; batchId: string; validateOnly: boolean } | undefined;
      const parts: RecordBatch[] = [];
      for await (const req of requests) {
        if (!first) first = { featureGroup: req.featureGroup, batchId: req.batchId, validateOnly: req.validateOnly };
        else {
          if (req.featureGroup && req.featureGroup !== first.featureGroup) throw InvalidArgumentError.field(`parts[${parts.length}].feature_group`, "must be empty or equal to the first message's");
          if (req.batchId && req.batchId !== first.batchId) throw InvalidArgumentError.field(`parts[${parts.length}].batch_id`, "must be empty or equal to the first message's");
        }
        if (req.rows) parts.push(req.rows);
      }
      if (!first) throw InvalidArgumentError.field("feature_group", "the stream sent no message");
      return ingestion.ingest({ ...first, parts });
    },

    getCommit: async (req) => ({ commit: await ingestion.getCommit(req.name) }),
    listCommits: async (req) => {
      const page = await ingestion.listCommits(req);
      return { commits: page.items, nextPageToken: page.nextPageToken };
    },
    deleteRows: async (req) => ingestion.deleteRows({ featureGroup: req.featureGroup, batchId: req.batchId, keys: req.keys }),

    materialize: async (req) => ({ job: await materializations.start(req) }),
    getMaterializationJob: async (req) => ({ job: await materializations.get(req.name) }),
    listMaterializationJobs: async (req) => {
      const page = await materializations.list(req);
      return { jobs: page.items, nextPageToken: page.nextPageToken };
    },
    cancelMaterializationJob: async (req) => ({ job: await materializations.cancel(req.name) }),
  };
}
