// The registry's logic as one object: every operation the RegistryService
// exposes, built from its dependencies so tests can call it directly.
import type { Pool } from "@fti/db";
import type { Logger } from "@fti/logger";
import { deploymentOperations } from "./deployments.js";
import { featureGroupOperations } from "./feature-groups.js";
import { featureViewOperations } from "./feature-views.js";
import { lineageOperations } from "./lineage.js";
import { modelOperations } from "./models.js";
import type { EventSettings } from "./outbox.js";
import { projectOperations } from "./projects.js";
import type { RegistryContext } from "./resources.js";
import { searchOperations } from "./search.js";
import { trainingDatasetOperations } from "./training-datasets.js";

export interface RegistryOptions {
  pool: Pool;
  logger: Logger;
  /** Where events go; the relay publishes what the operations queue. */
  events?: Partial<EventSettings>;
  /** Root of the offline store; feature group versions get their table URI under it. */
  offlineRoot?: string;
  /** Called after each committed change (the outbox relay's notify). */
  onCommit?: () => void;
}

export function createRegistry(options: RegistryOptions) {
  const ctx: RegistryContext & { offlineRoot: string } = {
    pool: options.pool,
    logger: options.logger,
    events: { subjectPrefix: options.events?.subjectPrefix ?? "fti.events" },
    onCommit: options.onCommit ?? (() => {}),
    offlineRoot: options.offlineRoot ?? ".data/offline",
  };
  return {
    ...projectOperations(ctx),
    ...featureGroupOperations(ctx),
    ...featureViewOperations(ctx),
    ...trainingDatasetOperations(ctx),
    ...modelOperations(ctx),
    ...deploymentOperations(ctx),
    ...lineageOperations(ctx),
    ...searchOperations(ctx),
  };
}

export type Registry = ReturnType<typeof createRegistry>;
