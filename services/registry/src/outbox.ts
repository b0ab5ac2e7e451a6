// Writes events into the outbox table inside the transaction of the change
// they describe; the relay (outbox-relay.ts) publishes them afterwards.
import { randomUUID } from "node:crypto";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@fti/db";
import { EventSchema, RegistryResourceChanged_Change as Change } from "@fti/proto/fti/events/v1/events_pb";
import { projectIdOf, resourceKinds, type Kind } from "./names.js";

export { Change };

export interface EventSettings {
  /** Subjects are "<subjectPrefix>.<type>.<project>...", "fti.events" by default. */
  subjectPrefix: string;
}

type Payload = MessageInitShape<typeof EventSchema>["payload"];

/** Queues one event; it is published only if the surrounding transaction commits. */
export async function enqueueEvent(db: Queryable, settings: EventSettings, event: { type: string; subjectTokens: string[]; resource: string; time: Date; payload: Payload }): Promise<void> {
  const id = randomUUID();
  const subject = [settings.subjectPrefix, event.type, ...event.subjectTokens].join(".");
  const message = create(EventSchema, { id, time: timestampFromDate(event.time), source: "registry", type: event.type, subject, resource: event.resource, payload: event.payload });
  await db.query("INSERT INTO outbox (id, subject, payload, created_at) VALUES ($1, $2, $3, $4)", [id, subject, toBinary(EventSchema, message), event.time]);
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
