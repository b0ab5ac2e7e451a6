// fti plan / fti apply against a real registry: validation before any call,
// the four kinds of plan entries, idempotent apply, a half-failed apply that a
// re-run completes, and monitors skipped while monitoring does not run.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, uniqueId, type Harness } from "../../services/registry/test/harness.js";
import { closedPort, definitionsDir, fti } from "./run.js";
import { groupsYaml, monitorYaml, viewYaml } from "./fixtures.js";

let h: Harness;
let registry: string;
beforeAll(async () => {
  h = await startRegistry();
  registry = `http://${h.server.grpcAddress}`;
});
afterAll(async () => {
  await h?.close();
});

const newProject = () => `cli_${uniqueId()}`;
// Monitoring is pointed at a closed port: the service is not built yet.
const flags = () => ["--registry", registry, "--monitoring", closedPort];

describe("validation", () => {
  it("points at file, line and field before contacting any service", async () => {
    const dir = await definitionsDir({
      "groups.yaml": `project: p1
feature_groups:
  - name: transactions
    features:
      - {name: account_id, type: string}
      - {name: ts, type: timestamp}
      - {name: amount, type: decimal}
    primary_key: [acount_id]
    event_time: ts
    ttl: forever
    expectations:
      - {name: amount_ok, feature: amount, range: {min: 10, max: 1}}
`,
      "views.yaml": `project: p1
feature_views:
  - name: Fraud
    root: {feature_group: transactions, features: [amount, nope]}
    labelz: [x]
`,
    });
    // Every service on a closed port: any call would fail with exit 69, not 2.
    const r = await fti(["plan", dir, "--host", "127.0.0.1", "--registry", closedPort, "--monitoring", closedPort]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("nothing was sent to any service");
    expect(r.stderr).toContain(`${join(dir, "groups.yaml")}:7:30: feature_groups[0].features[2].type: unknown type "decimal"`);
    expect(r.stderr).toContain(`groups.yaml:8:19: feature_groups[0].primary_key[0]: "acount_id" is not one of the features`);
    expect(r.stderr).toContain("groups.yaml:10:10: feature_groups[0].ttl: must be a positive duration");
    expect(r.stderr).toContain("feature_groups[0].expectations[0].range: min 10 is greater than max 1");
    expect(r.stderr).toContain(`views.yaml:3:11: feature_views[0].name: "Fraud" must start with a lowercase letter`);
    expect(r.stderr).toContain(`views.yaml:4:60: feature_views[0].root.features[1]: feature view "Fraud" selects "nope", which feature group "transactions" does not have`);
    expect(r.stderr).toContain(`views.yaml:5:13: feature_views[0].labelz: unknown key "labelz"`);
    // A feature with a wrong type is still a feature: no cascade of follow-up errors.
    expect(r.stderr).not.toContain('selects "amount"');
    expect(r.stderr).toContain("the definitions have 7 problems");
  });

  it("reports YAML syntax errors with their line", async () => {
    const dir = await definitionsDir({ "bad.yaml": "project: p\nfeature_groups:\n  - name: [unclosed\n" });
    const r = await fti(["plan", dir, ...flags()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: YAML syntax/);
  });

  it("needs a project", async () => {
    const dir = await definitionsDir({ "g.yaml": "feature_groups: []\n" });
    const r = await fti(["plan", dir, ...flags()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no project: add `project: <name>`");
  });
});

describe("plan and apply", () => {
  it("plans creates, applies them, and a second apply changes nothing", async () => {
    const p = newProject();
    const dir = await definitionsDir({ "groups.yaml": groupsYaml(p), "views.yaml": viewYaml(p) });
    const planned = await fti(["plan", dir, ...flags(), "--detailed-exitcode"]);
    expect(planned.stderr).toBe("");
    expect(planned.code).toBe(3);
    expect(planned.stdout).toContain(`+ create project projects/${p}`);
    expect(planned.stdout).toContain(`+ create feature group projects/${p}/featureGroups/transactions/versions/1`);
    expect(planned.stdout).toContain(`+ create feature view projects/${p}/featureViews/fraud/versions/1`);
    expect(planned.stdout).toContain("Plan: 4 to create, 0 new versions, 0 to update in place, 0 unchanged.");

    const applied = await fti(["apply", dir, ...flags()]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`✓ created projects/${p}/featureViews/fraud/versions/1`);
    expect(applied.stdout).toContain("Apply complete: 4 applied.");

    const again = await fti(["apply", dir, ...flags()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("No changes: the platform matches the definitions (4 unchanged).");
    const replan = await fti(["plan", dir, ...flags(), "--detailed-exitcode"]);
    expect(replan.code).toBe(0);
    expect(replan.stdout).toContain(`= no change feature group projects/${p}/featureGroups/transactions/versions/1`);
  });

  it("plans an in-place change with the changed fields, and a breaking change as a new version", async () => {
    const p = newProject();
    const dir = await definitionsDir({ "groups.yaml": groupsYaml(p), "views.yaml": viewYaml(p) });
    expect((await fti(["apply", dir, ...flags()])).code).toBe(0);

    // In place: a new nullable feature, another description, online off.
    const inPlace = groupsYaml(p, "      - {name: channel, type: string}\n").replace("description: card transactions", "description: all card transactions").replace("online_enabled: true", "online_enabled: false");
    await writeFile(join(dir, "groups.yaml"), inPlace);
    const planned = await fti(["plan", dir, ...flags()]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(`~ update in place feature group projects/${p}/featureGroups/transactions/versions/1`);
    expect(planned.stdout).toContain('description: "card transactions" → "all card transactions"');
    expect(planned.stdout).toContain("online_enabled: true → false");
    expect(planned.stdout).toContain('schema: adds nullable feature "channel"');
    expect(planned.stdout).toContain(`= no change feature view projects/${p}/featureViews/fraud/versions/1`);
    expect(planned.stdout).toContain("Plan: 0 to create, 0 new versions, 1 to update in place, 3 unchanged.");
    const applied = await fti(["apply", dir, ...flags()]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`✓ updated projects/${p}/featureGroups/transactions/versions/1 (description, online_enabled, schema)`);
    expect((await fti(["plan", dir, ...flags(), "--detailed-exitcode"])).code).toBe(0);

    // Breaking: merchant_id becomes a string → version 2, and the view follows with a new version.
    await writeFile(join(dir, "groups.yaml"), inPlace.replace("{name: merchant_id, type: int64}\n      - {name: is_fraud", "{name: merchant_id, type: string}\n      - {name: is_fraud").replace("online_enabled: true", "online_enabled: false"));
    await writeFile(join(dir, "views.yaml"), viewYaml(p).replace("        on: [merchant_id]\n", "        on: [merchant_id]\n").replace("joins:\n      - feature_group: merchants\n        prefix: merchant_\n        on: [merchant_id]\n", "joins: []\n"));
    const breaking = await fti(["plan", dir, ...flags()]);
    expect(breaking.stdout).toContain(`± new version feature group projects/${p}/featureGroups/transactions/versions/2 (breaking change)`);
    expect(breaking.stdout).toContain('feature "merchant_id" changes type from int64 to string');
    expect(breaking.stdout).toContain(`± new version feature view projects/${p}/featureViews/fraud/versions/2`);
    expect(breaking.stdout).toContain(`root reads projects/${p}/featureGroups/transactions/versions/2 instead of projects/${p}/featureGroups/transactions/versions/1`);
    const json = await fti(["plan", dir, ...flags(), "--output", "json"]);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.summary).toEqual({ create: 0, newVersion: 2, update: 0, noChange: 2, skip: 0 });
    expect((await fti(["apply", dir, ...flags()])).code).toBe(0);
    expect((await fti(["plan", dir, ...flags(), "--detailed-exitcode"])).code).toBe(0);
  });

  it("says what a half-failed apply applied and what not; a re-run completes it", async () => {
    const p = newProject();
    // The registry (not the CLI) rejects this on-demand expression: the groups go in, the view fails.
    const dir = await definitionsDir({ "groups.yaml": groupsYaml(p), "views.yaml": viewYaml(p, "amount / no_such_column") });
    const failed = await fti(["apply", dir, ...flags()]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`✓ created projects/${p}/featureGroups/merchants/versions/1`);
    expect(failed.stdout).toContain(`✗ failed feature view projects/${p}/featureViews/fraud/versions/1`);
    expect(failed.stdout).toContain("Apply stopped: 3 applied, 1 failed, 0 not applied.");

    await writeFile(join(dir, "views.yaml"), viewYaml(p));
    const rerun = await fti(["apply", dir, ...flags()]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`= no change feature group projects/${p}/featureGroups/transactions/versions/1`);
    expect(rerun.stdout).toContain(`✓ created projects/${p}/featureViews/fraud/versions/1`);
    expect(rerun.stdout).toContain("Apply complete: 1 applied.");
  });

  it("plans monitors but skips them while the monitoring service is not reachable", async () => {
    const p = newProject();
    const dir = await definitionsDir({ "groups.yaml": groupsYaml(p), "views.yaml": viewYaml(p), "monitors.yaml": monitorYaml(p) });
    const planned = await fti(["plan", dir, ...flags()]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(`! skip monitor projects/${p}/monitors/fraud_drift`);
    expect(planned.stdout).toContain("monitoring service not reachable");
    const applied = await fti(["apply", dir, ...flags()]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`! skipped monitor projects/${p}/monitors/fraud_drift: monitoring service not reachable`);
    expect(applied.stdout).toContain("Apply complete: 4 applied, 1 skipped.");
  });

  it("exits 69 when the registry is not reachable", async () => {
    const dir = await definitionsDir({ "groups.yaml": groupsYaml(newProject()) });
    const r = await fti(["plan", dir, "--registry", closedPort, "--timeout", "5s"]);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("the registry service is not reachable at http://127.0.0.1:1");
  });
});
