// Help, usage errors, and the commands whose services may not run: each
// answers with a clear message and exit code 69 (EX_UNAVAILABLE).
import { describe, expect, it } from "vitest";
import { closedPort, fti } from "./run.js";

const down = ["--project", "fraud", "--host", "127.0.0.1", ...["registry", "ingestion", "offline-query", "online-serving", "training-runner", "monitoring"].flatMap((s) => [`--${s}`, closedPort])];

describe("help", () => {
  it("lists every command and the exit codes", async () => {
    const r = await fti(["help"]);
    expect(r.code).toBe(0);
    for (const c of ["plan", "apply", "get", "list", "describe", "lineage", "ingest", "dataset", "train", "jobs", "deploy", "rollback", "features", "predict", "drift"]) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\s`, "m"));
    expect(r.stdout).toContain("69 a service is unavailable");
    expect((await fti([])).stdout).toBe(r.stdout);
  });

  it("shows a command's flags with --help or `fti help <command>`", async () => {
    const r = await fti(["deploy", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: fti deploy <deployment> --model");
    expect(r.stdout).toContain("--weight <value>");
    expect((await fti(["help", "deploy"])).stdout).toBe(r.stdout);
    expect((await fti(["help", "nope"])).code).toBe(2);
  });
});

describe("services that are not reachable", () => {
  const cases: [string, string[], string][] = [
    ["train", ["train", "--model", "scorer", "--label", "is_fraud", "--feature-view", "fraud@1"], "training-runner"],
    ["jobs", ["jobs"], "training-runner"],
    ["dataset create", ["dataset", "create", "fraud@1", "--split", "train=0.8,test=0.2"], "offline-query"],
    ["drift", ["drift", "fraud_drift"], "monitoring"],
    ["features get", ["features", "get", "fraud@1", "--entity", "account_id=a1"], "registry"],
    ["predict", ["predict", "scoring", "--entity", "account_id=a1"], "registry"],
  ];
  for (const [name, args, service] of cases) {
    it(`${name} exits 69 naming the ${service} service`, async () => {
      const r = await fti([...args, ...down, "--timeout", "5s"]);
      expect(r.code).toBe(69);
      expect(r.stderr).toContain(`the ${service} service is not reachable at http://127.0.0.1:1`);
    });
  }

  it("checks arguments before calling a service (exit 2)", async () => {
    expect((await fti(["dataset", "create", "fraud@1", "--split", "train=0.8,test=0.3", ...down])).stderr).toContain("fractions sum to 1.1");
    expect((await fti(["train", "--model", "m", "--label", "y", ...down])).stderr).toContain("pass one of --feature-view or --training-dataset");
    expect((await fti(["deploy", "scoring", "--model", "a", "--model", "b", ...down])).code).toBe(2);
    expect((await fti(["rollback", "scoring", "--to-revision", "x", ...down])).code).toBe(2);
    expect((await fti(["ingest", "txns", ...down])).code).toBe(2);
  });
});
