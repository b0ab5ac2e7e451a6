// Prometheus metrics of the RPC layer, on a registry per server so several
// servers in one process (tests, the all-in-one dev mode) keep their own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface RpcMetrics {
  registry: Registry;
  /** Starts timing a call; the returned function records it with its status code. */
  startCall(listener: string, method: string): (code: string) => void;
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
  const total = new Counter({
    name: "fti_rpc_total",
    help: "RPCs handled, by listener, method and status code",
    labelNames: ["listener", "method", "code"] as const,
    registers: [registry],
  });
  // Labelled children are looked up once: the label hashing is the costly part.
  const gauges = new Map<string, ReturnType<typeof inFlight.labels>>();
  const finished = new Map<string, { h: ReturnType<typeof duration.labels>; c: ReturnType<typeof total.labels> }>();
  return {
    registry,
    startCall(listener, method) {
      const gaugeKey = `${listener} ${method}`;
      let gauge = gauges.get(gaugeKey);
      if (!gauge) gauges.set(gaugeKey, (gauge = inFlight.labels(listener, method)));
      gauge.inc();
      const start = performance.now();
      return (code) => {
        gauge!.dec();
        const key = `${gaugeKey} ${code}`;
        let child = finished.get(key);
        if (!child) finished.set(key, (child = { h: duration.labels(listener, method, code), c: total.labels(listener, method, code) }));
        child.h.observe((performance.now() - start) / 1000);
        child.c.inc();
      };
    },
  };
}
