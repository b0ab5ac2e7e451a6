// How the other services read registry metadata: a gRPC client of the
// registry, and a cache in front of it so the hot paths (ingestion, serving)
// make no registry call per request. Cached entries are dropped when the
// registry announces a change on NATS, and expire after `maxAgeMs` anyway, as a
// safety net for a missed event.
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { fromBinary } from "@bufbuild/protobuf";
import { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import type { Deployment } from "@fti/proto/fti/registry/v1/deployment_pb";
import type { Model } from "@fti/proto/fti/registry/v1/model_pb";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { NotFoundError, UnavailableError } from "@fti/errors";
import type { NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";

export type RegistryClient = Client<typeof RegistryService>;

/** A client of the registry's gRPC port, e.g. "127.0.0.1:50051". */
export function createRegistryClient(address: string, options: { timeoutMs?: number } = {}): RegistryClient {
  const transport = createGrpcTransport({ baseUrl: `http://${address}`, defaultTimeoutMs: options.timeoutMs ?? 5_000 });
  return createClient(RegistryService, transport);
}

export interface MetadataCacheOptions {
  registry: RegistryClient;
  /** Registry events invalidate entries; without NATS only `maxAgeMs` does. */
  nats?: NatsConnection;
  /** Subject prefix of the platform's events, e.g. "fti.events". */
  eventSubjectPrefix?: string;
  maxAgeMs?: number;
  logger: Logger;
}

export interface MetadataCache {
  /** A feature group version; "versions/latest" resolves to the newest. NOT_FOUND if none. */
  featureGroup(name: string): Promise<FeatureGroup>;
  featureView(name: string): Promise<FeatureView>;
  trainingDataset(name: string): Promise<TrainingDataset>;
  model(name: string): Promise<Model>;
  deployment(name: string): Promise<Deployment>;
  /** Drops every entry of this resource (all its versions and "latest"). */
  invalidate(resourceName: string): void;
  close(): Promise<void>;
}

/** The resource a (version) name belongs to: ".../featureGroups/x/versions/3" → ".../featureGroups/x". */
function resourceOf(name: string): string {
  return name.replace(/\/versions\/[^/]+$/, "");
}

export function createMetadataCache(options: MetadataCacheOptions): MetadataCache {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const entries = new Map<string, { value: Promise<unknown>; at: number }>();
  const { registry, logger } = options;

  async function cached<T>(name: string, load: () => Promise<T>): Promise<T> {
    const hit = entries.get(name);
    if (hit && Date.now() - hit.at < maxAgeMs) return hit.value as Promise<T>;
    const value = load().catch((err) => {
      entries.delete(name); // never cache a failure
      throw translate(err, name);
    });
    entries.set(name, { value, at: Date.now() });
    return value;
  }

  const invalidate = (resourceName: string) => {
    const base = resourceOf(resourceName);
    for (const key of entries.keys()) if (key === resourceName || resourceOf(key) === base) entries.delete(key);
  };

  let subscription: { unsubscribe(): void } | undefined;
  if (options.nats) {
    const subject = `${options.eventSubjectPrefix ?? "fti.events"}.registry.>`;
    const sub = options.nats.subscribe(subject);
    subscription = sub;
    void (async () => {
      for await (const msg of sub) {
        try {
          const event = fromBinary(EventSchema, msg.data);
          if (event.payload.case === "registryResourceChanged") invalidate(event.payload.value.name);
          else if (event.resource) invalidate(event.resource);
        } catch (err) {
          logger.warn("unreadable registry event ignored", { subject: msg.subject, error: (err as Error).message });
        }
      }
    })();
  }

  return {
    featureGroup: (name) => cached(name, async () => (await registry.getFeatureGroup({ name })).featureGroup!),
    featureView: (name) => cached(name, async () => (await registry.getFeatureView({ name })).featureView!),
    trainingDataset: (name) => cached(name, async () => (await registry.getTrainingDataset({ name })).trainingDataset!),
    model: (name) => cached(name, async () => (await registry.getModel({ name })).model!),
    deployment: (name) => cached(name, async () => (await registry.getDeployment({ name })).deployment!),
    invalidate,
    async close() {
      subscription?.unsubscribe();
      entries.clear();
    },
  };
}

/** Registry answers as the domain errors the calling service re-raises. */
function translate(err: unknown, name: string): unknown {
  const e = ConnectError.from(err);
  if (e.code === Code.NotFound) return new NotFoundError(kindOf(name), name);
  if (e.code === Code.Unavailable || e.code === Code.DeadlineExceeded) return new UnavailableError(`the registry is unavailable: ${e.rawMessage}`, { cause: err });
  if (e.code === Code.InvalidArgument) return e;
  return e;
}

function kindOf(name: string): string {
  const m = name.match(/\/(featureGroups|featureViews|trainingDatasets|models|deployments)\//);
  return m ? m[1]!.replace(/s$/, "").replace(/([A-Z])/g, " $1").toLowerCase() : "resource";
}
