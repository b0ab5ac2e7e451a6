// Drift of one stored window against the monitor's reference: per watched
// feature, one score per applicable threshold, or INSUFFICIENT_DATA when the
// window has fewer than min_rows rows.
import { DriftStatus, type Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import type { ResolvedReference } from "./drift/reference-distribution.js";
import { featureDrift, type FeatureDriftResult } from "./drift/score.js";
import { minRowsOf } from "./monitors.js";
import type { WindowRow } from "./window-store.js";

export interface WindowDriftResult {
  window: WindowRow;
  status: DriftStatus;
  features: FeatureDriftResult[];
}

/** The features a monitor watches in a window: its list, else everything the reference and the window both know. */
export function watchedFeatures(monitor: Monitor, reference: ResolvedReference, window?: WindowRow): string[] {
  if (monitor.features.length) return monitor.features;
  return [...reference.features.keys()].filter((f) => !window || f in window.features).sort();
}

export function windowDrift(monitor: Monitor, reference: ResolvedReference, window: WindowRow, only: readonly string[] = []): WindowDriftResult {
  const enoughRows = BigInt(window.rowCount) >= minRowsOf(monitor);
  const features = watchedFeatures(monitor, reference, window)
    .filter((f) => only.length === 0 || only.includes(f))
    .flatMap((feature) => {
      const ref = reference.features.get(feature);
      // A watched feature the reference lacks cannot drift from it; reported as insufficient.
      if (!ref) return [{ feature, status: DriftStatus.INSUFFICIENT_DATA, valueCount: 0, scores: [] }];
      return [featureDrift(feature, ref, window.features[feature], monitor.thresholds, enoughRows)];
    });
  const status = !enoughRows ? DriftStatus.INSUFFICIENT_DATA : features.some((f) => f.status === DriftStatus.DRIFT) ? DriftStatus.DRIFT : DriftStatus.OK;
  return { window, status, features };
}
