// The registry through its real gRPC listener (grpc-js client) against real
// Postgres and NATS: versioning and schema evolution, validation, references,
// etags, pagination, deployments, lineage and search.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { LineageDirection, MatchedField, ResourceKind } from "@fti/proto/fti/registry/v1/registry_pb";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { fraudView, merchantsGroup, model, scalar, transactionsGroup } from "./fixtures.js";
import { rpc, startRegistry, statusOf, type Harness } from "./harness.js";

let h: Harness;
let projectCounter = 0;

beforeAll(async () => {
  h = await startRegistry();
});
afterAll(async () => {
  await h?.close();
});

/** A fresh project per test, so tests do not see each other's resources. */
async function newProject(): Promise<string> {
  const id = `p${++projectCounter}`;
  await h.call(rpc.createProject, { projectId: id, project: { owner: "platform" } });
  return id;
}

async function countRows(): Promise<number> {
  return Number((await h.pool.query("SELECT count(*) AS n FROM resources")).rows[0].n);
}

describe("feature groups", () => {
  it("create version 1, then the next version; latest resolves to the highest", async () => {
    const p = await newProject();
    const v1 = (await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() })).featureGroup!;
    expect(v1.name).toBe(`projects/${p}/featureGroups/transactions/versions/1`);
    expect(v1.version).toBe(1);
    expect(v1.etag).not.toBe("");
    expect(v1.offlineTableUri).toMatch(new RegExp(`^file:///.*/${p}/transactions/v1$`));

    const again = await statusOf(h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() }));
    expect(again.code).toBe(status.ALREADY_EXISTS);

    const v2 = (await h.call(rpc.createFeatureGroupVersion, { parent: `projects/${p}/featureGroups/transactions`, featureGroup: transactionsGroup({ primaryKey: ["account_id", "merchant_id"] }) })).featureGroup!;
    expect(v2.version).toBe(2);
    const latest = (await h.call(rpc.getFeatureGroup, { name: `projects/${p}/featureGroups/transactions/versions/latest` })).featureGroup!;
    expect(latest.name).toBe(v2.name);
    expect(latest.primaryKey).toEqual(["account_id", "merchant_id"]);

    const versions = await h.call(rpc.listFeatureGroups, { parent: `projects/${p}/featureGroups/transactions` });
    expect(versions.featureGroups.map((g) => g.version)).toEqual([2, 1]);
    const noFamily = await statusOf(h.call(rpc.createFeatureGroupVersion, { parent: `projects/${p}/featureGroups/nothing`, featureGroup: transactionsGroup() }));
    expect(noFamily.code).toBe(status.NOT_FOUND);
    expect((await statusOf(h.call(rpc.getFeatureGroup, { name: `projects/${p}/featureGroups/transactions/versions/9` }))).code).toBe(status.NOT_FOUND);
  });

  it("reject bad input with INVALID_ARGUMENT naming the field and write nothing", async () => {
    const p = await newProject();
    const before = await countRows();
    const cases: [string, Record<string, unknown>, string][] = [
      ["Bad-Name", {}, "feature_group_id"],
      ["ok", { schema: { features: [] } }, "feature_group.schema.features"],
      ["ok", { schema: { features: [scalar("account_id", ScalarType.STRING), scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP)] } }, "feature_group.schema.features[1].name"],
      ["ok", { schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), { name: "x", type: {} }] } }, "feature_group.schema.features[2].type"],
      ["ok", { primaryKey: ["nope"] }, "feature_group.primary_key[0]"],
      ["ok", { ttl: { seconds: 0n } }, "feature_group.ttl"],
      ["ok", { ttl: { seconds: -5n } }, "feature_group.ttl"],
      ["ok", { eventTime: "amount" }, "feature_group.event_time"],
      ["ok", { expectations: [{ name: "amount_ok", feature: "account_id", kind: { case: "range", value: { min: 0 } } }] }, "feature_group.expectations[0].feature"],
    ];
    for (const [id, extra, field] of cases) {
      const result = await statusOf(h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: id, featureGroup: transactionsGroup(extra) }));
      expect(result.code, field).toBe(status.INVALID_ARGUMENT);
      expect(result.details, field).toContain(field);
    }
    expect(await countRows()).toBe(before);
    expect((await statusOf(h.call(rpc.createFeatureGroup, { parent: "projects/none", featureGroupId: "x", featureGroup: transactionsGroup() }))).code).toBe(status.NOT_FOUND);
  });

  it("allow appending a nullable feature in place but need a new version for breaking changes", async () => {
    const p = await newProject();
    const fg = (await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() })).featureGroup!;
    const features = fg.schema!.features;

    const appended = (await h.call(rpc.updateFeatureGroup, {
      featureGroup: { name: fg.name, etag: fg.etag, schema: { features: [...features, scalar("country", ScalarType.STRING)] }, description: "ignored: not in mask" },
      updateMask: { paths: ["schema"] },
    })).featureGroup!;
    expect(appended.schema!.features.map((f) => f.name)).toEqual(["account_id", "ts", "amount", "merchant_id", "is_fraud", "country"]);
    expect(appended.description).toBe("card transactions");
    expect(appended.etag).not.toBe(fg.etag);

    const breaking: [string, object, string[], RegExp][] = [
      ["type change", { schema: { features: features.map((f) => (f.name === "amount" ? scalar("amount", ScalarType.STRING) : f)) } }, ["schema"], /changes type from double to string/],
      ["removal", { schema: { features: features.filter((f) => f.name !== "merchant_id") } }, ["schema"], /"merchant_id" is removed/],
      ["non-null append", { schema: { features: [...appended.schema!.features, scalar("score", ScalarType.DOUBLE, { nullable: false })] } }, ["schema"], /not nullable/],
      ["key change", { primaryKey: ["merchant_id"] }, ["primary_key"], /primary key changes/],
      ["event time change", { schema: appended.schema, eventTime: "other_ts" }, ["event_time"], /event-time column changes/],
    ];
    for (const [what, change, paths, message] of breaking) {
      const result = await statusOf(h.call(rpc.updateFeatureGroup, { featureGroup: { name: fg.name, ...change }, updateMask: { paths } }));
      if (what === "event time change") {
        // other_ts is not in the schema: bad input before any evolution rule.
        expect(result.code, what).toBe(status.INVALID_ARGUMENT);
        continue;
      }
      expect(result.code, what).toBe(status.FAILED_PRECONDITION);
      expect(result.details, what).toMatch(message);
      expect(result.details, what).toMatch(/CreateFeatureGroupVersion/);
    }
    const unchanged = (await h.call(rpc.getFeatureGroup, { name: fg.name })).featureGroup!;
    expect(unchanged.etag).toBe(appended.etag);
    expect((await statusOf(h.call(rpc.updateFeatureGroup, { featureGroup: { name: fg.name }, updateMask: { paths: ["offline_table_uri"] } }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await statusOf(h.call(rpc.updateFeatureGroup, { featureGroup: { name: fg.name, ttl: { seconds: -1n } }, updateMask: { paths: ["ttl"] } }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it("let exactly one of two concurrent updates with the same etag win; the other is ABORTED", async () => {
    const p = await newProject();
    const fg = (await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() })).featureGroup!;
    const results = await Promise.all(
      ["alice", "bob"].map((owner) => statusOf(h.call(rpc.updateFeatureGroup, { featureGroup: { name: fg.name, etag: fg.etag, owner }, updateMask: { paths: ["owner"] } }))),
    );
    expect(results.map((r) => r.code).sort()).toEqual([status.ABORTED, "OK"].sort());
    const now = (await h.call(rpc.getFeatureGroup, { name: fg.name })).featureGroup!;
    expect(["alice", "bob"]).toContain(now.owner);
    // A stale etag on delete is ABORTED too; the current one works.
    expect((await statusOf(h.call(rpc.deleteFeatureGroup, { name: fg.name, etag: fg.etag }))).code).toBe(status.ABORTED);
    await h.call(rpc.deleteFeatureGroup, { name: fg.name, etag: now.etag });
    expect((await statusOf(h.call(rpc.getFeatureGroup, { name: fg.name }))).code).toBe(status.NOT_FOUND);
  });

  it("page through many groups while others are inserted, without duplicates or gaps", async () => {
    const p = await newProject();
    const initial = Array.from({ length: 37 }, (_, i) => `g${String(i * 2).padStart(3, "0")}`);
    for (const id of initial) await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: id, featureGroup: transactionsGroup() });
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    let inserted = 0;
    do {
      const page = await h.call(rpc.listFeatureGroups, { parent: `projects/${p}`, pageSize: 5, pageToken: token });
      seen.push(...page.featureGroups.map((g) => g.name.split("/")[3]!));
      token = page.nextPageToken;
      pages++;
      // Concurrent writers: new ids sorting before and after the cursor, and a new version of a listed group.
      await Promise.all([
        h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: `g${String(inserted * 2 + 1).padStart(3, "0")}`, featureGroup: transactionsGroup() }),
        h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: `z${inserted}`, featureGroup: transactionsGroup() }),
      ]);
      inserted++;
    } while (token);
    expect(pages).toBeGreaterThan(5);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of initial) expect(seen).toContain(id);
    expect(seen).toEqual([...seen].sort());

    expect((await statusOf(h.call(rpc.listFeatureGroups, { parent: `projects/${p}`, pageSize: 5, pageToken: "not-a-token" }))).code).toBe(status.INVALID_ARGUMENT);
    const first = await h.call(rpc.listFeatureGroups, { parent: `projects/${p}`, pageSize: 5 });
    const changed = await statusOf(h.call(rpc.listFeatureGroups, { parent: `projects/${p}`, pageSize: 5, pageToken: first.nextPageToken, filter: 'owner = "x"' }));
    expect(changed.code).toBe(status.INVALID_ARGUMENT);
  });

  it("filter by owner, tags and online_enabled; reject unknown fields", async () => {
    const p = await newProject();
    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "a", featureGroup: transactionsGroup({ owner: "risk", tags: { tier: "gold" } }) });
    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "b", featureGroup: transactionsGroup({ owner: "risk", tags: { tier: "silver" }, onlineEnabled: false }) });
    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "c", featureGroup: transactionsGroup({ owner: "growth", tags: { tier: "gold" } }) });
    const ids = async (filter: string) => (await h.call(rpc.listFeatureGroups, { parent: `projects/${p}`, filter })).featureGroups.map((g) => g.name.split("/")[3]);
    expect(await ids('owner = "risk"')).toEqual(["a", "b"]);
    expect(await ids('owner = "risk" AND tags.tier = "gold"')).toEqual(["a"]);
    expect(await ids('online_enabled = "false"')).toEqual(["b"]);
    const bad = await statusOf(h.call(rpc.listFeatureGroups, { parent: `projects/${p}`, filter: 'colour = "red"' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toContain("filter");
  });
});

