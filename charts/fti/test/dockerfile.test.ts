// There is no Docker engine in CI, so the image is checked by structure: base
// images pinned, the runtime stage non-root, no dev dependencies installed in it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helm.js";

interface Stage {
  name: string;
  from: string;
  instructions: { op: string; args: string }[];
}

function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  // Join continuation lines, drop comments and blank lines.
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, rest] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (!op) continue;
    const upper = op.toUpperCase();
    if (upper === "FROM") {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest!.replace(/--platform=\S+\s+/, "")) ?? [];
      const resolved = image!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string, b: string) => args.get(a ?? b) ?? "");
      stages.push({ name: name ?? String(stages.length), from: resolved, instructions: [] });
    } else if (upper === "ARG" && stages.length === 0) {
      const [, key, value] = /^(\w+)(?:=(.*))?$/.exec(rest!) ?? [];
      if (key) args.set(key, value ?? "");
    } else {
      stages.at(-1)?.instructions.push({ op: upper, args: rest! });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
const stageNames = new Set(dockerfile.stages.map((s) => s.name));
const runtime = dockerfile.stages.at(-1)!;
const runs = (stage: Stage) => stage.instructions.filter((i) => i.op === "RUN").map((i) => i.args);

describe("Dockerfile", () => {
  it("is multi-stage: build, production dependencies, runtime", () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(["build", "prod-deps", "runtime"]);
  });

  it("pins every external base image to an exact version or a digest", () => {
    for (const stage of dockerfile.stages) {
      if (stageNames.has(stage.from)) continue;
      expect(stage.from, stage.name).toMatch(/(@sha256:[a-f0-9]{64}|:\d+\.\d+\.\d+[\w.-]*)$/);
      expect(stage.from, stage.name).not.toMatch(/:latest\b/);
    }
  });

  it("builds with onnxruntime's GPU download skipped and compiles with tsc -b", () => {
    const build = dockerfile.stages.find((s) => s.name === "build")!;
    expect(build.instructions.some((i) => i.op === "ENV" && /ONNXRUNTIME_NODE_INSTALL=skip/.test(i.args))).toBe(true);
    // npm install (lockfile-respecting): npm ci refuses a lockfile without other platforms' optional binaries.
    expect(runs(build).join(" ")).toMatch(/npm (ci|install)\b.*tsc -b/);
  });

  it("installs only production dependencies for the runtime", () => {
    for (const stage of dockerfile.stages.filter((s) => s.name !== "build")) {
      for (const run of runs(stage)) {
        for (const install of run.match(/npm (ci|install|i)\b[^&;]*/g) ?? []) {
          expect(install, `${stage.name}: ${install}`).toMatch(/--omit=dev|--production/);
        }
        expect(run, `${stage.name} does not compile`).not.toMatch(/\btsc\b/);
      }
    }
    expect(runs(runtime), "the runtime stage installs nothing itself").toEqual([]);
    // node_modules reach the runtime only from the production-dependencies stage.
    for (const copy of runtime.instructions.filter((i) => i.op === "COPY")) {
      const from = /--from=(\S+)/.exec(copy.args)?.[1];
      expect(from, copy.args).toBe("prod-deps");
    }
    const prodDeps = dockerfile.stages.find((s) => s.name === "prod-deps")!;
    expect(runs(prodDeps).join(" ")).toMatch(/npm (ci|install) --omit=dev/);
  });

  it("runs as a non-root user in the runtime stage", () => {
    const users = runtime.instructions.filter((i) => i.op === "USER").map((i) => i.args.split(":")[0]!);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!;
    expect(user).not.toMatch(/^(0|root)$/);
    // Numeric, so Kubernetes runAsNonRoot can verify it; the chart runs as the same uid.
    expect(user).toMatch(/^\d+$/);
    const values = readFileSync(join(repoRoot, "charts/fti/values.yaml"), "utf8");
    expect(values).toContain(`runAsUser: ${user}`);
  });

  it("picks the service by its command, defaulting to one that exists", () => {
    const cmd = runtime.instructions.filter((i) => i.op === "CMD").at(-1)?.args;
    expect(JSON.parse(cmd!)).toEqual(["node", "services/registry/dist/main.js"]);
  });

  it("keeps sources, tests and local state out of the build context", () => {
    const ignored = readFileSync(join(repoRoot, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
    for (const entry of ["**/node_modules", "**/dist", ".git", ".tmp"]) expect(ignored).toContain(entry);
  });
});
