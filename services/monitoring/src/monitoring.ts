// The monitoring service's operations, wired from its dependencies: monitor
// configs, the read-side reports and alerts. routes.ts maps RPCs onto these.
import type { DuckDBInstance } from "@duckdb/node-api";
import type { Pool } from "@fti/db";
import type { Logger } from "@fti/logger";
import type { MetadataCache } from "@fti/registry-client";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { listAlerts } from "./alerts.js";
import { createMonitors } from "./monitors.js";
import { createReferences, type References } from "./references.js";
import { createReports } from "./reports.js";

export interface MonitoringOptions {
  pool: Pool;
  cache: MetadataCache;
  duckdb: DuckDBInstance;
  logger: Logger;
  minWindowMs: number;
}

export type Monitoring = ReturnType<typeof createMonitoring>;

export function createMonitoring(options: MonitoringOptions) {
  const { pool, cache, logger } = options;
  const monitors = createMonitors({ pool, cache, minWindowMs: options.minWindowMs });
  const references = createReferences({ db: pool, cache, duckdb: options.duckdb, logger });
  const reports = createReports({ pool, cache, references, logger });

  /** The reference's bin edges per numeric feature, for exact window histograms; empty when the reference cannot be resolved yet. */
  async function edgesOf(monitor: Monitor, model: string): Promise<Map<string, number[]>> {
    try {
      const reference = await references.resolve(monitor, model);
      const edges = new Map<string, number[]>();
      for (const [feature, r] of reference.features) if (r.kind === "numeric") edges.set(feature, r.edges);
      return edges;
    } catch (err) {
      // Histograms are then estimated from the digest when drift is judged.
      logger.debug("reference not resolvable while merging rows", { monitor: monitor.name, model, error: (err as Error).message });
      return new Map();
    }
  }

  return { ...monitors, references: references as References, reports, edgesOf, listAlerts: (request: Parameters<typeof listAlerts>[1]) => listAlerts(pool, request) };
}
