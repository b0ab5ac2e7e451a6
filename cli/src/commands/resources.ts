// fti get | list | describe <kind> [name]
import type { Command } from "../command.js";
import { str } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { formatJson, formatTable } from "../output.js";
import { findKind, resourceKinds, toJsonValue } from "./resource-kinds.js";

const kindsHelp = `Kinds: ${resourceKinds.map((k) => k.kind).join(", ")}. Names: "transactions" (latest version), "transactions@2", or a full resource name; training datasets are <view>[@<version>]/<n>.`;

export const listCommand: Command = {
  name: "list",
  summary: "list the resources of a kind in the project",
  usage: "fti list <kind> [--feature-view <view>]",
  help: kindsHelp,
  options: { "feature-view": { type: "string", description: "training datasets: the feature view (version) they belong to" } },
  async run(ctx, { positionals, values }) {
    const kind = findKind(positionals[0]);
    const items = await kind.list(ctx, { featureView: str(values["feature-view"]) });
    if (ctx.format === "json") ctx.io.stdout.write(formatJson(items.map((m) => toJsonValue(kind, m))));
    else ctx.io.stdout.write(items.length ? formatTable(kind.headers, items.map((m) => kind.row(m))) : `No ${kind.kind}s${kind.kind === "project" ? "" : ` in project ${ctx.project}`}.\n`);
    return 0;
  },
};

export const getCommand: Command = {
  name: "get",
  summary: "show one resource as a table row (or JSON)",
  usage: "fti get <kind> <name>",
  help: kindsHelp,
  options: {},
  async run(ctx, { positionals }) {
    const kind = findKind(positionals[0]);
    if (!positionals[1]) throw new UsageError(`which ${kind.kind}? \`fti get ${kind.kind} <name>\``);
    const m = await kind.get(ctx, kind.name(ctx, positionals[1]));
    ctx.io.stdout.write(ctx.format === "json" ? formatJson(toJsonValue(kind, m)) : formatTable(kind.headers, [kind.row(m)]));
    return 0;
  },
};

export const describeCommand: Command = {
  name: "describe",
  summary: "show one resource in detail (schema, routes, revisions, splits, ...)",
  usage: "fti describe <kind> <name>",
  help: kindsHelp,
  options: {},
  async run(ctx, { positionals }) {
    const kind = findKind(positionals[0]);
    if (!positionals[1]) throw new UsageError(`which ${kind.kind}? \`fti describe ${kind.kind} <name>\``);
    const m = await kind.get(ctx, kind.name(ctx, positionals[1]));
    ctx.io.stdout.write(ctx.format === "json" ? formatJson(toJsonValue(kind, m)) : await kind.describe(ctx, m));
    return 0;
  },
};
