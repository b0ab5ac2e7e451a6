// Update masks (aip.dev/134): which top-level fields an Update changes.
import { InvalidArgumentError } from "@fti/errors";

/**
 * Checks the mask's paths against the fields this Update may change and
 * returns them. An empty mask or a path that is not updatable is
 * INVALID_ARGUMENT naming `field`; "*" means every updatable path.
 */
export function maskPaths(paths: readonly string[], updatable: readonly string[], field = "update_mask"): string[] {
  if (paths.length === 0) throw InvalidArgumentError.field(field, `name the fields to change (any of ${updatable.join(", ")}, or "*")`);
  if (paths.length === 1 && paths[0] === "*") return [...updatable];
  const bad = paths.filter((p) => !updatable.includes(p));
  if (bad.length) throw InvalidArgumentError.field(field, `${bad.map((p) => `"${p}"`).join(", ")} cannot be updated; updatable: ${updatable.join(", ")}`);
  return [...new Set(paths)];
}

/** snake_case proto field path → protobuf-es camelCase property. */
export function propertyOf(path: string): string {
  return path.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Copies the masked top-level fields from `patch` onto a copy of `current`.
 * Paths must have been checked with maskPaths.
 */
export function applyMask<T extends object>(current: T, patch: T, paths: readonly string[]): T {
  const out = { ...current } as Record<string, unknown>;
  for (const path of paths) out[propertyOf(path)] = (patch as Record<string, unknown>)[propertyOf(path)];
  return out as T;
}
