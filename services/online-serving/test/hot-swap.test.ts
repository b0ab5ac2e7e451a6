// Hot swap under load: a steady stream of Predict calls runs while the
// deployment is upgraded, rolled back, and upgraded to a corrupt model; no
// call may fail, traffic must move to the new version without a restart, and
// the corrupt version must never answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpc, serving, startServing, until, type ServingHarness, createReadyDataset } from "./harness.js";
import { registerLinear } from "./models.js";
import { at, createShop, entities, project, requestData, viewColumns } from "./shop.js";

let h: ServingHarness;
let v1: string, v2: string, corrupt: string;

beforeAll(async () => {
  h = await startServing();
  const shop = await createShop(h);
  const now = new Date();
  await h.store.upsert(shop.customers, [{ customer_id: 1n, ts: at(now, -60_000), age: 30, income: 50_000, segment_id: 7n, churned: false }]);
  const dataset = await createReadyDataset(h, shop.view.name, { age: [30, 40], income: [40_000, 60_000], segment_id: [7n, 9n], act_clicks_7d: [1, 2], act_spend_30d: [10, 30], seg_risk: [0.1, 0.2], amount_ratio: [0.1, 0.2], amount: [1, 2] }, viewColumns);
  v1 = (await registerLinear(h, "churn", dataset.name, [1, 1, 1, 1, 1, 1], 0)).name;
  v2 = (await registerLinear(h, "churn", dataset.name, [2, 2, 2, 2, 2, 2], 0)).name;
  corrupt = (await registerLinear(h, "churn", dataset.name, [3, 3, 3, 3, 3, 3], 0, { corrupt: true })).name;
});
afterAll(async () => h?.close());

/** Runs `workers` concurrent request loops until stopped; records every answer's model and every failure. */
function loadLoop(deployment: string, workers = 4) {
  const answers: { model: string; at: number }[] = [];
  const failures: unknown[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      try {
        const res = await h.call(serving.predict, { deployment, entities: entities([1n]), requestData: requestData([100]), requestId: `w${w}-${i}` }, 5_000);
        answers.push({ model: res.model, at: Date.now() });
      } catch (err) {
        failures.push(err);
      }
    }
  });
  return {
    answers,
    failures,
    lastModel: () => answers[answers.length - 1]?.model,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe("hot swap", () => {
  it("upgrades and rolls back under steady load with zero failed requests", async () => {
    let d = (await h.registry.call(rpc.createDeployment, { parent: `projects/${project}`, deploymentId: "live", deployment: { routes: [{ model: v1, weight: 100 }] }, reason: "first" })).deployment!;
    const load = loadLoop(d.name);
    let rejectedAt = 0;
    try {
      await until(() => load.answers.length > 50);
      d = (await h.registry.call(rpc.upgradeDeployment, { name: d.name, etag: d.etag, routes: [{ model: v2, weight: 100 }], reason: "v2" })).deployment!;
      await until(() => load.lastModel() === v2, 15_000);
      const switched = load.answers.length;
      await until(() => load.answers.length > switched + 50);

      d = (await h.registry.call(rpc.rollbackDeployment, { name: d.name, etag: d.etag, revision: 0n, reason: "roll back" })).deployment!;
      await until(() => load.lastModel() === v1, 15_000);
      const rolledBack = load.answers.length;
      await until(() => load.answers.length > rolledBack + 50);

      // A corrupt artifact is rejected at load: the previous version keeps answering.
      d = (await h.registry.call(rpc.upgradeDeployment, { name: d.name, etag: d.etag, routes: [{ model: corrupt, weight: 100 }], reason: "bad" })).deployment!;
      await until(async () => /fti_model_load_rejections_total\{[^}]*\} [1-9]/.test(await (await fetch(`${h.server.webUrl}/metrics`)).text()), 15_000);
      rejectedAt = load.answers.length;
      await until(() => load.answers.length > rejectedAt + 50);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    const models = load.answers.map((a) => a.model);
    expect(new Set(models)).toEqual(new Set([v1, v2]));
    expect(models).not.toContain(corrupt);
    // Once the corrupt upgrade was rejected, v1 (the rollback) answered every request.
    expect(new Set(models.slice(rejectedAt))).toEqual(new Set([v1]));
    const metrics = await (await fetch(`${h.server.webUrl}/metrics`)).text();
    expect(metrics).toMatch(/fti_deployment_swaps_total\{[^}]*\} 2/);
  }, 90_000);
});
