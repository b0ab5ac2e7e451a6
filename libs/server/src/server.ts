// A service process: its handlers written once (connect-es ServiceImpl shape)
// and mounted on two listeners — gRPC on grpc-js (the fast path for every gRPC
// client) and the web port on connect-node (Connect, gRPC-Web, JSON) with
// /metrics — plus health, reflection, and graceful shutdown.
import type * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import { createServiceImplSpec, type ConnectRouter, type ServiceImpl, type ServiceImplSpec } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health } from "@fti/proto/grpc/health/v1/health_pb";
import type { Logger } from "@fti/logger";
import { InFlightCalls, toGrpcService } from "./grpc-adapter.js";
import { HealthStatus, ServingStatus, healthService, monitorDependencies, type Dependency } from "./health.js";
import { instrument } from "./instrument.js";
import { createRpcMetrics, type RpcMetrics } from "./metrics.js";
import { createReflectionIndex, reflectionService, reflectionServices } from "./reflection.js";
import { useStreamTables } from "./stream-table.js";
import { useFastUtf8Encoding } from "./text-encoding.js";
import { listenWeb, type WebListener } from "./web-listener.js";

export interface ServiceRegistration {
  service: DescService;
  impl: object;
}

/** Pairs a service descriptor with its (possibly partial) implementation; missing methods answer UNIMPLEMENTED. */
export function service<S extends DescService>(desc: S, impl: Partial<ServiceImpl<S>>): ServiceRegistration {
  return { service: desc, impl };
}

/** Record batches of 100k rows run to tens of MB; gRPC's 4 MiB default is far too small. */
const defaultMaxMessageBytes = 256 * 1024 * 1024;

export interface ServerOptions {
  /** The service's name in logs and metrics, e.g. "registry". */
  name: string;
  services: ServiceRegistration[];
  /** Probed for health: any failing one makes every service NOT_SERVING. */
  dependencies?: Dependency[];
  logger: Logger;
  healthIntervalMs?: number;
  /** Process metrics (CPU, memory, event loop lag) on /metrics. */
  defaultMetrics?: boolean;
  /** Log every call at debug level (failures are always logged). */
  logRequests?: boolean;
  /** Largest request or response message, on both listeners. */
  maxMessageBytes?: number;
  /** grpc-js server options. */
  grpcOptions?: grpc.ServerOptions;
}

export interface ListenOptions {
  host?: string;
  /** 0 picks a free port. */
  grpcPort: number;
  webPort: number;
}

export interface RunningServer {
  grpcPort: number;
  webPort: number;
  /** host:port for gRPC clients. */
  grpcAddress: string;
  /** http://host:port for Connect/gRPC-Web clients and /metrics. */
  webUrl: string;
  health: HealthStatus;
  metrics: RpcMetrics;
  /** Stops accepting calls, waits up to `graceMs` for in-flight ones, then cancels the rest. */
  shutdown(graceMs?: number): Promise<void>;
}

