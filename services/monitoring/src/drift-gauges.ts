// Prometheus gauges of every drift score and model metric of the latest
// judged window, on the server's registry (/metrics on the web port).
import { Gauge, type Registry } from "prom-client";

export interface DriftGauges {
  driftScore: Gauge<"monitor" | "feature" | "metric" | "model">;
  modelMetric: Gauge<"monitor" | "metric" | "model">;
  windowRows: Gauge<"monitor" | "model">;
}

export function createDriftGauges(registry: Registry): DriftGauges {
  return {
    driftScore: new Gauge({ name: "fti_monitoring_drift_score", help: "Drift score of the latest judged window, per monitor, feature, metric and model version", labelNames: ["monitor", "feature", "metric", "model"], registers: [registry] }),
    modelMetric: new Gauge({ name: "fti_monitoring_model_metric", help: "Model metric of the latest judged performance window, per monitor, metric and model version", labelNames: ["monitor", "metric", "model"], registers: [registry] }),
    windowRows: new Gauge({ name: "fti_monitoring_window_rows", help: "Rows in the latest judged window, per monitor and model version", labelNames: ["monitor", "model"], registers: [registry] }),
  };
}
