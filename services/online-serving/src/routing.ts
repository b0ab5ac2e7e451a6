// Traffic splitting by a stable hash, so a caller repeating a request id (or
// scoring the same entity without one) always reaches the same model version,
// and a shadow samples the same requests every time.
import type { Value } from "@fti/schema";

/** A number in 0..99 from the routing key; `salt` gives independent draws (one per shadow). */
export function bucketOf(key: string, salt = ""): number {
  // FNV-1a, then a murmur-style finalizer so nearby keys spread over the buckets.
  let h = 0x811c9dc5;
  const s = salt ? `${salt}\u0000${key}` : key;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 100;
}

/** The route whose cumulative weight range holds the bucket (weights sum to 100). */
export function pickRoute<R extends { weight: number }>(routes: readonly R[], bucket: number): R {
  let upper = 0;
  for (const r of routes) {
    upper += r.weight;
    if (bucket < upper) return r;
  }
  return routes[routes.length - 1]!;
}

/** The routing key of a request without an id: its first entity's serving key values. */
export function entityRoutingKey(keyColumns: Record<string, readonly Value[]>): string {
  return Object.values(keyColumns)
    .map((values) => String(values[0] instanceof Date ? values[0].getTime() : values[0]))
    .join("\u0000");
}
