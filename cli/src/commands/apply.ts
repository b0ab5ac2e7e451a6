// fti apply: make the platform match the definitions. Idempotent: a second
// run plans no changes.
import type { Command } from "../command.js";
import { applyChanges, applyJson, formatApply } from "../declarative/apply.js";
import { loadDefinitions } from "../declarative/load.js";
import { plan } from "../declarative/plan.js";
import { formatPlan, hasChanges, summaryLine } from "../declarative/report.js";
import { exitCodes, UsageError } from "../exit-codes.js";
import { formatJson } from "../output.js";

export const applyCommand: Command = {
  name: "apply",
  summary: "create, version and update resources so the platform matches the definitions",
  usage: "fti apply <dir|file>...",
  help: "Plans like `fti plan`, prints the plan, then applies it in order: projects, feature groups (CreateFeatureGroup, CreateFeatureGroupVersion for breaking changes, UpdateFeatureGroup with an update mask and etag otherwise), feature views, deployments, monitors. Monitors are skipped, not failed, while the monitoring service is not reachable. If a step fails, apply stops and lists what was applied and what was not; run it again to complete it.",
  options: {},
  async run(ctx, { positionals }) {
    if (positionals.length === 0) throw new UsageError("which definitions? `fti apply <dir|file>...`");
    const defs = await loadDefinitions(positionals, ctx.project);
    const changes = await plan(ctx, defs);
    const json = ctx.format === "json";
    if (!hasChanges(changes) && !changes.some((c) => c.action === "skip")) {
      ctx.io.stdout.write(json ? formatJson({ applied: [], skipped: [], failed: null, notApplied: [] }) : `${summaryLine(changes)}\n`);
      return exitCodes.ok;
    }
    if (!json) ctx.io.stdout.write(`${formatPlan(changes)}\nApplying:\n`);
    const result = await applyChanges(ctx, changes);
    ctx.io.stdout.write(json ? formatJson(applyJson(result)) : formatApply(result));
    return result.failed ? result.failed.error.exitCode : exitCodes.ok;
  },
};
