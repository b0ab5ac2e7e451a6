// Writes events into the outbox table inside the transaction of the change
// they describe; the relay (@fti/events) publishes them afterwards.
import type { Queryable } from "@fti/db";
import { enqueueEvent as enqueue, type EnqueuedEvent } from "@fti/events";
import { RegistryResourceChanged_Change as Change } from "@fti/proto/fti/events/v1/events_pb";
import { projectIdOf, resourceKinds, type Kind } from "./names.js";

export { Change };

export interface EventSettings {
  /** Subjects are "<subjectPrefix>.<type>.<project>...", "fti.events" by default. */
  subjectPrefix: string;
}

/** Queues one registry event; it is published only if the surrounding transaction commits. */
export function enqueueEvent(db: Queryable, settings: EventSettings, event: EnqueuedEvent): Promise<void> {
  return enqueue(db, { source: "registry", subjectPrefix: settings.subjectPrefix }, event);
}

const changeNames: Record<Change, string> = { [Change.UNSPECIFIED]: "unspecified", [Change.CREATED]: "created", [Change.UPDATED]: "updated", [Change.DELETED]: "deleted" };

/** The registry.<kind>.<change> event every committed change publishes. */
export async function enqueueResourceChanged(
  db: Queryable,
  settings: EventSettings,
  change: { kind: Kind; name: string; change: Change; etag: string; revision: bigint; changedFields?: string[]; time: Date },
): Promise<void> {
  await enqueueEvent(db, settings, {
    type: `registry.${change.kind}.${changeNames[change.change]}`,
    subjectTokens: [projectIdOf(change.name)],
    resource: change.name,
    time: change.time,
    payload: {
      case: "registryResourceChanged",
      value: { kind: resourceKinds[change.kind], name: change.name, change: change.change, etag: change.etag, revision: change.revision, changedFields: change.changedFields ?? [] },
    },
  });
}
