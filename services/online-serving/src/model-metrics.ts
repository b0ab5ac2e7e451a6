// Per-model Prometheus metrics on the server's /metrics: latency of model runs,
// predictions by model version and role, errors, hot swaps and rejected
// loads, and what the prediction log published or dropped.
import { Counter, Histogram, type Registry } from "prom-client";

/** "routed" answered a Predict, "shadow" ran beside it, "oip" answered ModelInfer. */
export type ModelRole = "routed" | "shadow" | "oip";

/** Created unregistered; `register` puts them on the server's registry (which exists only once the server does). */
export function createModelMetrics() {
  const registry: Registry[] = []; // none yet
  const latency = new Histogram({
    name: "fti_model_latency_seconds",
    help: "Time to score a request with a model version (features, transformations and the ONNX run), by deployment, model version and role",
    labelNames: ["deployment", "model", "role"] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: registry,
  });
  const predictions = new Counter({
    name: "fti_model_predictions_total",
    help: "Scored requests by deployment, model version and role",
    labelNames: ["deployment", "model", "role"] as const,
    registers: registry,
  });
  const errors = new Counter({
    name: "fti_model_errors_total",
    help: "Failed model runs by deployment, model version and role",
    labelNames: ["deployment", "model", "role"] as const,
    registers: registry,
  });
  const swaps = new Counter({ name: "fti_deployment_swaps_total", help: "Deployment revisions switched to without a restart", labelNames: ["deployment"] as const, registers: registry });
  const rejectedLoads = new Counter({
    name: "fti_model_load_rejections_total",
    help: "Deployment changes rejected at load (corrupt or mismatched model); the previous revision kept serving",
    labelNames: ["deployment"] as const,
    registers: registry,
  });
  const logPublished = new Counter({ name: "fti_prediction_log_published_total", help: "Predictions published to the prediction log", registers: registry });
  const logDropped = new Counter({ name: "fti_prediction_log_dropped_total", help: "Predictions dropped because the prediction log buffer was full (NATS slow or down)", registers: registry });

  const all = [latency, predictions, errors, swaps, rejectedLoads, logPublished, logDropped];
  // The labelled children of each (deployment, model, role), looked up once:
  // prom-client's labels() validates and hashes its labels on every call.
  const children = new Map<string, { latency: ReturnType<typeof latency.labels>; predictions: ReturnType<typeof predictions.labels> }>();
  return {
    register(target: Registry) {
      for (const m of all) target.registerMetric(m);
    },
    observe(deployment: string, model: string, role: ModelRole, seconds: number) {
      const key = `${deployment}\u0000${model}\u0000${role}`;
      let child = children.get(key);
      if (!child) children.set(key, (child = { latency: latency.labels(deployment, model, role), predictions: predictions.labels(deployment, model, role) }));
      child.latency.observe(seconds);
      child.predictions.inc();
    },
    error(deployment: string, model: string, role: ModelRole) {
      errors.labels(deployment, model, role).inc();
    },
    swapped: (deployment: string) => swaps.labels(deployment).inc(),
    loadRejected: (deployment: string) => rejectedLoads.labels(deployment).inc(),
    logPublished: (rows: number) => logPublished.inc(rows),
    logDropped: (rows: number) => logDropped.inc(rows),
  };
}

export type ModelMetrics = ReturnType<typeof createModelMetrics>;
