// Log replay: the table state (schema, live data files) as of one version.
import { FailedPreconditionError } from "@fti/errors";
import type { FeatureGroupSchema } from "@fti/schema";
import type { Commit } from "./delta-log.js";
import { minReaderVersion, type AddAction, type MetadataAction, type ProtocolAction } from "./delta-protocol.js";
import { parseStats, type FileStats } from "./stats.js";

/** The feature group schema is kept in the table's configuration, since Delta types alone lose keys, event time and embedding sizes. */
export const schemaConfigKey = "fti.featureGroupSchema";

export interface DataFile {
  /** Relative to the table root, as in the log. */
  path: string;
  size: number;
  stats: FileStats | undefined;
  add: AddAction;
  /** The version whose commit added this file. */
  addedInVersion: number;
}

export interface Snapshot {
  version: number;
  /** The commit time of `version`. */
  timestamp: Date;
  protocol: ProtocolAction;
  metadata: MetadataAction;
  schema: FeatureGroupSchema;
  /** Live data files, in the order they were added. */
  files: DataFile[];
}

export function replay(commits: readonly Commit[], version: number): Snapshot {
  let protocol: ProtocolAction | undefined;
  let metadata: MetadataAction | undefined;
  const live = new Map<string, { add: AddAction; version: number }>();
  for (const commit of commits.slice(0, version + 1)) {
    for (const action of commit.actions) {
      if ("protocol" in action) protocol = action.protocol;
      else if ("metaData" in action) metadata = action.metaData;
      else if ("add" in action) live.set(action.add.path, { add: action.add, version: commit.version });
      else if ("remove" in action) live.delete(action.remove.path);
    }
  }
  if (!protocol || !metadata) throw new FailedPreconditionError("the table's log has no protocol or metadata in its first commit");
  if (protocol.minReaderVersion > minReaderVersion) throw new FailedPreconditionError(`the table needs Delta reader version ${protocol.minReaderVersion}; this reader supports ${minReaderVersion}`);
  const schemaJson = metadata.configuration[schemaConfigKey];
  if (!schemaJson) throw new FailedPreconditionError("the table was not created by the offline store (no feature group schema in its configuration)");
  const schema = JSON.parse(schemaJson) as FeatureGroupSchema;
  const files = [...live.values()].map(({ add, version: addedInVersion }) => ({ path: add.path, size: add.size, stats: parseStats(schema, add.stats), add, addedInVersion }));
  return { version, timestamp: new Date(commits[version]!.info?.timestamp ?? 0), protocol, metadata, schema, files };
}
