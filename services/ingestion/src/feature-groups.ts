// The feature group versions ingestion writes to: registry metadata (through
// the metadata cache) turned into what the write path needs, and the offline
// and online tables made ready on first use.
import { AlreadyExistsError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { DeltaTable, OfflineStore } from "@fti/offline-store";
import type { OnlineStore, OnlineTable } from "@fti/online-store";
import { ExpectationPolicy, type FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { featureGroupSchemaFromWire } from "@fti/record-batch";
import type { MetadataCache } from "@fti/registry-client";
import type { FeatureGroupSchema } from "@fti/schema";
import { tableIdOf } from "./names.js";

export interface ResolvedGroup {
  /** The version name, e.g. "projects/fraud/featureGroups/transactions/versions/2" ("latest" resolved). */
  name: string;
  message: FeatureGroup;
  schema: FeatureGroupSchema;
  /** STRICT unless the group says ALWAYS. */
  policy: ExpectationPolicy;
  onlineEnabled: boolean;
  offline: DeltaTable;
  online: OnlineTable;
}

export interface FeatureGroups {
  /** Resolves a version name; NotFoundError when the registry has no such version. */
  resolve(name: string): Promise<ResolvedGroup>;
}

export function createFeatureGroups(deps: { metadata: MetadataCache; offline: OfflineStore; online: OnlineStore; logger: Logger }): FeatureGroups {
  // Table creation is checked once per schema object: a registry update gives a new object.
  const ready = new WeakMap<FeatureGroup, Promise<ResolvedGroup>>();

  async function prepare(message: FeatureGroup): Promise<ResolvedGroup> {
    const schema = featureGroupSchemaFromWire(message);
    const id = tableIdOf(message.name);
    const offline = deps.offline.table(id);
    if (!(await offline.exists())) {
      // The registry names the table; the first write creates it. Another replica may win the race.
      await deps.offline.createTable(id, schema, { description: message.description }).catch((err) => {
        if (!(err instanceof AlreadyExistsError)) throw err;
      });
    }
    const online: OnlineTable = { ...id, schema };
    if (message.onlineEnabled) await deps.online.ensureTable(online);
    return {
      name: message.name,
      message,
      schema,
      policy: message.expectationPolicy === ExpectationPolicy.ALWAYS ? ExpectationPolicy.ALWAYS : ExpectationPolicy.STRICT,
      onlineEnabled: message.onlineEnabled,
      offline,
      online,
    };
  }

  return {
    async resolve(name) {
      const message = await deps.metadata.featureGroup(name);
      let prepared = ready.get(message);
      if (!prepared) {
        prepared = prepare(message);
        ready.set(message, prepared);
        prepared.catch(() => ready.delete(message));
      }
      return prepared;
    },
  };
}
