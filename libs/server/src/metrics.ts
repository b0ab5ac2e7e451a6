// Prometheus metrics of the RPC layer, on a registry per server so several
// servers in one process (tests, the all-in-one dev mode) keep their own.
//
// The RPC series sit on every call's hot path, so they are plain counters
// updated with a few array writes and handed to prom-client only when
// /metrics is scraped (prom-client's own labelled metrics hash their labels
// on every update, a measurable share of a small call's cost). Services use
// the same families (HistogramFamily, CounterFamily) for their own hot paths.
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

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/** One series of a HistogramFamily. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative; the last slot is +Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    private readonly buckets: readonly number[],
    readonly labels: Record<string, string>,
  ) {
    this.counts = new Float64Array(buckets.length + 1);
  }
  observe(value: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** One series of a CounterFamily. */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/**
 * Labelled metrics for hot paths: a caller looks its series up once and then
 * updates it with a few array writes; prom-client reads the families only when
 * /metrics is scraped (`registry.registerMetric(family.metric)`). prom-client's
 * own labelled metrics hash their labels on every update, children included.
 */
abstract class Family<S extends { labels: Record<string, string> }> {
  private readonly bySeries = new Map<string, S>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  /** The series of these label values, in labelNames order. */
  with(...values: string[]): S {
    const key = values.join("\u0000");
    let series = this.bySeries.get(key);
    if (!series) this.bySeries.set(key, (series = this.create(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? ""])))));
    return series;
  }
  protected all(): Iterable<S> {
    return this.bySeries.values();
  }
  protected abstract create(labels: Record<string, string>): S;
  protected abstract samples(): Sample[];
  protected abstract readonly type: "histogram" | "counter";
  /** The prom-client metric to register. */
  get metric() {
    const family = this;
    return { name: this.name, help: this.help, type: this.type, aggregator: "sum", reset() {}, async get() { return { name: family.name, help: family.help, type: family.type, aggregator: "sum", values: family.samples() }; } } as never;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  protected readonly type = "histogram";
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  protected create(labels: Record<string, string>) {
    return new HistogramSeries(this.buckets, labels);
  }
  protected samples(): Sample[] {
    const values: Sample[] = [];
    for (const s of this.all()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: "+Inf" }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return values;
  }
}

export class CounterFamily extends Family<CounterSeries> {
  protected readonly type = "counter";
  protected create(labels: Record<string, string>) {
    return new CounterSeries(labels);
  }
  protected samples(): Sample[] {
    return [...this.all()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

interface MethodEntry {
  listener: string;
  method: string;
  inFlight: number;
  byCode: Map<string, HistogramSeries>;
}

export function createRpcMetrics(options: { service: string; defaultMetrics?: boolean; registry?: Registry }): RpcMetrics {
  const registry = options.registry ?? new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const entries: MethodEntry[] = [];

  const duration = new HistogramFamily("fti_rpc_duration_seconds", "Time spent in RPC handlers, by listener, method and status code", ["listener", "method", "code"], buckets);
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
  registry.registerMetric(duration.metric);
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
          let series = entry.byCode.get(code);
          if (!series) entry.byCode.set(code, (series = duration.with(listener, method, code)));
          series.observe((performance.now() - started) / 1000);
        },
      };
    },
  };
}
