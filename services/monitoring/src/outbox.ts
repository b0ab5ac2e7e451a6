// Alert events go into the outbox inside the transaction that raises or
// resolves the alert (see @fti/events' outbox): an alert is neither lost when
// NATS is down nor published for a change that rolled back.
import type { Queryable } from "@fti/db";
import { enqueueEvent as enqueue, type EnqueuedEvent } from "@fti/events";

/** Queues one monitoring event; it is published only if the surrounding transaction commits. */
export function enqueueEvent(db: Queryable, subjectPrefix: string, event: EnqueuedEvent): Promise<void> {
  return enqueue(db, { source: "monitoring", subjectPrefix }, event);
}
