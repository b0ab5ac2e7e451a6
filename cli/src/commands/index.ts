// Every command, in the order `fti help` lists them.
import type { Command } from "../command.js";
import { applyCommand } from "./apply.js";
import { datasetCommand } from "./dataset.js";
import { deployCommand, rollbackCommand } from "./deploy.js";
import { driftCommand } from "./drift.js";
import { ingestCommand } from "./ingest.js";
import { lineageCommand } from "./lineage.js";
import { planCommand } from "./plan.js";
import { describeCommand, getCommand, listCommand } from "./resources.js";
import { featuresCommand, predictCommand } from "./serving.js";
import { jobsCommand, trainCommand } from "./train.js";

export const commands: Command[] = [
  planCommand,
  applyCommand,
  getCommand,
  listCommand,
  describeCommand,
  lineageCommand,
  ingestCommand,
  datasetCommand,
  trainCommand,
  jobsCommand,
  deployCommand,
  rollbackCommand,
  featuresCommand,
  predictCommand,
  driftCommand,
];
