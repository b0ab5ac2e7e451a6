// What a run of the example does: its size, seed, drift and project.
import type { GeneratorOptions } from "./generator.js";

export type Size = "small" | "default" | "large";

export const sizes: Record<Size, Pick<GeneratorOptions, "cards" | "merchants" | "txPerCardPerDay">> = {
  // The CI test: about 6k history and 2.5k live transactions.
  small: { cards: 200, merchants: 50, txPerCardPerDay: 4 },
  // make demo: about 30k history and 13k live transactions.
  default: { cards: 1_000, merchants: 150, txPerCardPerDay: 4 },
  large: { cards: 5_000, merchants: 400, txPerCardPerDay: 4 },
};

export interface ExampleSettings {
  size: Size;
  seed: number;
  /** Inject drift into the last live days (and so exercise drift → retraining → upgrade → rollback). */
  drift: boolean;
  /** The project every resource lives in; a fresh one per run by default. */
  project: string;
  /** Online Predict calls made to measure latency. */
  predictCalls: number;
  /** Run the Python (grpcio) client. */
  python: boolean;
  /** Where batch predictions (Parquet) are written. */
  outputDir: string;
}

export const timeline = {
  /** Day 0 of the history, a fixed date so the data is the same on every run. */
  start: new Date("2025-03-03T00:00:00Z"),
  warmupDays: 2,
  historyDays: 7,
  /** Live days streamed after training: one normal, then the drifted ones. */
  liveDays: 3,
  driftDays: 2,
};

export function freshProjectName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `fraud_${stamp}_${Math.random().toString(36).slice(2, 6)}`;
}

/** Settings from the environment: FRAUD_SIZE, FRAUD_SEED, FRAUD_DRIFT, FRAUD_PROJECT, FRAUD_PREDICT_CALLS, FRAUD_PYTHON, FRAUD_OUTPUT_DIR. */
export function settingsFromEnv(env: Record<string, string | undefined> = process.env): ExampleSettings {
  const size = (env.FRAUD_SIZE ?? "default") as Size;
  if (!(size in sizes)) throw new Error(`FRAUD_SIZE must be one of ${Object.keys(sizes).join(", ")}, not "${size}"`);
  const seed = Number(env.FRAUD_SEED ?? 42);
  if (!Number.isInteger(seed)) throw new Error(`FRAUD_SEED must be an integer, not "${env.FRAUD_SEED}"`);
  const project = env.FRAUD_PROJECT ?? freshProjectName();
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(project)) throw new Error(`FRAUD_PROJECT must be lowercase letters, digits and _ (starting with a letter), not "${project}"`);
  return {
    size,
    seed,
    drift: !/^(0|false|no|off)$/i.test(env.FRAUD_DRIFT ?? "true"),
    project,
    predictCalls: Number(env.FRAUD_PREDICT_CALLS ?? (size === "small" ? 200 : 1_000)),
    python: !/^(0|false|no|off)$/i.test(env.FRAUD_PYTHON ?? "true"),
    outputDir: env.FRAUD_OUTPUT_DIR ?? ".run/fraud",
  };
}
