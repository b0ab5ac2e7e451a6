// fti deploy / fti rollback: change which model versions serve a deployment,
// as one new revision (UpgradeDeployment / RollbackDeployment).
import { toJson } from "@bufbuild/protobuf";
import { DeploymentSchema, type Deployment } from "@fti/proto/fti/registry/v1/deployment_pb";
import type { Command } from "../command.js";
import { str, strs } from "../command.js";
import type { Context } from "../client.js";
import { UsageError } from "../exit-codes.js";
import { resourceNames as n, versionedName } from "../names.js";
import { formatJson, formatTable } from "../output.js";
import { isNotFound, explainRpcError } from "../rpc-errors.js";

function deploymentName(ctx: Context, text: string): string {
  return text.startsWith("projects/") ? text : n.deployment(ctx.requireProject(), text);
}

/** A model version name, with "latest" resolved so the output says which version serves. */
async function modelVersion(ctx: Context, text: string): Promise<string> {
  const name = versionedName(text, ctx.requireProject, n.model);
  if (!name.endsWith("/versions/latest")) return name;
  return ctx.call("registry", async (c) => (await c.registry.getModel({ name })).model!.name, "fti list model");
}

function printDeployment(ctx: Context, d: Deployment, headline: string): void {
  if (ctx.format === "json") {
    ctx.io.stdout.write(formatJson(toJson(DeploymentSchema, d)));
    return;
  }
  ctx.io.stdout.write(`${headline}\n`);
  ctx.io.stdout.write(formatTable(["MODEL", "TRAFFIC", "FEATURE VIEW"], [...d.routes.map((r) => [r.model, `${r.weight}%`, r.featureView]), ...d.shadows.map((s) => [`${s.model} (shadow)`, `${s.samplePercent || 100}% mirrored`, s.featureView])]));
}

/** Weights of the new routes: the given ones, the rest of 100 shared by the current routes not named. */
function newRoutes(given: { model: string; weight: number }[], current: Deployment | undefined): { model: string; weight: number }[] {
  const total = given.reduce((s, r) => s + r.weight, 0);
  if (total > 100) throw new UsageError(`the weights sum to ${total}; they must not exceed 100`);
  if (total === 100) return given.filter((r) => r.weight > 0);
  const others = (current?.routes ?? []).filter((r) => !given.some((g) => g.model === r.model) && r.weight > 0);
  const otherTotal = others.reduce((s, r) => s + r.weight, 0);
  if (otherTotal === 0) throw new UsageError(`the weights sum to ${total} and no other model serves the deployment; give weights summing to 100`);
  const rest = 100 - total;
  let left = rest;
  const scaled = others.map((r, i) => {
    const w = i === others.length - 1 ? left : Math.round((r.weight * rest) / otherTotal);
    left -= w;
    return { model: r.model, weight: w };
  });
  return [...given, ...scaled].filter((r) => r.weight > 0);
}

