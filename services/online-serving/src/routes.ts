// OnlineServingService handlers: hand requests to the online-serving logic.
import type { ServiceImpl } from "@connectrpc/connect";
import type { OnlineServingService } from "@fti/proto/fti/serving/v1/serving_pb";
import type { OnlineServing } from "./online-serving.js";

export default function routes(serving: OnlineServing): ServiceImpl<typeof OnlineServingService> {
  return {
    getFeatureVectors: (req) => serving.getFeatureVectors(req),
    predict: (req) => serving.predict(req),
  };
}
