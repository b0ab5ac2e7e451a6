// The monitoring service end to end: real registry, Postgres, NATS and
// DuckDB; events published the way ingestion and online-serving publish them.
import { status } from "@grpc/grpc-js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Action, Alert_State, DriftMetric, DriftStatus } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { binCounts } from "../src/drift/distributions.js";
import { populationStabilityIndex } from "../src/drift/psi.js";
import { normal, random } from "./random.js";
import { createShop, ingest, publishPredictions, type Shop } from "./fixtures.js";
import { rpc, startMonitoring, statusOf, until, type MonitoringHarness } from "./harness.js";

let h: MonitoringHarness;
let shop: Shop;
const rand = random(42);
const pick = () => {
  const u = rand();
  return u < 0.5 ? "a" : u < 0.8 ? "b" : "c";
};
// Windows of one second, from an aligned instant a day ahead: the clock never
// closes them, only newer rows do (the allowed lateness is 0 here), so each
// test decides exactly when a window is judged.
const T0 = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 24 * 3_600_000;
const W = 1_000;
const window = (k: number, n: number, mean: number) => ({
  timesMs: Array.from({ length: n }, (_, i) => T0 + k * W + Math.floor((i * W) / n)),
  amount: Array.from({ length: n }, () => normal(rand, mean, 10)),
  category: Array.from({ length: n }, pick),
});

beforeAll(async () => {
  h = await startMonitoring();
  shop = await createShop(h, "shop", { amount: () => normal(rand, 100, 10), category: pick });
}, 120_000);
afterAll(async () => h?.close());

const parent = () => `projects/${shop.project}`;
const rowsIn = async (monitor: string) => Number((await h.pool.query("SELECT coalesce(sum(row_count), 0) AS n FROM window_stats WHERE monitor = $1", [monitor])).rows[0].n);
const alerts = async (monitor: string) => (await h.call(rpc.listAlerts, { parent: monitor })).alerts;

describe("bad input", () => {
  it("unknown features, out-of-range thresholds, a view without reference, unknown monitors: clear errors, nothing created", async () => {
    const deployment = await shop.deployment("checks");
    const unknownFeature = await statusOf(h.call(rpc.createMonitor, { parent: parent(), monitorId: "bad", monitor: { target: { case: "deployment", value: deployment }, window: { seconds: 60n }, features: ["amount", "amout"] } }));
    expect(unknownFeature.code).toBe(status.INVALID_ARGUMENT);
    expect(unknownFeature.details).toContain('monitor.features[1]: unknown feature "amout"');

    const thresholds = await statusOf(h.call(rpc.createMonitor, { parent: parent(), monitorId: "bad", monitor: { target: { case: "deployment", value: deployment }, window: { seconds: 60n }, thresholds: [{ metric: DriftMetric.KS, threshold: 1.5 }, { metric: DriftMetric.PSI, threshold: -1 }, { metric: DriftMetric.CHI_SQUARE, threshold: 5 }] } }));
    expect(thresholds.code).toBe(status.INVALID_ARGUMENT);
    expect(thresholds.details).toContain("monitor.thresholds[0].threshold: KS lies in [0, 1]");
    expect(thresholds.details).toContain("monitor.thresholds[1].threshold: must be > 0");
    expect(thresholds.details).toContain("monitor.thresholds[2].threshold: the chi-square score is a p-value");

    const noReference = await statusOf(h.call(rpc.createMonitor, { parent: parent(), monitorId: "bad", monitor: { target: { case: "featureView", value: shop.view }, window: { seconds: 60n } } }));
    expect(noReference.details).toContain("monitor.reference: is required for a feature view monitor");
    const tooShort = await statusOf(h.call(rpc.createMonitor, { parent: parent(), monitorId: "bad", monitor: { target: { case: "deployment", value: deployment }, window: { nanos: 1000 } } }));
    expect(tooShort.details).toContain("monitor.window: must be at least 1s");

    expect((await h.call(rpc.listMonitors, { parent: parent() })).monitors.map((m) => m.name)).not.toContain(`${parent()}/monitors/bad`);
    const missing = await statusOf(h.call(rpc.getDriftReport, { monitor: `${parent()}/monitors/ghost` }));
    expect(missing.code).toBe(status.NOT_FOUND);

    const ok = (await h.call(rpc.createMonitor, { parent: parent(), monitorId: "checks", monitor: { target: { case: "deployment", value: deployment }, window: { seconds: 1n } } })).monitor!;
    const unknownStat = await statusOf(h.call(rpc.getStatistics, { monitor: ok.name, features: ["nope"] }));
    expect(unknownStat.code).toBe(status.INVALID_ARGUMENT);
    expect(unknownStat.details).toContain('unknown feature "nope"');
    const empty = await statusOf(h.call(rpc.getDriftReport, { monitor: ok.name, timeRange: { startTime: timestampFromMs(T0 + 5000), endTime: timestampFromMs(T0) } }));
    expect(empty.code).toBe(status.INVALID_ARGUMENT);
    expect(empty.details).toContain("time_range: is empty");
    // A window without rows reports insufficient data, not a score.
    const report = await h.call(rpc.getDriftReport, { monitor: ok.name, timeRange: { startTime: timestampFromMs(T0), endTime: timestampFromMs(T0 + W) } });
    expect(report.windows.map((w) => [w.status, w.rowCount])).toEqual([[DriftStatus.INSUFFICIENT_DATA, 0n]]);
    const stale = await statusOf(h.call(rpc.updateMonitor, { monitor: { name: ok.name, etag: '"zz"', paused: true }, updateMask: { paths: ["paused"] } }));
    expect(stale.code).toBe(status.ABORTED);
  });
});