/** Project with transactions v1, merchants v1 and the fraud view v1. */
async function withView() {
  const p = await newProject();
  await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() });
  await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "merchants", featureGroup: merchantsGroup() });
  const view = (await h.call(rpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "fraud", featureView: fraudView(p) })).featureView!;
  return { p, view };
}

/** withView() plus a READY training dataset and model "scorer" v1 trained on it. */
async function withModel() {
  const { p, view } = await withView();
  const td = (await h.call(rpc.createTrainingDataset, { parent: view.name, trainingDataset: { split: { kind: { case: "random", value: { fractions: [{ name: "train", fraction: 0.8 }, { name: "test", fraction: 0.2 }], seed: 7n } } } } })).trainingDataset!;
  await h.call(rpc.updateTrainingDataset, { trainingDataset: { name: td.name, state: TrainingDataset_State.READY, location: "file:///tmp/td" }, updateMask: { paths: ["state", "location"] } });
  const m = (await h.call(rpc.createModel, { parent: `projects/${p}`, modelId: "scorer", model: model(td.name) })).model!;
  return { p, view, td, model: m };
}

describe("feature views and references", () => {
  it("pin latest groups, derive serving keys and output columns", async () => {
    const { p, view } = await withView();
    expect(view.name).toBe(`projects/${p}/featureViews/fraud/versions/1`);
    expect(view.root!.featureGroup).toBe(`projects/${p}/featureGroups/transactions/versions/1`);
    expect(view.servingKeys).toEqual(["account_id"]);
    expect(view.outputSchema!.features.map((f) => f.name)).toEqual(["amount", "merchant_id", "merchant_risk_score"]);
    const filtered = await h.call(rpc.listFeatureViews, { parent: `projects/${p}`, filter: `feature_group = "projects/${p}/featureGroups/merchants/versions/1"` });
    expect(filtered.featureViews.map((v) => v.name)).toEqual([view.name]);
  });

  it("refuse missing groups, unknown features and join keys of different types", async () => {
    const p = await newProject();
    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() });
    const missing = await statusOf(h.call(rpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "fraud", featureView: fraudView(p) }));
    expect(missing.code).toBe(status.FAILED_PRECONDITION);
    expect(missing.details).toContain(`projects/${p}/featureGroups/merchants/versions/1`);

    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "merchants", featureGroup: merchantsGroup(ScalarType.STRING) });
    const typeMismatch = await statusOf(h.call(rpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "fraud", featureView: fraudView(p) }));
    expect(typeMismatch.code).toBe(status.INVALID_ARGUMENT);
    expect(typeMismatch.details).toContain("feature_view.joins[0].keys[0].left");
    expect(typeMismatch.details).toMatch(/int64 but "merchant_id" is string/);

    const unknownFeature = await statusOf(h.call(rpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "fraud", featureView: fraudView(p, { joins: [], root: { featureGroup: `projects/${p}/featureGroups/transactions/versions/1`, features: ["amount", "nope"] } }) }));
    expect(unknownFeature.code).toBe(status.INVALID_ARGUMENT);
    expect(unknownFeature.details).toContain("feature_view.root.features[1]");
    expect((await h.call(rpc.listFeatureViews, { parent: `projects/${p}` })).featureViews).toEqual([]);
  });

  it("check on-demand expressions and transformations with the library that runs them", async () => {
    const p = await newProject();
    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "transactions", featureGroup: transactionsGroup() });
    await h.call(rpc.createFeatureGroup, { parent: `projects/${p}`, featureGroupId: "merchants", featureGroup: merchantsGroup() });
    const double = { kind: { case: "scalar", value: ScalarType.DOUBLE } };
    const typo = await statusOf(h.call(rpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "fraud", featureView: fraudView(p, { onDemandFeatures: [{ name: "amount_per_risk", type: double, expression: "amout / nullif(merchant_risk_score, 0)" }] }) }));
    expect(typo.code).toBe(status.INVALID_ARGUMENT);
    expect(typo.details).toContain("feature_view.on_demand_features[0].expression");
    expect(typo.details).toContain('unknown column "amout"');
    const badTransform = await statusOf(h.call(rpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "fraud", featureView: fraudView(p, { transformations: [{ feature: "amount", kind: { case: "robustScaler", value: { lowerQuantile: 0.9, upperQuantile: 0.1 } } }] }) }));
    expect(badTransform.code).toBe(status.INVALID_ARGUMENT);
    expect(badTransform.details).toContain("feature_view.transformations[0].robust_scaler");
    expect((await h.call(rpc.listFeatureViews, { parent: `projects/${p}` })).featureViews).toEqual([]);
    const ok = await h.call(rpc.createFeatureView, {
      parent: `projects/${p}`,
      featureViewId: "fraud",
      featureView: fraudView(p, {
        onDemandFeatures: [{ name: "amount_per_risk", type: double, expression: "amount / nullif(merchant_risk_score, 0)" }],
        transformations: [{ feature: "amount_per_risk", kind: { case: "standardScaler", value: {} } }],
      }),
    });
    expect(ok.featureView!.onDemandFeatures[0]!.name).toBe("amount_per_risk");
  });

  it("refuse deleting anything still referenced, listing the dependents", async () => {
    const { p, view, td, model: m } = await withModel();
    const dep = (await h.call(rpc.createDeployment, { parent: `projects/${p}`, deploymentId: "scoring", deployment: { routes: [{ model: m.name, weight: 100 }] } })).deployment!;
    const merchants = `projects/${p}/featureGroups/merchants/versions/1`;
    const refused: [() => Promise<unknown>, string][] = [
      [() => h.call(rpc.deleteFeatureGroup, { name: merchants }), view.name],
      [() => h.call(rpc.deleteFeatureView, { name: view.name }), td.name],
      [() => h.call(rpc.deleteTrainingDataset, { name: td.name }), m.name],
      [() => h.call(rpc.deleteModel, { name: m.name }), dep.name],
      [() => h.call(rpc.deleteProject, { name: `projects/${p}` }), merchants],
    ];
    for (const [call, dependent] of refused) {
      const result = await statusOf(call());
      expect(result.code, dependent).toBe(status.FAILED_PRECONDITION);
      expect(result.details, dependent).toContain(dependent);
    }
    // Top down, everything can go.
    await h.call(rpc.deleteDeployment, { name: dep.name });
    await h.call(rpc.deleteModel, { name: m.name });
    await h.call(rpc.deleteTrainingDataset, { name: td.name });
    await h.call(rpc.deleteFeatureView, { name: view.name });
    await h.call(rpc.deleteFeatureGroup, { name: `projects/${p}/featureGroups/merchants/versions/1` });
    await h.call(rpc.deleteFeatureGroup, { name: `projects/${p}/featureGroups/transactions/versions/1` });
    await h.call(rpc.deleteProject, { name: `projects/${p}` });
    expect((await statusOf(h.call(rpc.getProject, { name: `projects/${p}` }))).code).toBe(status.NOT_FOUND);
  });

  it("need an existing training dataset for a model and existing models for a deployment", async () => {
    const { p, view } = await withView();
    const noDataset = await statusOf(h.call(rpc.createModel, { parent: `projects/${p}`, modelId: "scorer", model: model(`${view.name}/trainingDatasets/9`) }));
    expect(noDataset.code).toBe(status.FAILED_PRECONDITION);
    expect(noDataset.details).toContain("trainingDatasets/9");
    const badChecksum = await statusOf(h.call(rpc.createModel, { parent: `projects/${p}`, modelId: "scorer", model: model(`${view.name}/trainingDatasets/1`, { checksum: "md5:x" }) }));
    expect(badChecksum.code).toBe(status.INVALID_ARGUMENT);
    expect(badChecksum.details).toContain("model.checksum");
    const noModel = await statusOf(h.call(rpc.createDeployment, { parent: `projects/${p}`, deploymentId: "scoring", deployment: { routes: [{ model: `projects/${p}/models/ghost/versions/1`, weight: 100 }] } }));
    expect(noModel.code).toBe(status.FAILED_PRECONDITION);
    expect(noModel.details).toContain("ghost");
  });

  it("keep a READY training dataset immutable except description and tags", async () => {
    const { td } = await withModel();
    const refused = await statusOf(h.call(rpc.updateTrainingDataset, { trainingDataset: { name: td.name, location: "file:///elsewhere" }, updateMask: { paths: ["location"] } }));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    const described = (await h.call(rpc.updateTrainingDataset, { trainingDataset: { name: td.name, description: "v1 data" }, updateMask: { paths: ["description"] } })).trainingDataset!;
    expect(described.description).toBe("v1 data");
    expect(described.location).toBe("file:///tmp/td");
  });
});

