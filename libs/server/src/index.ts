export { createServer, service, shutdownOnSignals, type ListenOptions, type RunningServer, type ServerOptions, type ServiceRegistration } from "./server.js";
export { HealthStatus, ServingStatus, monitorDependencies, type Dependency } from "./health.js";
export { CounterFamily, HistogramFamily, createRpcMetrics, type CounterSeries, type HistogramSeries, type RpcMetrics } from "./metrics.js";
export { InFlightCalls, toGrpcService, toServiceError } from "./grpc-adapter.js";
export { createReflectionIndex } from "./reflection.js";
export { messageDecoder } from "./message-decoder.js";
export { messageEncoder } from "./message-encoder.js";
export { useFastUtf8Encoding } from "./text-encoding.js";
