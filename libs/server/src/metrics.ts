// Prometheus metrics of the RPC layer, on a registry per server so several
// servers in one process (tests, the all-in-one dev mode) keep their own.
//
// The RPC series sit on every call's hot path, so they are plain counters
// updated with a few array writes and handed to prom-client only when
// /metrics is scraped (prom-client's own labelled metrics hash their labels
// on every update, a measurable share of a small call's cost).
import { Registry, collectDefaultMetrics } from "prom-client";

/** The metrics of one method on one listener. */
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

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

interface Series {
  /** Calls per bucket (not cumulative; the last slot is +Inf). */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface MethodEntry {
  listener: string;
  method: string;
  inFlight: number;
  byCode: Map<string, Series>;
}

export function createRpcMetrics(options: { service: string; defaultMetrics?: boolean; registry?: Registry }): RpcMetrics {
  const registry = options.registry ?? new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const entries: MethodEntry[] = [];

  const duration = {
    name: "fti_rpc_duration_seconds",
    help: "Time spent in RPC handlers, by listener, method and status code",
    type: "histogram",
    aggregator: "sum",
    reset() {},
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const e of entries) {
        for (const [code, s] of e.byCode) {
          const labels = { listener: e.listener, method: e.method, code };
          let cumulative = 0;
          buckets.forEach((le, i) => {
            cumulative += s.counts[i]!;
            values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
          });
          values.push({ labels: { ...labels, le: "+Inf" }, value: s.count, metricName: `${this.name}_bucket` });
          values.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
          values.push({ labels, value: s.count, metricName: `${this.name}_count` });
        }
      }
      return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
    },
  };
  const inFlight = {
    name: "fti_rpc_in_flight",
    help: "RPCs being handled now, by listener and method",
    type: "gauge",
    aggregator: "sum",
    reset() {},
    async get() {
      return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: entries.map((e) => ({ labels: { listener: e.listener, method: e.method }, value: e.inFlight })) };
    },
  };
  registry.registerMetric(duration as never);
  registry.registerMetric(inFlight as never);

  return {
    registry,
    forMethod(listener, method) {
      const entry: MethodEntry = { listener, method, inFlight: 0, byCode: new Map() };
      entries.push(entry);
      return {
        start() {
          entry.inFlight++;
          return performance.now();
        },
        end(started, code) {
          entry.inFlight--;
          let s = entry.byCode.get(code);
          if (!s) entry.byCode.set(code, (s = { counts: new Float64Array(buckets.length + 1), sum: 0, count: 0 }));
          const seconds = (performance.now() - started) / 1000;
          let i = 0;
          while (i < buckets.length && seconds > buckets[i]!) i++;
          s.counts[i]!++;
          s.sum += seconds;
          s.count++;
        },
      };
    },
  };
}