describe("deployments", () => {
  it("upgrade and roll back in one call each; routes carry the feature view each model needs", async () => {
    const { p, td, model: m1 } = await withModel();
    // A second view version and a model version trained on it.
    const view2 = (await h.call(rpc.createFeatureViewVersion, { parent: `projects/${p}/featureViews/fraud`, featureView: fraudView(p, { joins: [], root: { featureGroup: `projects/${p}/featureGroups/transactions/versions/1`, features: ["amount", "is_fraud"] } }) })).featureView!;
    const td2 = (await h.call(rpc.createTrainingDataset, { parent: view2.name, trainingDataset: {} })).trainingDataset!;
    const m2 = (await h.call(rpc.createModelVersion, { parent: `projects/${p}/models/scorer`, model: model(td2.name) })).model!;
    expect(m2.version).toBe(2);
    expect(m2.featureView).toBe(view2.name);

    const weights = await statusOf(h.call(rpc.createDeployment, { parent: `projects/${p}`, deploymentId: "scoring", deployment: { routes: [{ model: m1.name, weight: 60 }, { model: m2.name, weight: 30 }] } }));
    expect(weights.code).toBe(status.INVALID_ARGUMENT);
    expect(weights.details).toMatch(/deployment\.routes.*sum to 90/);

    const created = (await h.call(rpc.createDeployment, { parent: `projects/${p}`, deploymentId: "scoring", deployment: { routes: [{ model: m1.name, weight: 100 }] }, reason: "first" })).deployment!;
    expect(created.revision).toBe(1n);
    expect(created.routes[0]!.featureView).toBe(m1.featureView);
    expect(created.routes[0]!.trainingDataset).toBe(td.name);

    const upgraded = (await h.call(rpc.upgradeDeployment, { name: created.name, routes: [{ model: `projects/${p}/models/scorer/versions/latest`, weight: 90 }, { model: m1.name, weight: 10 }], shadows: [{ model: m1.name, samplePercent: 5 }], reason: "canary", etag: created.etag })).deployment!;
    expect(upgraded.revision).toBe(2n);
    expect(upgraded.routes.map((r) => [r.model, r.weight, r.featureView])).toEqual([[m2.name, 90, view2.name], [m1.name, 10, m1.featureView]]);
    expect((await statusOf(h.call(rpc.upgradeDeployment, { name: created.name, routes: [{ model: m1.name, weight: 100 }], etag: created.etag }))).code).toBe(status.ABORTED);

    const rolledBack = (await h.call(rpc.rollbackDeployment, { name: created.name, reason: "bad canary" })).deployment!;
    expect(rolledBack.revision).toBe(3n);
    expect(rolledBack.routes).toEqual(created.routes);
    expect(rolledBack.shadows).toEqual([]);
    const got = (await h.call(rpc.getDeployment, { name: created.name })).deployment!;
    expect(got.routes.map((r) => [r.model, r.weight, r.featureView])).toEqual([[m1.name, 100, m1.featureView]]);

    const revisions = await h.call(rpc.listDeploymentRevisions, { parent: created.name, pageSize: 2 });
    expect(revisions.revisions.map((r) => [r.revision, r.reason, r.restoredRevision])).toEqual([[3n, "bad canary", 1n], [2n, "canary", 0n]]);
    const older = await h.call(rpc.listDeploymentRevisions, { parent: created.name, pageSize: 2, pageToken: revisions.nextPageToken });
    expect(older.revisions.map((r) => r.revision)).toEqual([1n]);
    expect(older.nextPageToken).toBe("");

    // Model v2 is no longer routed, so it can be deleted; v1 cannot.
    const filtered = await h.call(rpc.listDeployments, { parent: `projects/${p}`, filter: `model = "${m1.name}"` });
    expect(filtered.deployments.map((d) => d.name)).toEqual([created.name]);
    expect((await statusOf(h.call(rpc.deleteModel, { name: m1.name }))).code).toBe(status.FAILED_PRECONDITION);
    await h.call(rpc.deleteModel, { name: m2.name });
    // Rolling back to revision 2 now needs a model that is gone.
    const gone = await statusOf(h.call(rpc.rollbackDeployment, { name: created.name, revision: 2n }));
    expect(gone.code).toBe(status.FAILED_PRECONDITION);
  });
});

