// Events go into the outbox table (libs/events) inside the transaction that
// records what they describe; the outbox relay publishes them afterwards.
import type { Queryable } from "@fti/db";
import { enqueueEvent } from "@fti/events";
import type { Commit, MaterializationJob } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { tableIdOf } from "./names.js";

export interface EventSettings {
  /** Subjects are "<subjectPrefix>.<type>.<project>...", "fti.events" by default. */
  subjectPrefix: string;
}

function tokens(featureGroup: string): string[] {
  const t = tableIdOf(featureGroup);
  return [t.project, t.featureGroup, String(t.version)];
}

/** "ingestion.commit" on "<prefix>.ingestion.commit.<project>.<group>.<version>". */
export function enqueueCommitEvent(db: Queryable, settings: EventSettings, commit: Commit): Promise<void> {
  return enqueueEvent(db, { source: "ingestion", subjectPrefix: settings.subjectPrefix }, {
    type: "ingestion.commit",
    subjectTokens: tokens(commit.featureGroup),
    resource: commit.featureGroup,
    time: new Date(),
    payload: { case: "ingestionCommit", value: { commit } },
  });
}

/** "ingestion.materialization" on "<prefix>.ingestion.materialization.<project>.<group>.<version>". */
export function enqueueMaterializationEvent(db: Queryable, settings: EventSettings, job: MaterializationJob): Promise<void> {
  return enqueueEvent(db, { source: "ingestion", subjectPrefix: settings.subjectPrefix }, {
    type: "ingestion.materialization",
    subjectTokens: tokens(job.featureGroup),
    resource: job.featureGroup,
    time: new Date(),
    payload: { case: "materializationProgress", value: { job } },
  });
}