export const deployCommand: Command = {
  name: "deploy",
  summary: "route a deployment's traffic to model versions (a new revision; creates the deployment if needed)",
  usage: "fti deploy <deployment> --model <model[@version]> [--weight N] [--model ... --weight ...] [--shadow <model[@version][:percent]>] [--clear-shadows] [--reason <text>]",
  help: "`--model scorer@3` sends all traffic to scorer v3. `--model scorer@3 --weight 10` is a canary: v3 gets 10% and the models serving now share the other 90%. Shadows are kept unless --shadow or --clear-shadows is given. Undo with `fti rollback`.",
  options: {
    model: { type: "string", multiple: true, description: "a model version to route to (repeatable; default version: latest)" },
    weight: { type: "string", multiple: true, description: "its traffic percentage, in --model order (default 100 for a single model)" },
    shadow: { type: "string", multiple: true, description: "a model version to mirror traffic to, optionally with :percent (repeatable)" },
    "clear-shadows": { type: "boolean", description: "remove every shadow" },
    reason: { type: "string", description: "why, recorded on the revision" },
  },
  async run(ctx, { positionals, values }) {
    if (!positionals[0]) throw new UsageError("which deployment? `fti deploy <deployment> --model <model>`");
    const models = strs(values.model);
    if (models.length === 0) throw new UsageError("which model? pass --model <model[@version]>");
    const weights = strs(values.weight).map((w) => {
      const x = Number(w);
      if (!Number.isInteger(x) || x < 0 || x > 100) throw new UsageError(`--weight ${w}: a weight is a whole percentage, 0..100`);
      return x;
    });
    if (weights.length === 0 && models.length > 1) throw new UsageError("several --model flags need a --weight each");
    if (weights.length && weights.length !== models.length) throw new UsageError(`${models.length} --model but ${weights.length} --weight; give one weight per model`);
    const name = deploymentName(ctx, positionals[0]);
    const given = [];
    for (const [i, m] of models.entries()) given.push({ model: await modelVersion(ctx, m), weight: weights[i] ?? 100 });
    let current: Deployment | undefined;
    try {
      current = (await ctx.client.registry.getDeployment({ name })).deployment;
    } catch (err) {
      if (!isNotFound(err)) throw explainRpcError(err, ctx.callContext("registry"));
    }
    const routes = newRoutes(given, current);
    const shadows = [];
    for (const s of strs(values.shadow)) {
      const m = /^(.+?)(?::(\d+))?$/.exec(s)!;
      shadows.push({ model: await modelVersion(ctx, m[1]!), samplePercent: m[2] ? Number(m[2]) : 100 });
    }
    const keepShadows = shadows.length === 0 && !values["clear-shadows"] ? (current?.shadows ?? []).map((s) => ({ model: s.model, samplePercent: s.samplePercent })) : shadows;
    const reason = str(values.reason) ?? `fti deploy ${models.join(" ")}`;
    if (!current) {
      const parts = name.split("/");
      const created = await ctx.call("registry", async (c) => (await c.registry.createDeployment({ parent: n.project(parts[1]!), deploymentId: parts[3]!, deployment: { routes, shadows: keepShadows }, reason })).deployment!);
      printDeployment(ctx, created, `created deployment ${created.name} at revision ${created.revision}`);
      return 0;
    }
    const upgraded = await ctx.call("registry", async (c) => (await c.registry.upgradeDeployment({ name, routes, shadows: keepShadows, reason, etag: current.etag })).deployment!);
    printDeployment(ctx, upgraded, `deployment ${upgraded.name}: revision ${current.revision} → ${upgraded.revision} (undo: fti rollback ${positionals[0]})`);
    return 0;
  },
};

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "restore a deployment's previous (or a given) revision, as a new revision",
  usage: "fti rollback <deployment> [--to-revision N] [--reason <text>]",
  options: {
    "to-revision": { type: "string", description: "the revision to restore (default: the one before the current)" },
    reason: { type: "string", description: "why, recorded on the revision" },
  },
  async run(ctx, { positionals, values }) {
    if (!positionals[0]) throw new UsageError("which deployment? `fti rollback <deployment>`");
    const to = str(values["to-revision"]);
    if (to !== undefined && !/^[1-9]\d*$/.test(to)) throw new UsageError("--to-revision must be a revision number (see `fti describe deployment <name>`)");
    const name = deploymentName(ctx, positionals[0]);
    const before = await ctx.call("registry", async (c) => (await c.registry.getDeployment({ name })).deployment!, "fti list deployment");
    const d = await ctx.call("registry", async (c) => (await c.registry.rollbackDeployment({ name, revision: BigInt(to ?? 0), reason: str(values.reason) ?? "fti rollback", etag: before.etag })).deployment!);
    printDeployment(ctx, d, `deployment ${d.name}: rolled back to the routes of revision ${to ?? Number(before.revision) - 1}, now revision ${d.revision}`);
    return 0;
  },
};