describe("drift on a deployment's prediction log against its model's training data", () => {
  it("an unchanged stream over many windows raises no alert; every window scores OK", async () => {
    const deployment = await shop.deployment("steady");
    const monitor = (await h.call(rpc.createMonitor, {
      parent: parent(),
      monitorId: "steady",
      monitor: { target: { case: "deployment", value: deployment }, window: { seconds: 1n }, thresholds: [{ metric: DriftMetric.PSI, threshold: 0.2 }, { metric: DriftMetric.KS, threshold: 0.15 }], consecutiveWindows: 2, minRows: 100n },
    })).monitor!;
    for (let k = 0; k < 12; k++) await publishPredictions(h, shop, deployment, window(k, 300, 100));
    await until(async () => (await rowsIn(monitor.name)) === 3600, 20_000);
    await h.server.evaluateOnce();
    const report = await h.call(rpc.getDriftReport, { monitor: monitor.name, timeRange: { startTime: timestampFromMs(T0), endTime: timestampFromMs(T0 + 11 * W) } });
    expect(report.reference).toBe(shop.dataset);
    expect(report.windows).toHaveLength(11);
    for (const w of report.windows) {
      expect(w.status, JSON.stringify(w.features.map((f) => f.scores.map((s) => s.value?.toFixed(3))))).toBe(DriftStatus.OK);
      expect(w.model).toBe(shop.model);
      const amount = w.features.find((f) => f.feature === "amount")!;
      expect(amount.scores.map((s) => s.metric)).toEqual([DriftMetric.PSI, DriftMetric.KS]);
      expect(amount.valueCount).toBe(300n);
    }
    expect(await alerts(monitor.name)).toEqual([]);
  });

  it("injected drift raises one alert after N consecutive windows, published once with the action; resolved when back to normal", async () => {
    const deployment = await shop.deployment("drifting");
    const monitor = (await h.call(rpc.createMonitor, {
      parent: parent(),
      monitorId: "drifting",
      monitor: { target: { case: "deployment", value: deployment }, features: ["amount"], window: { seconds: 1n }, thresholds: [{ metric: DriftMetric.KS, threshold: 0.15 }], consecutiveWindows: 3, minRows: 100n, action: Action.TRIGGER_TRAINING },
    })).monitor!;
    let published = 0;
    const publishWindow = async (k: number, mean: number) => {
      await publishPredictions(h, shop, deployment, window(k, 200, mean));
      published += 200;
      await until(async () => (await rowsIn(monitor.name)) === published, 20_000);
      await h.server.evaluateOnce();
    };
    // Windows 0–3 normal, 4–8 drifted (+3 sd), 9–10 normal. A window is judged once the next one has rows.
    for (let k = 0; k <= 3; k++) await publishWindow(k, 100);
    await publishWindow(4, 130);
    await publishWindow(5, 130);
    await publishWindow(6, 130); // judges 5: two drifted windows so far
    expect(await alerts(monitor.name)).toEqual([]);
    await publishWindow(7, 130); // judges 6: the third
    const raised = await alerts(monitor.name);
    expect(raised).toHaveLength(1);
    const alert = raised[0]!;
    expect(alert).toMatchObject({ state: Alert_State.FIRING, feature: "amount", model: shop.model, action: Action.TRIGGER_TRAINING, monitor: monitor.name });
    expect(alert.evidence.map((e) => Number(e.window!.startTime!.seconds) * 1000 - T0)).toEqual([4 * W, 5 * W, 6 * W]);
    for (const e of alert.evidence) expect(e).toMatchObject({ metric: { case: "driftMetric", value: DriftMetric.KS }, threshold: 0.15, rowCount: 200n });
    expect(alert.evidence.every((e) => e.value > 0.5)).toBe(true);

    await publishWindow(8, 130); // still drifting: de-duplicated, no second alert
    await publishWindow(9, 100); // judges 8
    expect(await alerts(monitor.name)).toHaveLength(1);
    await publishWindow(10, 100); // judges 9: back to normal
    const [resolved] = await alerts(monitor.name);
    expect(resolved!.state).toBe(Alert_State.RESOLVED);

    await h.server.relay.flush();
    const events = await h.events(`${h.subjectPrefix}.monitoring.alert.>`);
    const mine = events.filter((e) => e.payload.case === "alertChanged" && e.payload.value.alert!.monitor === monitor.name);
    expect(mine.map((e) => e.type)).toEqual(["monitoring.alert.raised", "monitoring.alert.resolved"]);
    expect(mine[0]!.subject).toBe(`${h.subjectPrefix}.monitoring.alert.raised.shop.drifting`);
    expect(mine[0]!.payload.value).toMatchObject({ alert: { name: alert.name, action: Action.TRIGGER_TRAINING, state: Alert_State.FIRING } });

    // Every drift score is a Prometheus gauge.
    const metrics = await (await fetch(`${h.server.webUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`fti_monitoring_drift_score\\{monitor="${monitor.name}",feature="amount",metric="KS",model="${shop.model}"[^}]*\\} 0\\.\\d+`));
  });
});

describe("a feature view monitor fed by ingestion commits", () => {
  it("keeps per-window statistics with histograms over the reference's bins; PSI and chi-square equal their formulas on those counts", async () => {
    const monitor = (await h.call(rpc.createMonitor, {
      parent: parent(),
      monitorId: "view",
      monitor: {
        target: { case: "featureView", value: shop.view },
        reference: { source: { case: "trainingDataset", value: shop.dataset } },
        window: { seconds: 1n },
        thresholds: [{ metric: DriftMetric.PSI, threshold: 0.2 }, { feature: "category", metric: DriftMetric.CHI_SQUARE, threshold: 0.01 }],
        minRows: 50n,
      },
    })).monitor!;
    // Two commits into window 0 (statistics merge), a skewed category mix in window 1.
    const rows = (k: number, n: number, offset: number, categories: () => string) =>
      Array.from({ length: n }, (_, i) => ({ account_id: `acc${offset + i}`, ts: new Date(T0 + k * W + i), amount: normal(rand, 105, 10), category: categories() }));
    const first = rows(0, 150, 0, pick);
    const second = rows(0, 100, 1000, pick);
    const skewed = rows(1, 200, 2000, () => (rand() < 0.7 ? "c" : "a"));
    await ingest(h, shop.transactions, first);
    await ingest(h, shop.transactions, second);
    await ingest(h, shop.transactions, skewed);
    await until(async () => (await rowsIn(monitor.name)) === 450, 20_000);

    const stats = await h.call(rpc.getStatistics, { monitor: monitor.name, timeRange: { startTime: timestampFromMs(T0), endTime: timestampFromMs(T0 + 2 * W) }, includeReference: true });
    expect(stats.windows.map((w) => w.rowCount)).toEqual([250n, 200n]);
    const window0 = [...first, ...second];
    const amounts = window0.map((r) => r.amount);
    const mean = amounts.reduce((a, b) => a + b, 0) / amounts.length;
    const amount = stats.windows[0]!.features.find((f) => f.feature === "amount")!;
    expect(amount.count).toBe(250n);
    expect(amount.mean).toBeCloseTo(mean, 9);
    expect(amount.stddev).toBeCloseTo(Math.sqrt(amounts.reduce((s, x) => s + (x - mean) ** 2, 0) / amounts.length), 9);
    expect(amount.min).toBe(Math.min(...amounts));
    expect(amount.histogram!.edges).toEqual(shop.reference.edges);
    const exactBins = binCounts(amounts, shop.reference.edges);
    expect(amount.histogram!.counts.map(Number)).toEqual(exactBins.counts);
    expect(amount.quantiles.find((q) => q.quantile === 0.5)!.value).toBeCloseTo([...amounts].sort((a, b) => a - b)[125]!, 0);
    const category = stats.windows[0]!.features.find((f) => f.feature === "category")!;
    expect(Object.fromEntries(category.topValues.map((t) => [t.value, Number(t.count)]))).toEqual(Object.fromEntries(CATS.map((c) => [c, window0.filter((r) => r.category === c).length]).filter(([, n]) => n)));
    expect(stats.reference.find((r) => r.feature === "amount")!.count).toBe(5000n);

    const report = await h.call(rpc.getDriftReport, { monitor: monitor.name, timeRange: { startTime: timestampFromMs(T0), endTime: timestampFromMs(T0 + 2 * W) } });
    const psiOf = (w: number) => report.windows[w]!.features.find((f) => f.feature === "amount")!.scores.find((s) => s.metric === DriftMetric.PSI)!.value;
    const windowCounts = exactBins.counts.slice();
    windowCounts[0]! += exactBins.below;
    windowCounts[windowCounts.length - 1]! += exactBins.above;
    const refCounts = binCounts(shop.reference.amount, shop.reference.edges).counts;
    expect(psiOf(0)).toBeCloseTo(populationStabilityIndex(refCounts, windowCounts), 9);
    const chi = (w: number) => report.windows[w]!.features.find((f) => f.feature === "category")!.scores.find((s) => s.metric === DriftMetric.CHI_SQUARE)!;
    expect(chi(0).exceeded).toBe(false);
    expect(chi(1).exceeded).toBe(true);
    expect(chi(1).value).toBeLessThan(1e-10);
    expect(report.windows[1]!.status).toBe(DriftStatus.DRIFT);
  });
});

const CATS = ["a", "b", "c"];

describe("model performance from late labels", () => {
  it("joins labels arriving later in a feature group to logged predictions by key and time: AUC per window and model version", async () => {
    const deployment = await shop.deployment("perf");
    const monitor = (await h.call(rpc.createMonitor, {
      parent: parent(),
      monitorId: "perf",
      monitor: {
        target: { case: "deployment", value: deployment },
        window: { seconds: 1n },
        minRows: 20n,
        performance: { labelFeatureGroup: shop.outcomes, labelColumn: "is_fraud", maxLabelDelay: { seconds: 3600n }, thresholds: [{ metric: "auc", threshold: 0.6 }] },
      },
    })).monitor!;
    const truth: { account: string; time: number; label: number; score: number }[] = [];
    for (const [k, quality] of [[20, 2.0], [21, 0.3]] as const) {
      const n = 80;
      const base = window(k, n, 100);
      const accounts = base.timesMs.map((_, i) => `perf${k}_${i}`);
      const labels = accounts.map(() => (rand() < 0.4 ? 1 : 0));
      // Window 20 scores separate the classes well, window 21 barely.
      const scores = labels.map((y) => 1 / (1 + Math.exp(-(quality * (y - 0.5) + normal(rand, 0, 1)))));
      await publishPredictions(h, shop, deployment, { ...base, accounts, scores });
      accounts.forEach((account, i) => truth.push({ account, time: base.timesMs[i]!, label: labels[i]!, score: scores[i]! }));
    }
    await until(async () => Number((await h.pool.query("SELECT count(*) AS n FROM predictions WHERE monitor = $1", [monitor.name])).rows[0].n) === 160, 20_000);
    // Labels arrive later, in the label group, a little after each prediction; one account never gets one.
    const labelled = truth.slice(1);
    await ingest(h, shop.outcomes, labelled.map((t) => ({ account_id: t.account, ts: new Date(t.time + 500), is_fraud: t.label === 1 })));
    await until(async () => Number((await h.pool.query("SELECT count(label) AS n FROM predictions WHERE monitor = $1", [monitor.name])).rows[0].n) === 159, 20_000);

    const perf = await h.call(rpc.getModelPerformance, { monitor: monitor.name, timeRange: { startTime: timestampFromMs(T0 + 20 * W), endTime: timestampFromMs(T0 + 22 * W) } });
    expect(perf.windows.map((w) => [w.model, w.predictionCount, w.labeledCount])).toEqual([[shop.model, 80n, 79n], [shop.model, 80n, 80n]]);
    perf.windows.forEach((w, i) => {
      const inWindow = labelled.filter((t) => Math.floor((t.time - T0) / W) === 20 + i);
      let pairs = 0;
      let right = 0;
      for (const p of inWindow) for (const q of inWindow) if (p.label === 1 && q.label === 0) (pairs++, (right += p.score > q.score ? 1 : p.score === q.score ? 0.5 : 0));
      expect(w.metrics.auc).toBeCloseTo(right / pairs, 12);
      expect(w.insufficientData).toBe(false);
    });
    expect(perf.windows[0]!.metrics.auc).toBeGreaterThan(perf.windows[1]!.metrics.auc!);
  });
});

describe("closing windows by the clock", () => {
  it("judges a past window only once its rows have stopped arriving", async () => {
    const settleMs = 1_500;
    const own = await startMonitoring({ windowSettleMs: settleMs });
    try {
      const shop2 = await createShop(own, "settle", { amount: () => normal(rand, 100, 10), category: pick });
      const deployment = await shop2.deployment("replayed");
      const monitor = (await own.call(rpc.createMonitor, {
        parent: `projects/${shop2.project}`,
        monitorId: "replayed",
        monitor: { target: { case: "deployment", value: deployment }, features: ["amount"], window: { seconds: 1n }, thresholds: [{ metric: DriftMetric.KS, threshold: 0.15 }], consecutiveWindows: 1, minRows: 100n },
      })).monitor!;
      // A window from yesterday: its end passed on the clock long ago, as in a backfill or a replay.
      const P0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 24 * 3_600_000;
      const past = (n: number) => ({ timesMs: Array.from({ length: n }, (_, i) => P0 + Math.floor((i * W) / n)), amount: Array.from({ length: n }, () => normal(rand, 100, 10)), category: Array.from({ length: n }, pick) });
      const state = async () => (await own.pool.query("SELECT row_count, evaluated_at FROM window_stats WHERE monitor = $1", [monitor.name])).rows[0] as { row_count: string; evaluated_at: Date | null } | undefined;
      await publishPredictions(own, shop2, deployment, past(20));
      await until(async () => Number((await state())?.row_count ?? 0) === 20, 20_000);
      await own.server.evaluateOnce();
      expect((await state())!.evaluated_at).toBeNull(); // still filling: not judged on 20 rows
      await publishPredictions(own, shop2, deployment, past(180));
      await until(async () => Number((await state())?.row_count ?? 0) === 200, 20_000);
      await own.server.evaluateOnce();
      expect((await state())!.evaluated_at).toBeNull();
      await until(async () => (await state())!.evaluated_at !== null, settleMs * 5);
      const report = await own.call(rpc.getDriftReport, { monitor: monitor.name, timeRange: { startTime: timestampFromMs(P0), endTime: timestampFromMs(P0 + W) } });
      expect(report.windows).toHaveLength(1);
      expect(report.windows[0]!.status).not.toBe(DriftStatus.INSUFFICIENT_DATA);
      expect(report.windows[0]!.features[0]!.valueCount).toBe(200n);
    } finally {
      await own.close();
    }
  });
});
