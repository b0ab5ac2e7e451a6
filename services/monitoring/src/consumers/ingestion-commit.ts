// Ingestion commits → feature view monitors and label joins. The commit event
// says which rows were written; the rows themselves are read once from the
// offline store (the Delta table version the commit wrote), so window
// statistics are exact and land in the windows of the rows' event times.
// Label groups of deployment monitors feed the performance join.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { withTransaction, type Pool } from "@fti/db";
import type { Logger } from "@fti/logger";
import type { OfflineStore } from "@fti/offline-store";
import type { MetadataCache } from "@fti/registry-client";
import type { Row, Value } from "@fti/schema";
import { Commit_Kind as CommitKind, type Commit } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { windowMsOf } from "../monitors.js";
import { names } from "../names.js";
import { entityKeyOf, joinLabels, type Label } from "../performance/predictions-store.js";
import { classify } from "../statistics/feature-partial.js";
import { featureViewSources } from "../targets.js";
import { claimInput, mergeRows, type EdgesOf } from "./window-rows.js";

export const DEFAULT_MAX_LABEL_DELAY_MS = 7 * 24 * 3600_000;

export interface CommitDeps {
  pool: Pool;
  cache: MetadataCache;
  offlineStore: OfflineStore;
  logger: Logger;
  edgesOf: EdgesOf;
}

export async function handleIngestionCommit(deps: CommitDeps, commit: Commit, monitors: readonly Monitor[]): Promise<void> {
  if (commit.kind !== CommitKind.INGEST || commit.rowsWritten === 0n) return;
  const group = commit.featureGroup;
  const statsMonitors: { monitor: Monitor; columns: Map<string, string> }[] = [];
  for (const monitor of monitors) {
    if (monitor.target.case !== "featureView") continue;
    const view = await deps.cache.featureView(monitor.target.value);
    const columns = (await featureViewSources(deps.cache, view)).groups.get(group);
    if (columns) statsMonitors.push({ monitor, columns });
  }
  const labelMonitors = monitors.filter((m) => m.target.case === "deployment" && m.performance?.labelFeatureGroup === group);
  if (!statsMonitors.length && !labelMonitors.length) return;

  const rows = await commitRows(deps, commit);
  const featureGroup = await deps.cache.featureGroup(group);
  const timesMs = rows.map((r) => eventTimeMs(r[featureGroup.eventTime]));
  const inputId = `commit ${group}@${commit.commitId}`;

  for (const { monitor, columns } of statsMonitors) {
    const byOutputName: Record<string, readonly Value[]> = {};
    for (const [column, output] of columns) byOutputName[output] = rows.map((r) => r[column] ?? null);
    const edges = await deps.edgesOf(monitor, "");
    await withTransaction(deps.pool, async (db) => {
      if (!(await claimInput(db, monitor.name, inputId))) return;
      await mergeRows(db, monitor, { model: "", windowMs: windowMsOf(monitor), timesMs, columns: byOutputName, edges });
    });
  }

  for (const monitor of labelMonitors) {
    const p = monitor.performance!;
    const labels: Label[] = [];
    rows.forEach((r, i) => {
      const value = classify(r[p.labelColumn]);
      const label = typeof value === "number" ? value : value === "true" ? 1 : value === "false" ? 0 : undefined;
      if (label === undefined) return;
      const key: Record<string, unknown> = {};
      for (const column of featureGroup.primaryKey) key[column] = r[column] instanceof Date ? (r[column] as Date).getTime() : r[column];
      labels.push({ entityKey: entityKeyOf(key), timeMs: timesMs[i]!, label });
    });
    const maxDelayMs = p.maxLabelDelay ? durationMs(p.maxLabelDelay) : DEFAULT_MAX_LABEL_DELAY_MS;
    await withTransaction(deps.pool, async (db) => {
      if (!(await claimInput(db, monitor.name, `labels ${inputId}`))) return;
      const joined = await joinLabels(db, monitor.name, labels, maxDelayMs);
      deps.logger.debug("labels joined", { monitor: monitor.name, commit: commit.name, labels: labels.length, joined });
    });
  }
}

/** The rows exactly this commit appended (the Delta table version it wrote). */
async function commitRows(deps: CommitDeps, commit: Commit): Promise<Row[]> {
  const id = names.featureGroupVersion.match(commit.featureGroup);
  if (!id) throw new Error(`commit ${commit.name} names no feature group version`);
  const version = Number(commit.commitId);
  const table = deps.offlineStore.table({ project: id.project, featureGroup: id.feature_group, version: Number(id.version) });
  return table.readChangesSince(version - 1, { untilVersion: version });
}

function eventTimeMs(value: Value | undefined): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value / 1000n);
  return Date.now();
}
