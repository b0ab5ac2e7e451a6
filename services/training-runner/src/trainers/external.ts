// Runs a user's trainer as a local process. It gets the dataset through
// environment variables (documented on ExternalTrainer in training.proto), and
// must leave model.onnx (and may leave metrics.json) in FTI_OUTPUT_DIR. The
// CSV splits (FTI_SPLIT_<NAME>_CSV) hold the features after the dataset's
// fitted transformations, as online serving feeds them to the model; the
// Parquet files (FTI_SPLIT_<NAME>) are the stored, untransformed values, and a
// trainer reading them must apply FTI_FITTED_TRANSFORMATIONS itself. Only a
// few variables of our own environment are passed on, so the runner's secrets
// (database URL) never reach user code. Cancelling kills the process.
import { spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { toJson } from "@bufbuild/protobuf";
import type { ExternalTrainer } from "@fti/proto/fti/training/v1/training_pb";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { FittedTransformationSchema } from "@fti/proto/fti/registry/v1/transformations_pb";
import { JobFailure, splitPaths, writeSplitCsv } from "../dataset.js";
import type { DatasetTransformations } from "../transformations.js";

export interface ExternalRun {
  trainer: ExternalTrainer;
  dataset: TrainingDataset;
  /** The dataset's fitted transformations: the CSV splits hold transformed features. */
  transformations?: DatasetTransformations;
  label: string;
  features: string[];
  /** A fresh directory for this job. */
  workDir: string;
  signal: AbortSignal;
  log(text: string): void;
}

export interface ExternalResult {
  modelBytes: Uint8Array;
  metrics: Record<string, number>;
}

const PASSED_THROUGH = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "SYSTEMROOT"];
const KILL_GRACE_MS = 2_000;

export async function runExternalTrainer(run: ExternalRun): Promise<ExternalResult> {
  const outputDir = join(run.workDir, "output");
  const inputDir = join(run.workDir, "input");
  await mkdir(outputDir, { recursive: true });
  await mkdir(inputDir, { recursive: true });

  const env: Record<string, string> = {};
  for (const key of PASSED_THROUGH) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  Object.assign(env, run.trainer.env, {
    FTI_TRAINING_DATASET: run.dataset.name,
    FTI_FITTED_TRANSFORMATIONS: JSON.stringify(run.dataset.fittedTransformations.map((t) => toJson(FittedTransformationSchema, t))),
    FTI_LABEL: run.label,
    FTI_FEATURES: run.features.join(","),
    FTI_PARAMETERS: JSON.stringify(run.trainer.parameters ?? {}),
    FTI_OUTPUT_DIR: outputDir,
  });
  for (const split of run.dataset.splits) {
    const key = `FTI_SPLIT_${split.name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
    env[key] = split.files.join(",");
    const csv = join(inputDir, `${split.name}.csv`);
    await writeSplitCsv(splitPaths(run.dataset, split.name), [run.label, ...run.features], csv, run.transformations);
    env[`${key}_CSV`] = csv;
  }

  const [program, ...args] = run.trainer.command;
  run.log(`running ${run.trainer.command.join(" ")}`);
  const child = spawn(program!, args, { env, cwd: run.workDir, stdio: ["ignore", "pipe", "pipe"] });
  const lastLines: string[] = [];
  const onLine = (line: string) => {
    run.log(line);
    lastLines.push(line);
    if (lastLines.length > 5) lastLines.shift();
  };
  createInterface({ input: child.stdout! }).on("line", onLine);
  createInterface({ input: child.stderr! }).on("line", onLine);

  const stop = () => {
    child.kill("SIGTERM");
    setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), KILL_GRACE_MS).unref();
  };
  run.signal.addEventListener("abort", stop, { once: true });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  run.signal.removeEventListener("abort", stop);
  run.signal.throwIfAborted();
  const tail = lastLines.length ? `; last output: ${lastLines.join(" | ")}` : "";
  if (exit.error) throw new JobFailure(`cannot start the trainer command "${program}": ${exit.error.message}`);
  if (exit.code !== 0) throw new JobFailure(`the trainer command exited with ${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`}${tail}`);

  let modelBytes: Uint8Array;
  try {
    modelBytes = new Uint8Array(await readFile(join(outputDir, "model.onnx")));
  } catch {
    throw new JobFailure(`the trainer command exited 0 but left no model.onnx in FTI_OUTPUT_DIR${tail}`);
  }
  let metrics: Record<string, number> = {};
  try {
    const parsed = JSON.parse(await readFile(join(outputDir, "metrics.json"), "utf8")) as unknown;
    if (parsed && typeof parsed === "object")
      metrics = Object.fromEntries(Object.entries(parsed).filter(([, value]) => typeof value === "number" && Number.isFinite(value))) as Record<string, number>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") run.log(`metrics.json ignored: ${(err as Error).message}`);
  }
  return { modelBytes, metrics };
}