describe("lineage and search", () => {
  it("walk the full chain feature group → view → dataset → model → deployment", async () => {
    const { p, view, td, model: m } = await withModel();
    const dep = (await h.call(rpc.createDeployment, { parent: `projects/${p}`, deploymentId: "scoring", deployment: { routes: [{ model: m.name, weight: 100 }] } })).deployment!;
    const tx = `projects/${p}/featureGroups/transactions/versions/1`;
    const merchants = `projects/${p}/featureGroups/merchants/versions/1`;

    const fromDeployment = await h.call(rpc.getLineage, { name: dep.name, direction: LineageDirection.UPSTREAM });
    expect(new Map(fromDeployment.nodes.map((n) => [n.name, n.kind]))).toEqual(
      new Map([
        [dep.name, ResourceKind.DEPLOYMENT],
        [m.name, ResourceKind.MODEL],
        [td.name, ResourceKind.TRAINING_DATASET],
        [view.name, ResourceKind.FEATURE_VIEW],
        [tx, ResourceKind.FEATURE_GROUP],
        [merchants, ResourceKind.FEATURE_GROUP],
      ]),
    );
    expect(fromDeployment.edges.map((e) => `${e.upstream} -> ${e.downstream}`).sort()).toEqual(
      [`${tx} -> ${view.name}`, `${merchants} -> ${view.name}`, `${view.name} -> ${td.name}`, `${td.name} -> ${m.name}`, `${m.name} -> ${dep.name}`].sort(),
    );

    const downstream = await h.call(rpc.getLineage, { name: merchants, direction: LineageDirection.DOWNSTREAM });
    expect(downstream.nodes.map((n) => n.name).sort()).toEqual([merchants, view.name, td.name, m.name, dep.name].sort());
    const oneStep = await h.call(rpc.getLineage, { name: view.name, maxDepth: 1 });
    expect(oneStep.nodes.map((n) => n.name).sort()).toEqual([tx, merchants, view.name, td.name].sort());
    expect((await statusOf(h.call(rpc.getLineage, { name: `projects/${p}/models/none/versions/1` }))).code).toBe(status.NOT_FOUND);
  });

  it("find features by name, description and tag, every word matching", async () => {
    const { p } = await withView();
    const amount = await h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "amount" });
    expect(amount.matches.map((m) => [m.featureGroup, m.feature!.name, m.matchedFields])).toEqual([[`projects/${p}/featureGroups/transactions/versions/1`, "amount", [MatchedField.NAME, MatchedField.DESCRIPTION]]]);
    const byTag = await h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "USD" });
    expect(byTag.matches.map((m) => m.feature!.name)).toEqual(["amount"]);
    const risk = await h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "risk score" });
    expect(risk.matches.map((m) => m.feature!.name)).toEqual(["risk_score"]);
    const paged = await h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "i", pageSize: 2 });
    const rest = await h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "i", pageSize: 100, pageToken: paged.nextPageToken });
    const all = await h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "i", pageSize: 100 });
    expect([...paged.matches, ...rest.matches].map((m) => `${m.featureGroup}:${m.feature!.name}`)).toEqual(all.matches.map((m) => `${m.featureGroup}:${m.feature!.name}`));
    expect((await statusOf(h.call(rpc.searchFeatures, { parent: `projects/${p}`, query: "  " }))).code).toBe(status.INVALID_ARGUMENT);
  });
});
