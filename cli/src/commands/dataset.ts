// fti dataset create <feature-view>: a point-in-time-correct training dataset,
// built by offline-query as a job this command polls with a progress bar.
import { toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TrainingDatasetJobSchema } from "@fti/proto/fti/offline/v1/offline_pb";
import { randomUUID } from "node:crypto";
import type { Command } from "../command.js";
import { str } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { resourceNames as n, versionedName } from "../names.js";
import { formatFields, formatJson, ProgressBar } from "../output.js";
import { isFinal, jobExitCode, jobStateNames, parseTime } from "./jobs-common.js";

/** "train=0.8,test=0.2" → fractions. */
function parseSplit(text: string): { name: string; fraction: number }[] {
  const parts = text.split(",").map((p) => {
    const [name, f] = p.split("=");
    const fraction = Number(f);
    if (!name || !(fraction > 0 && fraction <= 1)) throw new UsageError(`--split "${text}": use name=fraction pairs, e.g. train=0.8,test=0.2`);
    return { name, fraction };
  });
  const sum = parts.reduce((s, p) => s + p.fraction, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new UsageError(`--split fractions sum to ${sum}; they must sum to 1`);
  return parts;
}

export const datasetCommand: Command = {
  name: "dataset",
  summary: "create a training dataset of a feature view (follows the job with a progress bar)",
  usage: "fti dataset create <feature-view[@version]> [--start <time>] [--end <time>] [--split train=0.8,test=0.2] [--seed N] [--description <text>] [--no-wait]",
  options: {
    start: { type: "string", description: "label rows with event time >= this (ISO 8601)" },
    end: { type: "string", description: "label rows with event time < this (ISO 8601)" },
    split: { type: "string", description: "random split, e.g. train=0.8,test=0.2 (default: one split, train)" },
    seed: { type: "string", description: "seed of the random split (default 0)" },
    description: { type: "string", description: "free text" },
    "no-wait": { type: "boolean", description: "print the job and return without waiting" },
  },
  async run(ctx, { positionals, values }) {
    if (positionals[0] !== "create" || !positionals[1]) throw new UsageError("`fti dataset create <feature-view[@version]>`");
    let start: Date | undefined, end: Date | undefined;
    try {
      start = parseTime(str(values.start), "--start");
      end = parseTime(str(values.end), "--end");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const seed = str(values.seed) ?? "0";
    if (!/^-?\d+$/.test(seed)) throw new UsageError("--seed must be a whole number");
    const view = versionedName(positionals[1], ctx.requireProject, n.featureView);
    const parent = view.endsWith("/versions/latest") ? await ctx.call("registry", async (c) => (await c.registry.getFeatureView({ name: view })).featureView!.name, "fti list feature-view") : view;
    const split = str(values.split);
    let job = (
      await ctx.call("offline-query", (c) =>
        c.offline.createTrainingDataset({
          parent,
          requestId: randomUUID(),
          trainingDataset: {
            description: str(values.description) ?? "",
            rows: { case: "eventTimeRange", value: { startTime: start && timestampFromDate(start), endTime: end && timestampFromDate(end) } },
            split: split ? { kind: { case: "random", value: { fractions: parseSplit(split), seed: BigInt(seed) } } } : undefined,
          },
        }),
      )
    ).job!;
    if (!values["no-wait"]) {
      const bar = new ProgressBar(ctx.io.stderr, `building ${job.trainingDataset}`);
      while (!isFinal(job.state)) {
        bar.update(job.progressPercent / 100, `${jobStateNames[job.state] ?? ""} ${job.rowsDone}${job.rowsTotal ? `/${job.rowsTotal}` : ""} rows`);
        await new Promise((r) => setTimeout(r, 500));
        const name = job.name;
        job = (await ctx.call("offline-query", (c) => c.offline.getTrainingDatasetJob({ name }))).job!;
      }
      bar.clear();
    }
    if (ctx.format === "json") ctx.io.stdout.write(formatJson(toJson(TrainingDatasetJobSchema, job)));
    else
      ctx.io.stdout.write(
        formatFields([
          ["training dataset", job.trainingDataset],
          ["job", job.name],
          ["state", jobStateNames[job.state] ?? "?"],
          ["rows", String(job.rowsDone)],
          ...(job.failureReason ? [["failure", job.failureReason] as [string, string]] : []),
        ]),
      );
    return values["no-wait"] ? 0 : jobExitCode(job.state);
  },
};
