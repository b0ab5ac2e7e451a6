// Prometheus metrics of the RPC layer, on a registry per server so several
// servers in one process (tests, the all-in-one dev mode) keep their own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The metrics of one method on one listener; labelled children are resolved once. */
export interface MethodMetrics {
  /** Marks a call as started; returns its start time. */
  start(): number;
  /** Records a finished call with its status code name. */
  end(started: number, code: string): void;
}

export interface RpcMetrics {
  registry: Registry;
  forMethod(listener: string, method: string): MethodMetrics;
}

export function createRpcMetrics(options: { service: string; defaultMetrics?: boolean; registry?: Registry }): RpcMetrics {
  const registry = options.registry ?? new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "fti_rpc_duration_seconds",
    help: "Time spent in RPC handlers, by listener, method and status code",
    labelNames: ["listener", "method", "code"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "fti_rpc_in_flight",
    help: "RPCs being handled now, by listener and method",
    labelNames: ["listener", "method"] as const,
    registers: [registry],
  });
  return {
    registry,
    forMethod(listener, method) {
      const gauge = inFlight.labels(listener, method);
      const byCode: Record<string, ReturnType<typeof duration.labels>> = Object.create(null);
      return {
        start() {
          gauge.inc();
          return performance.now();
        },
        end(started, code) {
          gauge.dec();
          (byCode[code] ??= duration.labels(listener, method, code)).observe((performance.now() - started) / 1000);
        },
      };
    },
  };
}
