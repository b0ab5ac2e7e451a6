// get / list / describe, lineage, deploy and rollback against a real registry,
// in table and JSON form, with the exit codes scripts rely on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { rpc, startRegistry, uniqueId, type Harness } from "../../services/registry/test/harness.js";
import { model } from "../../services/registry/test/fixtures.js";
import { closedPort, definitionsDir, fti } from "./run.js";
import { groupsYaml, viewYaml } from "./fixtures.js";

let h: Harness;
let p: string;
let args: (...a: string[]) => string[];
beforeAll(async () => {
  h = await startRegistry();
  p = `cli_${uniqueId()}`;
  args = (...a) => [...a, "--registry", `http://${h.server.grpcAddress}`, "--project", p];
  const dir = await definitionsDir({ "groups.yaml": groupsYaml(p), "views.yaml": viewYaml(p) });
  expect((await fti(args("apply", dir))).code).toBe(0);
  // What offline-query and the training runner would register.
  const view = `projects/${p}/featureViews/fraud/versions/1`;
  const td = (await h.call(rpc.createTrainingDataset, { parent: view, trainingDataset: {} })).trainingDataset!;
  await h.call(rpc.updateTrainingDataset, { trainingDataset: { name: td.name, state: TrainingDataset_State.READY, location: "file:///tmp/td" }, updateMask: { paths: ["state", "location"] } });
  await h.call(rpc.createModel, { parent: `projects/${p}`, modelId: "scorer", model: model(td.name) });
  await h.call(rpc.createModelVersion, { parent: `projects/${p}/models/scorer`, model: model(td.name, { metrics: { auc: 0.93 } }) });
});
afterAll(async () => {
  await h?.close();
});

describe("get, list, describe", () => {
  it("lists feature groups as an aligned table and as JSON", async () => {
    const table = await fti(args("list", "feature-group"));
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+VERSION\s+FEATURES\s+PRIMARY KEY\s+ONLINE\s+OWNER\s+DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["merchants", "transactions"]);
    // Aligned: every row's VERSION column starts where the header's does.
    const at = lines[0]!.indexOf("VERSION");
    for (const l of lines.slice(1)) expect(l[at]).toMatch(/\d/);

    const json = await fti(args("list", "feature-group", "-o", "json"));
    const groups = JSON.parse(json.stdout);
    expect(groups.map((g: { name: string }) => g.name)).toEqual([`projects/${p}/featureGroups/merchants/versions/1`, `projects/${p}/featureGroups/transactions/versions/1`]);
    expect(groups[1].primaryKey).toEqual(["account_id"]);
  });

  it("gets and describes one resource", async () => {
    const got = await fti(args("get", "model", "scorer"));
    expect(got.stdout).toMatch(/scorer\s+2\s+auc=0.93/);
    const described = await fti(args("describe", "feature-group", "transactions@1"));
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`name:          projects/${p}/featureGroups/transactions/versions/1`);
    expect(described.stdout).toMatch(/amount\s+double\s+yes\s+amount in USD/);
    expect(described.stdout).toContain("amount_positive (range on amount)");
    const view = await fti(args("describe", "fv", "fraud", "--output", "json"));
    expect(JSON.parse(view.stdout).servingKeys).toEqual(["account_id"]);
    const datasets = await fti(args("list", "training-dataset", "--feature-view", "fraud"));
    expect(datasets.stdout).toMatch(/fraud@1\/1\s+READY/);
  });

  it("says what to do when a resource does not exist, with exit code 1", async () => {
    const r = await fti(args("get", "feature-view", "nope"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not found; `fti list feature-view` shows what exists");
  });

  it("rejects bad usage with exit code 2", async () => {
    expect((await fti(args("list", "widgets"))).code).toBe(2);
    expect((await fti(args("list", "feature-group", "--bogus"))).stderr).toContain("`fti list --help` shows the flags");
    expect((await fti(["list", "model", "--registry", `http://${h.server.grpcAddress}`])).stderr).toContain("no project: pass --project");
    expect((await fti(["frobnicate"])).code).toBe(2);
    expect((await fti(args("get", "model", "scorer", "--output", "yaml"))).code).toBe(2);
  });

  it("exits 69 when the registry is not reachable", async () => {
    const r = await fti(["list", "project", "--registry", closedPort]);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("registry service is not reachable");
  });
});

describe("deploy, rollback, lineage", () => {
  it("deploys, canaries, rolls back and draws the lineage tree", async () => {
    const created = await fti(args("deploy", "scoring", "--model", "scorer@1"));
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created deployment projects/${p}/deployments/scoring at revision 1`);

    const canary = await fti(args("deploy", "scoring", "--model", "scorer", "--weight", "10"));
    expect(canary.code).toBe(0);
    expect(canary.stdout).toContain("revision 1 → 2");
    expect(canary.stdout).toMatch(new RegExp(`projects/${p}/models/scorer/versions/2\\s+10%`));
    expect(canary.stdout).toMatch(new RegExp(`projects/${p}/models/scorer/versions/1\\s+90%`));

    const listed = await fti(args("list", "deployment"));
    expect(listed.stdout).toMatch(/scoring\s+2\s+scorer@2=10%,scorer@1=90%/);

    const rolled = await fti(args("rollback", "scoring"));
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toContain("now revision 3");
    const after = JSON.parse((await fti(args("get", "deployment", "scoring", "-o", "json"))).stdout);
    expect(after.routes).toEqual([expect.objectContaining({ model: `projects/${p}/models/scorer/versions/1`, weight: 100 })]);
    const history = await fti(args("describe", "deployment", "scoring"));
    expect(history.stdout).toMatch(/3\s+scorer@1=100\s+fti rollback \(restores 1\)/);

    const badRevision = await fti(args("rollback", "scoring", "--to-revision", "99"));
    expect(badRevision.code).toBe(1);

    const lineage = await fti(args("lineage", "fraud"));
    expect(lineage.code).toBe(0);
    expect(lineage.stdout).toBe(
      [
        `projects/${p}/featureViews/fraud/versions/1 (feature view)`,
        `├── built from (upstream)`,
        `│   ├── projects/${p}/featureGroups/merchants/versions/1 (feature group)`,
        `│   └── projects/${p}/featureGroups/transactions/versions/1 (feature group)`,
        `└── used by (downstream)`,
        `    └── projects/${p}/featureViews/fraud/versions/1/trainingDatasets/1 (training dataset)`,
        `        ├── projects/${p}/models/scorer/versions/1 (model)`,
        `        │   └── projects/${p}/deployments/scoring (deployment)`,
        `        └── projects/${p}/models/scorer/versions/2 (model)`,
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await fti(args("lineage", "scoring", "-o", "json", "--direction", "up"))).stdout);
    expect(json.nodes.map((n: { kind: string }) => n.kind).sort()).toEqual(["deployment", "feature group", "feature group", "feature view", "model", "training dataset"]);
  });
});
