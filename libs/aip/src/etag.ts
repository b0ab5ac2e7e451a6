// Etags (aip.dev/154): an opaque version of a resource that changes on every
// write. A caller sends it back on Update/Delete; a stale one is ABORTED so a
// read-modify-write never overwrites someone else's change.
import { AbortedError } from "@fti/errors";

/** The etag of the write numbered `revision`. Quoted, as in HTTP, to stay opaque. */
export function formatEtag(revision: bigint | number): string {
  return `"${revision.toString(36)}"`;
}

/** Throws ABORTED when `given` is set and differs from `current`. An empty etag is unconditional. */
export function checkEtag(given: string, current: string, resourceName: string): void {
  if (given !== "" && given !== current) throw new AbortedError(`${resourceName} was changed by someone else (etag ${given} is stale, current is ${current}); read it again and retry`);
}
