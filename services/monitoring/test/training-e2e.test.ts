// End to end with the training runner: a drift alert of a monitor whose
// action is TRIGGER_TRAINING starts exactly one training job through the
// runner's drift-alert trigger.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Action, Alert_State, DriftMetric } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { createShop, publishPredictions } from "./fixtures.js";
import { rpc, startMonitoring, until, type MonitoringHarness } from "./harness.js";
import { normal, random } from "./random.js";


describe("a drift alert starts one training job", () => {
  // Imported only when the training runner exists.
  let training: typeof import("../../training-runner/test/harness.js");
  let th: Awaited<ReturnType<(typeof training)["startTraining"]>>;
  let h: MonitoringHarness;

  beforeAll(async () => {
    training = await import("../../training-runner/test/harness.js");
    th = await training.startTraining();
    h = await startMonitoring({ registry: th.registry });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await th?.close();
  });

  it("raised once, de-duplicated over further drifting windows, one job", async () => {
    const rand = random(5);
    const pick = () => (rand() < 0.5 ? "a" : "b");
    // The runner fires triggers of the alert's project only, so the trigger's dataset lives in "shop" too.
    const dataset = await training.syntheticDataset(th, { project: "shop", rows: 300, features: 2, labelType: "double", label: "x0 + x1" });
    const shop = await createShop(h, "shop", { amount: () => normal(rand, 100, 10), category: pick });
    const deployment = await shop.deployment("live");
    const monitor = (await h.call(rpc.createMonitor, {
      parent: "projects/shop",
      monitorId: "retrain",
      monitor: { target: { case: "deployment", value: deployment }, features: ["amount"], window: { seconds: 1n }, thresholds: [{ metric: DriftMetric.PSI, threshold: 0.2 }], consecutiveWindows: 2, minRows: 50n, action: Action.TRIGGER_TRAINING },
    })).monitor!;
    const trigger = (await th.call(training.trpc.createTrigger, {
      parent: "projects/shop",
      triggerId: "on_drift",
      trigger: { event: { case: "driftAlert", value: { monitor: monitor.name } }, debounce: { seconds: 1n }, jobSpec: training.jobSpec({ trainingDataset: dataset.name, label: "label", linearRegression: {}, model: "projects/shop/models/retrained" }) },
    })).trigger!;

    const T0 = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 24 * 3_600_000;
    let rows = 0;
    // Five drifted windows in a row: the alert is raised after two and stays one alert.
    for (let k = 0; k < 6; k++) {
      const n = 100;
      await publishPredictions(h, shop, deployment, { timesMs: Array.from({ length: n }, (_, i) => T0 + k * 1000 + i), amount: Array.from({ length: n }, () => normal(rand, 150, 10)), category: Array.from({ length: n }, pick) });
      rows += n;
      await until(async () => Number((await h.pool.query("SELECT coalesce(sum(row_count), 0) AS n FROM window_stats WHERE monitor = $1", [monitor.name])).rows[0].n) === rows, 20_000);
      await h.server.evaluateOnce();
    }
    const alerts = (await h.call(rpc.listAlerts, { parent: monitor.name })).alerts;
    expect(alerts.map((a) => [a.state, a.action])).toEqual([[Alert_State.FIRING, Action.TRIGGER_TRAINING]]);
    await h.server.relay.flush();

    const listTriggered = async () => (await th.call(training.trpc.listJobs, { parent: "projects/shop", filter: `trigger = "${trigger.name}"` })).jobs;
    await until(async () => (await listTriggered()).length > 0, 20_000);
    // Past the debounce window: still exactly one job.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await listTriggered()).toHaveLength(1);
  }, 90_000);
});