export function createServer(options: ServerOptions) {
  const { logger } = options;
  useFastUtf8Encoding();
  const metrics = createRpcMetrics({ service: options.name, defaultMetrics: options.defaultMetrics });
  const serviceNames = options.services.map((s) => s.service.typeName);
  const health = new HealthStatus(serviceNames);
  const reflection = createReflectionIndex([...options.services.map((s) => s.service), Health]);
  const specs: ServiceImplSpec[] = [
    ...options.services.map((s) => createServiceImplSpec(s.service, s.impl)),
    createServiceImplSpec(Health, healthService(health)),
    ...reflectionServices.map((r) => createServiceImplSpec(r, reflectionService(reflection))),
  ];
  const monitor = monitorDependencies(health, options.dependencies ?? [], { intervalMs: options.healthIntervalMs ?? 2_000, logger });

  async function listen(listenOptions: ListenOptions): Promise<RunningServer> {
    const host = listenOptions.host ?? "127.0.0.1";
    const shutdownController = new AbortController();
    const maxMessageBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    const inFlight = new InFlightCalls();
    await monitor.start();

    // gRPC listener (grpc-js).
    // Channelz is off: nothing serves it here (health, reflection and /metrics
    // do that job), and its per-call bookkeeping (a Date per call and per
    // message, trackers per session) is garbage on every request.
    const grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": maxMessageBytes,
      "grpc.max_send_message_length": maxMessageBytes,
      "grpc.enable_channelz": 0,
      ...options.grpcOptions,
    });
    for (const spec of specs) {
      const { definition, handlers } = toGrpcService(instrument(spec, { listener: "grpc", logger, metrics, logRequests: options.logRequests }), { inFlight });
      grpcServer.addService(definition, handlers);
    }
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(`${host.includes(":") ? `[${host}]` : host}:${listenOptions.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    // grpc-js keeps its HTTP/2 servers private; without them, sessions keep Node's tables (only the GC notices).
    const http2Servers = (grpcServer as unknown as { http2Servers?: Map<http2.Http2Server, unknown> }).http2Servers;
    if (http2Servers instanceof Map) for (const h2 of http2Servers.keys()) h2.on("session", useStreamTables);

    // Web listener (connect-node): Connect, gRPC-Web, gRPC over h2c, plus plain HTTP endpoints.
    const routes = (router: ConnectRouter) => {
      for (const spec of specs) {
        const instrumented = instrument(spec, { listener: "web", logger, metrics, logRequests: options.logRequests });
        for (const m of Object.values(instrumented.methods)) router.rpc(m.method, m.impl as never);
      }
    };
    const web: WebListener = await listenWeb(
      connectNodeAdapter({
        routes,
        shutdownSignal: shutdownController.signal,
        readMaxBytes: maxMessageBytes,
        writeMaxBytes: maxMessageBytes,
        fallback: (req, res) => {
          const path = (req.url ?? "").split("?")[0];
          if (path === "/metrics") {
            metrics.registry.metrics().then((text) => {
              res.writeHead(200, { "content-type": metrics.registry.contentType });
              res.end(text);
            }, () => {
              res.writeHead(500);
              res.end();
            });
            return;
          }
          if (path === "/healthz" || path === "/readyz") {
            const status = health.get("") ?? ServingStatus.UNKNOWN;
            const serving = status === ServingStatus.SERVING;
            res.writeHead(serving || path === "/healthz" ? 200 : 503, { "content-type": "application/json" });
            res.end(JSON.stringify({ status: ServingStatus[status], failing: health.failures() }));
            return;
          }
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("not found\n");
        },
      }),
      host,
      listenOptions.webPort,
    );

    const displayHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
    logger.info("listening", { grpcPort, webPort: web.port, services: serviceNames });
    let stopping: Promise<void> | undefined;

    return {
      grpcPort,
      webPort: web.port,
      grpcAddress: `${displayHost}:${grpcPort}`,
      webUrl: `http://${displayHost}:${web.port}`,
      health,
      metrics,
      shutdown(graceMs = 10_000) {
        stopping ??= (async () => {
          logger.info("shutting down", { graceMs });
          monitor.stop();
          health.setAll(ServingStatus.NOT_SERVING);
          const cancelLeftovers = setTimeout(() => {
            inFlight.abortAll();
            shutdownController.abort();
          }, graceMs);
          // tryShutdown stops new calls; once the in-flight ones are done (or the
          // grace period is over) idle client connections are closed too.
          const grpcDrained = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
          const force = setTimeout(() => grpcServer.forceShutdown(), graceMs + 100);
          // A finished handler's last bytes may still be on their way: give them a moment.
          void inFlight.drained().then(() => setTimeout(() => grpcServer.forceShutdown(), 250));
          await Promise.all([grpcDrained, web.close(graceMs + 100)]);
          clearTimeout(force);
          clearTimeout(cancelLeftovers);
          shutdownController.abort();
          logger.info("stopped");
        })();
        return stopping;
      },
    };
  }

  return { health, metrics, listen, probeDependencies: monitor.probeOnce };
}

/** Shuts the server down on SIGTERM/SIGINT, draining in-flight calls first. */
export function shutdownOnSignals(server: RunningServer, graceMs: number, onStopped: () => Promise<void> | void = () => {}) {
  let once = false;
  const handler = (signal: NodeJS.Signals) => {
    if (once) return;
    once = true;
    void server
      .shutdown(graceMs)
      .then(onStopped)
      .then(() => process.exit(0), () => process.exit(1));
    void signal;
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
