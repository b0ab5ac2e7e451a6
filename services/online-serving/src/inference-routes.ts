// inference.GRPCInferenceService (Open Inference Protocol) handlers: map
// requests to the inference logic and results to the protocol's messages.
import type { ServiceImpl } from "@connectrpc/connect";
import type { GRPCInferenceService } from "@fti/proto/inference/grpc_predict_v2_pb";
import { serverName, serverVersion, type createInference } from "./inference.js";

export default function inferenceRoutes(inference: ReturnType<typeof createInference>): ServiceImpl<typeof GRPCInferenceService> {
  return {
    serverLive: () => ({ live: true }),
    serverReady: () => ({ ready: inference.ready() }),
    modelReady: async (req) => ({ ready: await inference.modelReady(req.name, req.version) }),
    serverMetadata: () => ({ name: serverName, version: serverVersion, extensions: [] }),
    modelMetadata: (req) => inference.modelMetadata(req),
    modelInfer: (req) => inference.modelInfer(req),
  };
}
