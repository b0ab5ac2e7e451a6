// One typed client per service, over gRPC (HTTP/2, to each service's gRPC port)
// or the Connect protocol (to its web port), with a default deadline and
// retries for idempotent calls.
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { servicePorts, type ServiceName } from "@fti/config";
import { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import { IngestionService } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { OfflineQueryService } from "@fti/proto/fti/offline/v1/offline_pb";
import { OnlineServingService } from "@fti/proto/fti/serving/v1/serving_pb";
import { TrainingService } from "@fti/proto/fti/training/v1/training_pb";
import { MonitoringService } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { GRPCInferenceService } from "@fti/proto/inference/grpc_predict_v2_pb";
import { defaultRetryPolicy, retryInterceptor, type RetryPolicy } from "./retry.js";

export interface FtiClientOptions {
  /** Host of every service, with each service on its default ports (see README). */
  host?: string;
  /** Per-service base URLs, overriding `host`, e.g. { registry: "http://registry:50051" }. */
  urls?: Partial<Record<ServiceName, string>>;
  /** "grpc" (default) talks to the gRPC ports; "connect" to the web ports. */
  protocol?: "grpc" | "connect";
  /** Deadline of each call unless the call sets its own `timeoutMs`. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Extra interceptors, e.g. to add an authorization header. */
  interceptors?: Interceptor[];
}

export interface FtiClient {
  registry: Client<typeof RegistryService>;
  ingestion: Client<typeof IngestionService>;
  offline: Client<typeof OfflineQueryService>;
  serving: Client<typeof OnlineServingService>;
  /** The KServe Open Inference Protocol, served by online-serving. */
  inference: Client<typeof GRPCInferenceService>;
  training: Client<typeof TrainingService>;
  monitoring: Client<typeof MonitoringService>;
}

/** Large enough for 100k-row record batches (the servers accept 256 MiB). */
const maxMessageBytes = 256 * 1024 * 1024;

export function createFtiClient(options: FtiClientOptions = {}): FtiClient {
  const protocol = options.protocol ?? "grpc";
  const host = options.host ?? "127.0.0.1";
  const interceptors = [retryInterceptor({ ...defaultRetryPolicy, ...options.retry }), ...(options.interceptors ?? [])];
  const transports = new Map<string, Transport>();
  const transportFor = (service: ServiceName): Transport => {
    const baseUrl = options.urls?.[service] ?? `http://${host}:${protocol === "grpc" ? servicePorts[service].grpc : servicePorts[service].web}`;
    let t = transports.get(baseUrl);
    if (!t) {
      const common = { baseUrl, interceptors, defaultTimeoutMs: options.timeoutMs ?? 30_000, readMaxBytes: maxMessageBytes, writeMaxBytes: maxMessageBytes };
      t = protocol === "grpc" ? createGrpcTransport(common) : createConnectTransport({ ...common, httpVersion: "1.1" });
      transports.set(baseUrl, t);
    }
    return t;
  };
  return {
    registry: createClient(RegistryService, transportFor("registry")),
    ingestion: createClient(IngestionService, transportFor("ingestion")),
    offline: createClient(OfflineQueryService, transportFor("offline-query")),
    serving: createClient(OnlineServingService, transportFor("online-serving")),
    inference: createClient(GRPCInferenceService, transportFor("online-serving")),
    training: createClient(TrainingService, transportFor("training-runner")),
    monitoring: createClient(MonitoringService, transportFor("monitoring")),
  };
}
