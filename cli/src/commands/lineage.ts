// fti lineage <name>: what a resource is built from and what uses it, drawn
// as trees.
import { LineageDirection, ResourceKind as Kind, type GetLineageResponse } from "@fti/proto/fti/registry/v1/registry_pb";
import type { Command } from "../command.js";
import { str } from "../command.js";
import type { Context } from "../client.js";
import { CliError, UsageError } from "../exit-codes.js";
import { formatJson } from "../output.js";
import { isNotFound, explainRpcError } from "../rpc-errors.js";
import { findKind } from "./resource-kinds.js";

const kindNames: Record<number, string> = {
  [Kind.PROJECT]: "project",
  [Kind.FEATURE_GROUP]: "feature group",
  [Kind.FEATURE_VIEW]: "feature view",
  [Kind.TRAINING_DATASET]: "training dataset",
  [Kind.MODEL]: "model",
  [Kind.DEPLOYMENT]: "deployment",
};

/** Short names are tried as these kinds, in this order, when --kind is not given. */
const guessOrder = ["deployment", "model", "feature-view", "feature-group"];

/** Fetches a resource of one kind by full name; undefined when it does not exist. */
const fetchers: Record<string, (ctx: Context, name: string) => Promise<{ name: string }>> = {
  deployment: async (ctx, name) => (await ctx.client.registry.getDeployment({ name })).deployment!,
  model: async (ctx, name) => (await ctx.client.registry.getModel({ name })).model!,
  "feature-view": async (ctx, name) => (await ctx.client.registry.getFeatureView({ name })).featureView!,
  "feature-group": async (ctx, name) => (await ctx.client.registry.getFeatureGroup({ name })).featureGroup!,
  "training-dataset": async (ctx, name) => (await ctx.client.registry.getTrainingDataset({ name })).trainingDataset!,
};

async function resolveName(ctx: Context, text: string, kindText: string | undefined): Promise<string> {
  if (text.startsWith("projects/")) return text;
  const kinds = kindText ? [findKind(kindText).kind] : guessOrder;
  const found: string[] = [];
  for (const k of kinds) {
    const fetch = fetchers[k];
    if (!fetch) throw new UsageError(`lineage of a ${k} needs its full name`);
    try {
      found.push((await fetch(ctx, findKind(k).name(ctx, text))).name);
    } catch (err) {
      if (!isNotFound(err)) throw explainRpcError(err, ctx.callContext("registry"));
    }
  }
  if (found.length === 0) throw new CliError(`no ${kindText ?? "deployment, model, feature view or feature group"} is named "${text}" in project ${ctx.project}; \`fti list <kind>\` shows what exists`);
  if (found.length > 1) throw new UsageError(`"${text}" names several resources (${found.join(", ")}); pass --kind or the full name`);
  return found[0]!;
}

/** The tree under `root`, following `next`, with box-drawing characters. */
export function drawTree(root: string, next: (name: string) => string[], label: (name: string) => string): string[] {
  const lines: string[] = [];
  const walk = (name: string, prefix: string, path: Set<string>) => {
    const children = next(name);
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      const cycle = path.has(child);
      lines.push(`${prefix}${last ? "└── " : "├── "}${label(child)}${cycle ? " (cycle)" : ""}`);
      if (!cycle) walk(child, prefix + (last ? "    " : "│   "), new Set([...path, child]));
    });
  };
  lines.push(label(root));
  walk(root, "", new Set([root]));
  return lines;
}

export function formatLineage(name: string, graph: GetLineageResponse): string {
  const kinds = new Map(graph.nodes.map((n) => [n.name, kindNames[n.kind] ?? "resource"]));
  const label = (n: string) => `${n} (${kinds.get(n) ?? "resource"})`;
  const upstream = (n: string) => graph.edges.filter((e) => e.downstream === n).map((e) => e.upstream).sort();
  const downstream = (n: string) => graph.edges.filter((e) => e.upstream === n).map((e) => e.downstream).sort();
  const up = drawTree(name, upstream, label).slice(1);
  const down = drawTree(name, downstream, label).slice(1);
  const section = (title: string, lines: string[], last: boolean) => [`${last ? "└── " : "├── "}${title}`, ...(lines.length ? lines : ["└── (none)"]).map((l) => `${last ? "    " : "│   "}${l}`)];
  return [label(name), ...section("built from (upstream)", up, false), ...section("used by (downstream)", down, true)].join("\n") + "\n";
}

export const lineageCommand: Command = {
  name: "lineage",
  summary: "draw what a resource is built from and what uses it, as trees",
  usage: "fti lineage <name> [--kind <kind>] [--direction up|down|both] [--depth N]",
  help: "The name is a full resource name or a short one (tried as deployment, model, feature view, feature group; --kind picks one).",
  options: {
    kind: { type: "string", description: "the kind of a short name: feature-group, feature-view, training-dataset, model, deployment" },
    direction: { type: "string", description: "up (sources), down (consumers) or both (default)" },
    depth: { type: "string", description: "at most this many edges away (default: unlimited)" },
  },
  async run(ctx, { positionals, values }) {
    if (!positionals[0]) throw new UsageError("which resource? `fti lineage <name>`");
    const direction = { up: LineageDirection.UPSTREAM, down: LineageDirection.DOWNSTREAM, both: LineageDirection.BOTH }[str(values.direction) ?? "both"];
    if (direction === undefined) throw new UsageError("--direction must be up, down or both");
    const depth = Number(str(values.depth) ?? 0);
    if (!Number.isInteger(depth) || depth < 0) throw new UsageError("--depth must be a whole number");
    const name = await resolveName(ctx, positionals[0], str(values.kind));
    const graph = await ctx.call("registry", (c) => c.registry.getLineage({ name, direction, maxDepth: depth }));
    if (ctx.format === "json") {
      ctx.io.stdout.write(formatJson({ name, nodes: graph.nodes.map((n) => ({ name: n.name, kind: kindNames[n.kind] })), edges: graph.edges.map((e) => ({ upstream: e.upstream, downstream: e.downstream })) }));
    } else ctx.io.stdout.write(formatLineage(name, graph));
    return 0;
  },
};
