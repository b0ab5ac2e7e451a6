// fti drift <monitor>: the monitor's drift report, per window and feature,
// plus its firing alerts.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Alert_State, DriftMetric, DriftStatus } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import type { Command } from "../command.js";
import { str } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { resourceNames as n } from "../names.js";
import { formatJson, formatTable } from "../output.js";
import { parseTime } from "./jobs-common.js";
import { time } from "./resource-kinds.js";

const statusNames: Record<number, string> = { [DriftStatus.OK]: "ok", [DriftStatus.DRIFT]: "DRIFT", [DriftStatus.INSUFFICIENT_DATA]: "insufficient data" };

export const driftCommand: Command = {
  name: "drift",
  summary: "show a monitor's drift report (per window and feature) and its firing alerts",
  usage: "fti drift <monitor> [--start <time>] [--end <time>]",
  options: {
    start: { type: "string", description: "windows from this time (default: the latest complete window)" },
    end: { type: "string", description: "windows until this time" },
  },
  async run(ctx, { positionals, values }) {
    if (!positionals[0]) throw new UsageError("which monitor? `fti drift <monitor>`");
    let start: Date | undefined, end: Date | undefined;
    try {
      start = parseTime(str(values.start), "--start");
      end = parseTime(str(values.end), "--end");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const monitor = positionals[0].startsWith("projects/") ? positionals[0] : n.monitor(ctx.requireProject(), positionals[0]);
    const report = await ctx.call("monitoring", (c) => c.monitoring.getDriftReport({ monitor, timeRange: start || end ? { startTime: start && timestampFromDate(start), endTime: end && timestampFromDate(end) } : undefined }));
    const alerts = (await ctx.call("monitoring", (c) => c.monitoring.listAlerts({ parent: monitor, filter: 'state = "FIRING"' }))).alerts;
    const rows = report.windows.flatMap((w) =>
      w.features.flatMap((f) =>
        f.scores.map((s) => ({ window: `${time(w.window?.startTime)}/${time(w.window?.endTime)}`, model: w.model, feature: f.feature, metric: DriftMetric[s.metric] ?? "?", value: s.value, threshold: s.threshold, status: statusNames[f.status] ?? "?", exceeded: s.exceeded })),
      ),
    );
    if (ctx.format === "json") {
      ctx.io.stdout.write(formatJson({ reference: report.reference, scores: rows, firingAlerts: alerts.map((a) => ({ name: a.name, feature: a.feature, model: a.model, raised: time(a.raiseTime) })) }));
      return 0;
    }
    ctx.io.stdout.write(`reference: ${report.reference}\n`);
    ctx.io.stdout.write(rows.length ? formatTable(["WINDOW", "FEATURE", "METRIC", "VALUE", "THRESHOLD", "STATUS"], rows.map((r) => [r.window, r.feature, r.metric, r.value === undefined ? "-" : r.value.toFixed(4), String(r.threshold), r.exceeded ? "DRIFT" : r.status])) : "no complete window yet\n");
    ctx.io.stdout.write(alerts.length ? `\n${alerts.length} firing alert${alerts.length > 1 ? "s" : ""}:\n${formatTable(["ALERT", "FEATURE", "RAISED"], alerts.filter((a) => a.state === Alert_State.FIRING).map((a) => [a.name, a.feature, time(a.raiseTime)]))}` : "\nno firing alerts\n");
    return 0;
  },
};
