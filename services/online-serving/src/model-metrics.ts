// Per-model Prometheus metrics on the server's /metrics: latency of model runs,
// predictions by model version and role, errors, hot swaps and rejected
// loads, and what the prediction log published or dropped.
import { CounterFamily, HistogramFamily, type CounterSeries, type HistogramSeries } from "@fti/server";
import { Counter, type Registry } from "prom-client";

/** "routed" answered a Predict, "shadow" ran beside it, "oip" answered ModelInfer. */
export type ModelRole = "routed" | "shadow" | "oip";

/** Created unregistered; `register` puts them on the server's registry (which exists only once the server does). */
export function createModelMetrics() {
  const registry: Registry[] = []; // none yet
  // Updated on every prediction: families whose series are looked up once per
  // (deployment, model version, role), not prom-client metrics, which hash
  // their labels on every update.
  const latency = new HistogramFamily(
    "fti_model_latency_seconds",
    "Time to score a request with a model version (features, transformations and the ONNX run), by deployment, model version and role",
    ["deployment", "model", "role"],
    [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
  const predictions = new CounterFamily("fti_model_predictions_total", "Scored requests by deployment, model version and role", ["deployment", "model", "role"]);
  const errors = new CounterFamily("fti_model_errors_total", "Failed model runs by deployment, model version and role", ["deployment", "model", "role"]);
  const swaps = new Counter({ name: "fti_deployment_swaps_total", help: "Deployment revisions switched to without a restart", labelNames: ["deployment"] as const, registers: registry });
  const rejectedLoads = new Counter({
    name: "fti_model_load_rejections_total",
    help: "Deployment changes rejected at load (corrupt or mismatched model); the previous revision kept serving",
    labelNames: ["deployment"] as const,
    registers: registry,
  });
  const logPublished = new Counter({ name: "fti_prediction_log_published_total", help: "Predictions published to the prediction log", registers: registry });
  const logDropped = new Counter({ name: "fti_prediction_log_dropped_total", help: "Predictions dropped because the prediction log buffer was full (NATS slow or down)", registers: registry });

  const all = [latency.metric, predictions.metric, errors.metric, swaps, rejectedLoads, logPublished, logDropped];
  const series = new Map<string, { latency: HistogramSeries; predictions: CounterSeries }>();
  return {
    register(target: Registry) {
      for (const m of all) target.registerMetric(m);
    },
    observe(deployment: string, model: string, role: ModelRole, seconds: number) {
      const key = `${deployment}\u0000${model}\u0000${role}`;
      let found = series.get(key);
      if (!found) series.set(key, (found = { latency: latency.with(deployment, model, role), predictions: predictions.with(deployment, model, role) }));
      found.latency.observe(seconds);
      found.predictions.inc();
    },
    error(deployment: string, model: string, role: ModelRole) {
      errors.with(deployment, model, role).inc();
    },
    swapped: (deployment: string) => swaps.labels(deployment).inc(),
    loadRejected: (deployment: string) => rejectedLoads.labels(deployment).inc(),
    logPublished: (rows: number) => logPublished.inc(rows),
    logDropped: (rows: number) => logDropped.inc(rows),
  };
}

export type ModelMetrics = ReturnType<typeof createModelMetrics>;
