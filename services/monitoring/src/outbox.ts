// Writes alert events into the outbox table inside the transaction that
// raises or resolves the alert; the relay (outbox-relay.ts) publishes them
// afterwards, so an alert is neither lost when NATS is down nor published for
// a change that rolled back.
import { randomUUID } from "node:crypto";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Queryable } from "@fti/db";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";

type Payload = MessageInitShape<typeof EventSchema>["payload"];

/** Queues one event; it is published only if the surrounding transaction commits. */
export async function enqueueEvent(db: Queryable, subjectPrefix: string, event: { type: string; subjectTokens: string[]; resource: string; time: Date; payload: Payload }): Promise<void> {
  const id = randomUUID();
  const subject = [subjectPrefix, event.type, ...event.subjectTokens].join(".");
  const message = create(EventSchema, { id, time: timestampFromDate(event.time), source: "monitoring", type: event.type, subject, resource: event.resource, payload: event.payload });
  await db.query("INSERT INTO outbox (id, subject, payload, created_at) VALUES ($1, $2, $3, $4)", [id, subject, toBinary(EventSchema, message), event.time]);
}
