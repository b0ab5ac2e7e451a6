// Typed reads of plain YAML values that record a located problem instead of
// throwing, so one run reports every mistake in every file.
import { formatLocation, locate, type DocumentSource, type Location, type Path } from "./source.js";
import { parseDuration } from "../values.js";

export interface Problem extends Location {
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${formatLocation(p)}: ${p.field ? `${p.field}: ` : ""}${p.message}`;
}

export const idPattern = /^[a-z][a-z0-9_]{0,62}$/;
const idRule = "must start with a lowercase letter and hold only lowercase letters, digits and _ (at most 63 characters)";

export type Obj = Record<string, unknown>;

export class Reader {
  constructor(
    readonly source: DocumentSource,
    readonly problems: Problem[],
  ) {}

  at(path: Path): Location {
    return locate(this.source, path);
  }

  error(path: Path, message: string): void {
    this.problems.push({ ...this.at(path), message });
  }

  /** A map with only `allowed` keys (a typo'd key is an error naming the allowed ones). */
  object(value: unknown, path: Path, allowed: readonly string[]): Obj | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.error(path, `must be a map with keys ${allowed.join(", ")}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.error([...path, key], `unknown key "${key}"; expected one of ${allowed.join(", ")}`);
    }
    return value as Obj;
  }

  list(value: unknown, path: Path): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.error(path, "must be a list (one `- item` per line)");
      return [];
    }
    return value;
  }

  string(value: unknown, path: Path, required = false): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.error(path, "is required");
      return undefined;
    }
    if (typeof value !== "string") {
      this.error(path, `must be text, not ${JSON.stringify(value)} (quote it)`);
      return undefined;
    }
    return value;
  }

  id(value: unknown, path: Path): string | undefined {
    const s = this.string(value, path, true);
    if (s !== undefined && !idPattern.test(s)) this.error(path, `"${s}" ${idRule}`);
    return s;
  }

  bool(value: unknown, path: Path): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") {
      this.error(path, `must be true or false, not ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  number(value: unknown, path: Path, rule: { integer?: boolean; min?: number; max?: number; required?: boolean } = {}): number | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.error(path, "is required");
      return undefined;
    }
    const ok = typeof value === "number" && Number.isFinite(value) && (!rule.integer || Number.isInteger(value)) && (rule.min === undefined || value >= rule.min) && (rule.max === undefined || value <= rule.max);
    if (!ok) {
      const range = rule.min !== undefined && rule.max !== undefined ? ` in ${rule.min}..${rule.max}` : rule.min !== undefined ? ` >= ${rule.min}` : "";
      this.error(path, `must be ${rule.integer ? "an integer" : "a number"}${range}, not ${JSON.stringify(value)}`);
      return undefined;
    }
    return value as number;
  }

  /** A list of strings; a single string is accepted as a one-element list. */
  strings(value: unknown, path: Path): string[] {
    if (typeof value === "string") return [value];
    return this.list(value, path).flatMap((v, i) => {
      const s = this.string(v, [...path, i], true);
      return s === undefined ? [] : [s];
    });
  }

  tags(value: unknown, path: Path): Record<string, string> {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.error(path, "must be a map of tag: value (use \"\" for a flag-style tag)");
      return {};
    }
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) tags[k] = "";
      else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") tags[k] = String(v);
      else this.error([...path, k], "a tag value must be text");
    }
    return tags;
  }

  /** Seconds of a duration like "30d" or "1h30m". */
  duration(value: unknown, path: Path): number | undefined {
    if (value === undefined || value === null) return undefined;
    const seconds = typeof value === "string" ? parseDuration(value) : undefined;
    if (seconds === undefined || seconds <= 0) {
      this.error(path, `must be a positive duration like 90s, 30m, 12h or 7d, not ${JSON.stringify(value)}`);
      return undefined;
    }
    return seconds;
  }

  /** One of `choices`, case-insensitive. */
  choice<T extends string>(value: unknown, path: Path, choices: readonly T[]): T | undefined {
    const s = this.string(value, path);
    if (s === undefined) return undefined;
    const found = choices.find((c) => c === s.toLowerCase());
    if (!found) this.error(path, `"${s}" is not one of ${choices.join(", ")}`);
    return found;
  }
}
