// The fraud example's entry point: runs every pipeline against a running
// platform and prints the summary.
//
//   node examples/fraud/dist/main.js [--size small|default|large] [--seed N] [--no-drift] [--project p] [--json]
//
// Services: default ports on 127.0.0.1, or FTI_HOST / FTI_<SERVICE>_URL (as for the CLI);
// NATS: FTI_NATS_URL and FTI_NATS_SUBJECT_PREFIX. Settings: FRAUD_SIZE, FRAUD_SEED,
// FRAUD_DRIFT, FRAUD_PROJECT, FRAUD_PREDICT_CALLS, FRAUD_PYTHON, FRAUD_OUTPUT_DIR.
import { parseArgs } from "node:util";
import { settingsFromEnv } from "./config.js";
import { platformOptionsFromEnv } from "./platform.js";
import { formatSummary, runTimed } from "./run.js";

export { run, runTimed, formatSummary, type Summary, type RunOptions } from "./run.js";
export { settingsFromEnv } from "./config.js";

async function cli(): Promise<number> {
  const { values } = parseArgs({
    options: {
      size: { type: "string" },
      seed: { type: "string" },
      project: { type: "string" },
      "no-drift": { type: "boolean" },
      "no-python": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write("usage: fraud-example [--size small|default|large] [--seed N] [--project name] [--no-drift] [--no-python] [--json]\n");
    return 0;
  }
  const env = { ...process.env };
  if (values.size) env.FRAUD_SIZE = values.size;
  if (values.seed) env.FRAUD_SEED = values.seed;
  if (values.project) env.FRAUD_PROJECT = values.project;
  if (values["no-drift"]) env.FRAUD_DRIFT = "false";
  if (values["no-python"]) env.FRAUD_PYTHON = "false";
  const settings = settingsFromEnv(env);
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
  const summary = await runTimed({ ...settings, platform: platformOptionsFromEnv(env), log });
  process.stdout.write(values.json ? `${JSON.stringify(summary, (_, v) => (typeof v === "bigint" ? Number(v) : v), 2)}\n` : formatSummary(summary));
  return summary.problems.length ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`\nThe fraud example stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
