// Which commit of each feature group a read uses: a per-group snapshot, else
// the read's common commit time, else the latest commit. The scan lists
// exactly that snapshot's Parquet files, which is all a query reads.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError, NotFoundError } from "@fti/errors";
import type { FeatureGroupSnapshot, Snapshot } from "@fti/proto/fti/common/v1/types_pb";
import type { AsOf, OfflineStore, ScanPlan } from "@fti/offline-store";
import type { GroupRead } from "./view-plan.js";

export function asOfOf(snapshot: Snapshot | undefined): AsOf | undefined {
  switch (snapshot?.point.case) {
    case "commitId":
      return { version: Number(snapshot.point.value) };
    case "commitTime":
      return { timestamp: timestampDate(snapshot.point.value) };
    default:
      return undefined;
  }
}

/** One scan per group (by group name), as of the requested snapshots. */
export async function scanGroups(
  store: OfflineStore,
  groups: readonly GroupRead[],
  options: { asOf?: Snapshot; groupAsOf?: readonly FeatureGroupSnapshot[]; field: string },
): Promise<Map<string, ScanPlan>> {
  const known = new Set(groups.map((g) => g.name));
  options.groupAsOf?.forEach((s, i) => {
    if (!known.has(s.featureGroup)) throw InvalidArgumentError.field(`${options.field}.group_as_of[${i}].feature_group`, `"${s.featureGroup}" is not read by the feature view (${[...known].join(", ")})`);
  });
  const scans = await Promise.all(
    groups.map(async (g) => {
      const own = options.groupAsOf?.find((s) => s.featureGroup === g.name);
      const asOf = asOfOf(own?.snapshot) ?? asOfOf(options.asOf);
      try {
        return [g.name, await store.table(g.table).scan({ asOf })] as const;
      } catch (err) {
        // No data ingested yet: the group contributes nulls, as a group without matching rows does.
        if (err instanceof NotFoundError && !asOf) return [g.name, { version: -1, timestamp: new Date(0), schema: g.schema, files: [] } satisfies ScanPlan] as const;
        // The offline store names the field generically; say which group it was about.
        if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(err.violations.map((v) => ({ field: `${options.field}.${own ? "group_as_of" : "as_of"}`, description: `${g.name}: ${v.description}` })));
        throw err;
      }
    }),
  );
  return new Map(scans);
}
