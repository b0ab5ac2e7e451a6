// fti plan: what apply would change, like `terraform plan`.
import type { Command } from "../command.js";
import { loadDefinitions } from "../declarative/load.js";
import { plan } from "../declarative/plan.js";
import { formatPlan, hasChanges, planJson } from "../declarative/report.js";
import { exitCodes, UsageError } from "../exit-codes.js";
import { formatJson } from "../output.js";

export const planCommand: Command = {
  name: "plan",
  summary: "show what `fti apply` would change (create / new version / update in place / no change)",
  usage: "fti plan <dir|file>... [--detailed-exitcode]",
  help: "Reads the YAML definitions (every *.yaml / *.yml under each directory), checks them without contacting any service, then compares them with the registry (and the monitoring service) and prints the changes. See cli/README.md for the format.",
  options: {
    "detailed-exitcode": { type: "boolean", description: "exit 3 when there are changes, 0 when none (for CI)" },
  },
  async run(ctx, { positionals, values }) {
    if (positionals.length === 0) throw new UsageError("which definitions? `fti plan <dir|file>...`");
    const defs = await loadDefinitions(positionals, ctx.project);
    const changes = await plan(ctx, defs);
    ctx.io.stdout.write(ctx.format === "json" ? formatJson(planJson(changes)) : formatPlan(changes));
    return values["detailed-exitcode"] && hasChanges(changes) ? exitCodes.planHasChanges : exitCodes.ok;
  },
};
