// Builds the online-serving server from its dependencies; main.ts listens.
// One process serves fti.serving.v1.OnlineServingService and the Open
// Inference Protocol (inference.GRPCInferenceService). Tests call build() with
// their own online store, registry and NATS names, on port 0.
import { OnlineServingService } from "@fti/proto/fti/serving/v1/serving_pb";
import { GRPCInferenceService } from "@fti/proto/inference/grpc_predict_v2_pb";
import { createServer, service, ServingStatus, type ListenOptions, type RunningServer } from "@fti/server";
import { natsDependency, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import type { OnlineStore } from "@fti/online-store";
import { createMetadataCache, type RegistryClient } from "@fti/registry-client";
import { createInference } from "./inference.js";
import inferenceRoutes from "./inference-routes.js";
import { createModelMetrics } from "./model-metrics.js";
import { createOnlineServing } from "./online-serving.js";
import { createPredictionLog, type PredictionLog } from "./prediction-log.js";
import routes from "./routes.js";
import { createServingCatalog, type ServingCatalog } from "./serving-catalog.js";

export interface OnlineServingServerDependencies {
  store: OnlineStore;
  registry: RegistryClient;
  nats: NatsConnection;
  logger: Logger;
  /** Where model artifacts live (FTI_OFFLINE_ROOT). */
  offlineRoot: string;
  /** Event subjects are "<eventSubjectPrefix>.<type>.<project>...". Default "fti.events". */
  eventSubjectPrefix?: string;
  healthIntervalMs?: number;
  metadataResyncIntervalMs?: number;
  modelRetireGraceMs?: number;
  predictionLog?: { batchSize?: number; flushIntervalMs?: number; bufferSize?: number } | false;
  /** Load every deployment in the registry before listening (default true); otherwise each loads on its first request. */
  preloadDeployments?: boolean;
  /** The clock for TTL decisions (tests). */
  now?: () => Date;
}

export interface RunningOnlineServing extends RunningServer {}

/**
 * Every deployment in the registry, loaded and warmed before the server
 * listens, as KServe loads its model before it reports ready: the first
 * requests do not queue behind model loading. A registry that cannot be listed
 * or a deployment that fails to load is logged, and loads on first use.
 */
async function preloadDeployments(registry: RegistryClient, catalog: ServingCatalog, logger: Logger) {
  const started = performance.now();
  let names: string[];
  try {
    names = await allDeploymentNames(registry);
  } catch (err) {
    logger.warn("deployments not preloaded: cannot list them", { error: (err as Error).message });
    return;
  }
  const { loaded, failed } = await catalog.preload(names);
  for (const f of failed) logger.warn("deployment not preloaded; it loads on its first request", { deployment: f.name, error: f.error });
  logger.info("deployments preloaded", { loaded: loaded.length, failed: failed.length, ms: Math.round(performance.now() - started) });
}

async function allDeploymentNames(registry: RegistryClient): Promise<string[]> {
  const names: string[] = [];
  let projectToken = "";
  do {
    const projects = await registry.listProjects({ pageSize: 1000, pageToken: projectToken });
    for (const project of projects.projects) {
      let token = "";
      do {
        const page = await registry.listDeployments({ parent: project.name, pageSize: 1000, pageToken: token });
        names.push(...page.deployments.map((d) => d.name));
        token = page.nextPageToken;
      } while (token);
    }
    projectToken = projects.nextPageToken;
  } while (projectToken);
  return names;
}

export function build(deps: OnlineServingServerDependencies) {
  const eventSubjectPrefix = deps.eventSubjectPrefix ?? "fti.events";
  const metrics = createModelMetrics();
  // Registry events reach the catalog, which drops cache entries itself before
  // rebuilding, so the cache needs no subscription of its own.
  const metadata = createMetadataCache({ registry: deps.registry, logger: deps.logger, maxAgeMs: Number.MAX_SAFE_INTEGER });
  const catalog = createServingCatalog({
    metadata,
    offlineRoot: deps.offlineRoot,
    logger: deps.logger.child({ component: "catalog" }),
    nats: deps.nats,
    eventSubjectPrefix,
    resyncIntervalMs: deps.metadataResyncIntervalMs ?? 60_000,
    retireGraceMs: deps.modelRetireGraceMs,
    onSwap: (deployment) => metrics.swapped(deployment),
    onRebuildFailed: (_kind, name) => metrics.loadRejected(name),
  });
  const predictionLog: PredictionLog | undefined =
    deps.predictionLog === false
      ? undefined
      : createPredictionLog({ nats: deps.nats, eventSubjectPrefix, logger: deps.logger.child({ component: "prediction-log" }), ...deps.predictionLog, onPublished: metrics.logPublished, onDropped: metrics.logDropped });
  const serving = createOnlineServing({ store: deps.store, catalog, metrics, logger: deps.logger, predictionLog, now: deps.now });
  let ready = () => false;
  const inference = createInference({ catalog, metrics, ready: () => ready() });

  const server = createServer({
    name: "online-serving",
    services: [service(OnlineServingService, routes(serving)), service(GRPCInferenceService, inferenceRoutes(inference))],
    dependencies: [{ name: "online-store", check: () => deps.store.ping() }, natsDependency(deps.nats)],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    defaultMetrics: true,
  });
  metrics.register(server.metrics.registry);
  ready = () => server.health.get("") === ServingStatus.SERVING;

  return {
    ...server,
    serving,
    catalog,
    predictionLog,
    async listen(options: ListenOptions): Promise<RunningOnlineServing> {
      if (deps.preloadDeployments ?? true) await preloadDeployments(deps.registry, catalog, deps.logger);
      const running = await server.listen(options);
      return {
        ...running,
        async shutdown(graceMs?: number) {
          await running.shutdown(graceMs);
          await predictionLog?.close();
          await catalog.close();
          await metadata.close();
        },
      };
    },
  };
}
