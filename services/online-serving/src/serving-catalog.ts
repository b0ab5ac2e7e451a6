// Everything a request needs from the registry, compiled and held in memory:
// feature view plans, fitted transformations, loaded model versions and
// deployments. Registry events (and a periodic resync, in case one was missed)
// rebuild what changed in the background; a deployment's new revision is
// loaded and warmed completely before it replaces the old one, and models the
// old revision used are released only after its last request finished.
import { fromBinary } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@fti/errors";
import type { NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { MetadataCache } from "@fti/registry-client";
import { compileTransformations, type Column, type TransformationPipeline } from "@fti/transforms";
import { featureGroupsOf, planFeatureView, type FeatureViewPlan } from "./feature-view-plan.js";
import { planInputs, type InputAssembly } from "./model-inputs.js";
import { loadModel, type LoadedModel } from "./model-runtime.js";
import { parseDeploymentName } from "./names.js";
import { RefreshingMap, type Built } from "./refreshing-map.js";

export interface FittedTransformations {
  trainingDataset: string;
  pipeline: TransformationPipeline;
  /** Output column → the view column it was computed from (for statuses and event times). */
  sourceOf: ReadonlyMap<string, string>;
}

/** A model version ready to answer for a deployment: its view, transformations and inputs. */
export interface ServingModel {
  model: LoadedModel;
  view: FeatureViewPlan;
  transformations: FittedTransformations | undefined;
  inputs: InputAssembly;
}

export interface DeploymentState {
  name: string;
  project: string;
  deploymentId: string;
  revision: bigint;
  etag: string;
  routes: { weight: number; serving: ServingModel }[];
  shadows: { samplePercent: number; serving: ServingModel }[];
  /** Requests running on this revision; its models are released only at 0. */
  inFlight: number;
}

export interface ServingCatalogOptions {
  metadata: MetadataCache;
  offlineRoot: string;
  logger: Logger;
  nats?: NatsConnection;
  eventSubjectPrefix?: string;
  resyncIntervalMs?: number;
  retireGraceMs?: number;
  /** Told about each deployment swap and each rejected rebuild (metrics, tests). */
  onSwap?(deployment: string, revision: bigint): void;
  onRebuildFailed?(kind: string, name: string, err: unknown): void;
}

export type ServingCatalog = ReturnType<typeof createServingCatalog>;

export function createServingCatalog(options: ServingCatalogOptions) {
  const { metadata, logger } = options;
  const retireGraceMs = options.retireGraceMs ?? 30_000;

  // Loaded model versions by name, shared by deployments and OIP. A model
  // version's artifact is immutable, so a loaded one is never reloaded.
  const loadedModels = new Map<string, Promise<LoadedModel>>();
  const modelVersion = (name: string) => {
    let loading = loadedModels.get(name);
    if (!loading) {
      loading = metadata.model(name).then((m) => loadModel(m, options.offlineRoot));
      loading.catch(() => loadedModels.delete(name));
      loadedModels.set(name, loading);
    }
    return loading;
  };

  const views = new RefreshingMap<FeatureViewPlan>({
    kind: "feature view",
    logger,
    async build(name) {
      const view = await metadata.featureView(name);
      const groupNames = featureGroupsOf(view);
      const groups = new Map(await Promise.all(groupNames.map(async (g) => [g, await metadata.featureGroup(g)] as const)));
      const plan = planFeatureView(view, groups);
      return { value: plan, dependsOn: plan.dependsOn };
    },
  });

  const transformations = new RefreshingMap<FittedTransformations>({
    kind: "training dataset",
    logger,
    async build(key) {
      const [datasetName, viewName] = key.split("\n") as [string, string];
      const [dataset, plan] = await Promise.all([metadata.trainingDataset(datasetName), views.get(viewName)]);
      if (dataset.featureView !== plan.name) throw InvalidArgumentError.field("training_dataset", `${datasetName} is a dataset of ${dataset.featureView}, not of ${plan.name}`);
      if (dataset.state !== TrainingDataset_State.READY) throw new FailedPreconditionError(`${datasetName} is not READY, so it has no fitted transformation parameters yet`);
      const inputs: Column[] = [...plan.outputs.map(({ name, type }) => ({ name, type })), ...plan.requestParameters];
      const pipeline = compileTransformations(dataset.fittedTransformations, inputs);
      const sourceOf = new Map<string, string>();
      for (const f of dataset.fittedTransformations) {
        const t = f.transformation!;
        sourceOf.set(t.output || t.feature, sourceOf.get(t.feature) ?? t.feature);
      }
      return { value: { trainingDataset: datasetName, pipeline, sourceOf }, dependsOn: [datasetName, ...plan.dependsOn] };
    },
  });

  const fitted = (datasetName: string, viewName: string) => transformations.get(`${datasetName}\n${viewName}`);

  async function servingModel(route: { model: string; featureView: string; trainingDataset: string }): Promise<Built<ServingModel>> {
    const [model, view] = await Promise.all([modelVersion(route.model), views.get(route.featureView)]);
    const fittedTransformations = view.transformationCount > 0 ? await fitted(route.trainingDataset, route.featureView) : undefined;
    const columns = fittedTransformations ? fittedTransformations.pipeline.columns.filter((c) => !view.requestParameters.some((p) => p.name === c.name)) : view.outputs;
    const inputs = planInputs(model, columns);
    return { value: { model, view, transformations: fittedTransformations, inputs }, dependsOn: [route.model, route.trainingDataset, ...view.dependsOn] };
  }

  const deployments = new RefreshingMap<DeploymentState>({
    kind: "deployment",
    logger,
    async build(name) {
      const { project, deployment: deploymentId } = parseDeploymentName(name, "deployment");
      const d = await metadata.deployment(name);
      const routes = await Promise.all(d.routes.map(async (r) => ({ weight: r.weight, built: await servingModel(r) })));
      const shadows = await Promise.all(d.shadows.map(async (s) => ({ samplePercent: s.samplePercent || 100, built: await servingModel(s) })));
      const state: DeploymentState = {
        name,
        project,
        deploymentId,
        revision: d.revision,
        etag: d.etag,
        routes: routes.map((r) => ({ weight: r.weight, serving: r.built.value })),
        shadows: shadows.map((s) => ({ samplePercent: s.samplePercent, serving: s.built.value })),
        inFlight: 0,
      };
      return { value: state, dependsOn: [name, ...routes.flatMap((r) => r.built.dependsOn), ...shadows.flatMap((s) => s.built.dependsOn)] };
    },
    replaced(name, previous, next) {
      if (next.revision !== previous.revision) {
        logger.info("deployment switched", { deployment: name, from: String(previous.revision), to: String(next.revision) });
        options.onSwap?.(name, next.revision);
      }
      void retire(previous);
    },
    rebuildFailed: (name, err) => options.onRebuildFailed?.("deployment", name, err),
  });

  // OIP requests name model versions directly ("latest" resolves to a number).
  const inferenceModels = new RefreshingMap<LoadedModel>({
    kind: "model",
    logger,
    async build(name) {
      const m = await metadata.model(name);
      return { value: await modelVersion(m.name), dependsOn: [m.name] };
    },
  });

  /** Releases the models of a replaced revision that nothing serves any more, once its requests are done. */
  async function retire(previous: DeploymentState) {
    const deadline = Date.now() + retireGraceMs;
    while (previous.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const inUse = new Set<LoadedModel>();
    for (const d of await deployments.values()) for (const r of [...d.routes, ...d.shadows]) inUse.add(r.serving.model);
    for (const m of await inferenceModels.values()) inUse.add(m);
    for (const r of [...previous.routes, ...previous.shadows]) {
      const model = r.serving.model;
      if (inUse.has(model) || loadedModels.get(model.name) === undefined) continue;
      loadedModels.delete(model.name);
      while (model.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await model.release().catch((err) => logger.warn("model release failed", { model: model.name, error: (err as Error).message }));
      logger.info("model released", { model: model.name });
    }
  }

  const maps = [views, transformations, deployments, inferenceModels] as const;

  /** Rebuilds everything built from `resource`, fresh from the registry. */
  async function changed(resource: string) {
    metadata.invalidate(resource);
    // Views first, so deployments rebuilt next see the new plans.
    for (const map of maps) await Promise.all(map.dependents(resource).map((name) => map.rebuild(name)));
  }

  let subscriptions: { unsubscribe(): void }[] = [];
  if (options.nats) {
    const prefix = options.eventSubjectPrefix ?? "fti.events";
    for (const subject of [`${prefix}.registry.>`, `${prefix}.deployment.changed.>`]) {
      const sub = options.nats.subscribe(subject);
      subscriptions.push(sub);
      void (async () => {
        for await (const msg of sub) {
          try {
            const event = fromBinary(EventSchema, msg.data);
            const resource = event.payload.case === "registryResourceChanged" ? event.payload.value.name : event.payload.case === "deploymentChanged" ? event.payload.value.deployment : event.resource;
            if (resource) void changed(resource);
          } catch (err) {
            logger.warn("unreadable registry event ignored", { subject: msg.subject, error: (err as Error).message });
          }
        }
      })();
    }
  }

  /** Re-reads every entry from the registry: the safety net for a missed event. */
  async function resync() {
    for (const map of maps) for (const dep of map.dependencies()) metadata.invalidate(dep);
    for (const map of maps) await Promise.all(map.names().map((name) => map.rebuild(name)));
  }

  /**
   * Loads deployments before traffic arrives (at start, before listening):
   * their model versions (warmed), feature views and fitted transformations.
   * One that fails is left to load, and to report its error, on its first
   * request; the others are not held up by it. A few load at a time, so a
   * registry of many deployments does not load every model at once.
   */
  async function preload(names: readonly string[], concurrency = 4): Promise<{ loaded: string[]; failed: { name: string; error: string }[] }> {
    const loaded: string[] = [];
    const failed: { name: string; error: string }[] = [];
    let next = 0;
    async function loadNext(): Promise<void> {
      for (let name = names[next++]; name !== undefined; name = names[next++]) {
        try {
          await deployments.get(name);
          loaded.push(name);
        } catch (err) {
          failed.push({ name, error: (err as Error).message });
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, loadNext));
    return { loaded, failed };
  }

  const resyncTimer = options.resyncIntervalMs ? setInterval(() => void resync().catch((err) => logger.warn("metadata resync failed", { error: (err as Error).message })), options.resyncIntervalMs) : undefined;
  resyncTimer?.unref();

  return {
    featureView: (name: string) => views.get(name),
    fittedTransformations: fitted,
    deployment: (name: string) => deployments.get(name),
    model: (name: string) => inferenceModels.get(name),
    /** The model versions loaded for OIP, for ModelReady and ServerReady. */
    loadedModelNames: () => inferenceModels.names(),
    /** The deployments loaded (or loading) now. */
    loadedDeploymentNames: () => deployments.names(),
    preload,
    changed,
    resync,
    async close() {
      if (resyncTimer) clearInterval(resyncTimer);
      for (const s of subscriptions) s.unsubscribe();
      subscriptions = [];
      for (const loading of loadedModels.values()) await loading.then((m) => m.release()).catch(() => {});
      loadedModels.clear();
      for (const map of maps) map.clear();
    },
  };
}
