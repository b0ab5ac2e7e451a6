// Text forms of durations, feature types and single values, shared by the
// YAML definitions and the command-line flags.
import { scalarTypes, type FeatureType, type ScalarType, type Value } from "@fti/schema";

const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds of "30d", "1h30m", "45s", "500ms"; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

/** The shortest exact text of a number of seconds, e.g. 5400 → "1h30m". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  let rest = seconds;
  let out = "";
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${Math.round(rest * 1000)}ms`;
  return out;
}

/** "int64", "array<string>", "embedding<8>" → a FeatureType; undefined when unknown. */
export function parseFeatureType(text: string): FeatureType | undefined {
  const t = text.trim().toLowerCase();
  if ((scalarTypes as readonly string[]).includes(t)) return t as ScalarType;
  const array = /^array<\s*(\w+)\s*>$/.exec(t);
  if (array && (scalarTypes as readonly string[]).includes(array[1]!)) return { array: array[1] as ScalarType };
  const embedding = /^embedding<\s*(\d+)\s*>$/.exec(t);
  if (embedding && Number(embedding[1]) >= 1 && Number(embedding[1]) <= 65536) return { embedding: Number(embedding[1]) };
  return undefined;
}

/** A command-line value ("12.5", "true", "2024-05-01T00:00:00Z") as the in-memory value of `type`. */
export function parseValue(text: string, type: FeatureType): Value {
  if (text === "null") return null;
  if (typeof type !== "string") throw new Error(`values of type ${JSON.stringify(type)} cannot be given on the command line`);
  switch (type) {
    case "bool":
      if (text !== "true" && text !== "false") throw new Error(`"${text}" is not a bool (true or false)`);
      return text === "true";
    case "int32":
    case "float":
    case "double": {
      const n = Number(text);
      if (text.trim() === "" || Number.isNaN(n) || (type === "int32" && !Number.isInteger(n))) throw new Error(`"${text}" is not a ${type}`);
      return n;
    }
    case "int64":
      if (!/^-?\d+$/.test(text)) throw new Error(`"${text}" is not an int64`);
      return BigInt(text);
    case "string":
      return text;
    case "bytes":
      return Buffer.from(text, "base64");
    case "timestamp": {
      const d = new Date(text);
      if (Number.isNaN(d.getTime())) throw new Error(`"${text}" is not a timestamp (use ISO 8601, e.g. 2024-05-01T12:00:00Z)`);
      return d;
    }
  }
}

/** A value as table text. */
export function formatValue(value: Value | undefined): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Float32Array) return `[${Array.from(value, (x) => Number(x.toPrecision(6))).join(", ")}]`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v)).join(", ")}]`;
  return String(value);
}
