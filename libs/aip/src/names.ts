// Resource names (aip.dev/122): ids, name patterns like
// "projects/{project}/featureGroups/{feature_group}/versions/{version}", and
// the "latest" version alias.
import { InvalidArgumentError } from "@fti/errors";

const idPattern = /^[a-z][a-z0-9_]{0,62}$/;

/** True for a valid resource id: a lowercase letter, then lowercase letters, digits and `_`, at most 63. */
export function isValidId(id: string): boolean {
  return idPattern.test(id);
}

/** Why `id` is not a valid resource id, or undefined when it is. */
export function idProblem(id: string): string | undefined {
  if (id === "") return "is required";
  if (id.length > 63) return `"${id.slice(0, 20)}…" is longer than 63 characters`;
  if (!idPattern.test(id)) return `"${id}" must start with a lowercase letter and hold only lowercase letters, digits and _`;
  return undefined;
}

/** Throws INVALID_ARGUMENT naming `field` when `id` is not a valid resource id. */
export function assertId(id: string, field: string): string {
  const problem = idProblem(id);
  if (problem) throw InvalidArgumentError.field(field, problem);
  return id;
}

/** A compiled name pattern: literal collection segments and `{variable}` segments. */
export interface NamePattern<V extends string> {
  readonly pattern: string;
  /** The variables of `name`, or undefined when it does not match. */
  match(name: string): Record<V, string> | undefined;
  /** The name for these variables. */
  format(values: Record<V, string | number>): string;
}

type Variables<P extends string> = P extends `${string}{${infer V}}${infer Rest}` ? V | Variables<Rest> : never;

export function namePattern<P extends string>(pattern: P): NamePattern<Variables<P>> {
  const segments = pattern.split("/");
  return {
    pattern,
    match(name) {
      const parts = name.split("/");
      if (parts.length !== segments.length) return undefined;
      const out: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith("{")) {
          if (part === "") return undefined;
          out[seg.slice(1, -1)] = part;
        } else if (seg !== part) return undefined;
      }
      return out as Record<Variables<P>, string>;
    },
    format(values) {
      return segments.map((seg) => (seg.startsWith("{") ? String((values as Record<string, string | number>)[seg.slice(1, -1)]) : seg)).join("/");
    },
  };
}

/**
 * Parses `name` against `pattern`, checking every variable as an id, except
 * those listed in `versions` which must be a positive integer or "latest".
 * Throws INVALID_ARGUMENT naming `field` otherwise.
 */
export function parseName<V extends string>(pattern: NamePattern<V>, name: string, field: string, versions: readonly NoInfer<V>[] = []): Record<V, string> {
  const values = pattern.match(name);
  if (!values) throw InvalidArgumentError.field(field, name === "" ? `is required, as "${pattern.pattern}"` : `"${name}" does not match "${pattern.pattern}"`);
  for (const [key, value] of Object.entries(values) as [V, string][]) {
    if (versions.includes(key)) {
      if (value !== "latest" && parseVersion(value) === undefined) throw InvalidArgumentError.field(field, `version "${value}" must be a positive integer or "latest"`);
    } else {
      const problem = idProblem(value);
      if (problem) throw InvalidArgumentError.field(field, `${key} ${problem}`);
    }
  }
  return values;
}

/** A positive integer version, or undefined when `text` is not one. */
export function parseVersion(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 2_147_483_647 ? n : undefined;
}
