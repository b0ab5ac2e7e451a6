// HistogramFamily and CounterFamily as Prometheus reads them: cumulative
// buckets, sums, counts and counter values per label set.
import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { CounterFamily, HistogramFamily } from "../src/index.js";

describe("metric families", () => {
  it("expose each series with its labels, cumulative buckets, sum and count", async () => {
    const registry = new Registry();
    const latency = new HistogramFamily("test_latency_seconds", "latency", ["model", "role"], [0.001, 0.01]);
    const calls = new CounterFamily("test_calls_total", "calls", ["model"]);
    registry.registerMetric(latency.metric);
    registry.registerMetric(calls.metric);
    const a = latency.with("m1", "routed");
    for (const v of [0.0005, 0.005, 0.005, 2]) a.observe(v);
    expect(latency.with("m1", "routed")).toBe(a); // found again, not made again
    latency.with("m2", "shadow").observe(0.01);
    calls.with("m1").inc();
    calls.with("m1").inc(2);
    const text = await registry.metrics();
    expect(text).toContain('test_latency_seconds_bucket{model="m1",role="routed",le="0.001"} 1');
    expect(text).toContain('test_latency_seconds_bucket{model="m1",role="routed",le="0.01"} 3');
    expect(text).toContain('test_latency_seconds_bucket{model="m1",role="routed",le="+Inf"} 4');
    expect(text).toContain('test_latency_seconds_sum{model="m1",role="routed"} 2.0105');
    expect(text).toContain('test_latency_seconds_count{model="m1",role="routed"} 4');
    expect(text).toContain('test_latency_seconds_bucket{model="m2",role="shadow",le="0.01"} 1'); // a bound is inclusive
    expect(text).toContain('test_calls_total{model="m1"} 3');
    expect(text).toContain("# TYPE test_latency_seconds histogram");
    expect(text).toContain("# TYPE test_calls_total counter");
  });
});
