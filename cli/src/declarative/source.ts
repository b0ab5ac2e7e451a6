// Where a definition came from: a YAML document in a file, and the path of a
// value inside it, so every problem can name file, line and field.
import type { Document, LineCounter } from "yaml";

export type Path = readonly (string | number)[];

export interface DocumentSource {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
}

/** A position in a definition file. */
export interface Location {
  file: string;
  line: number;
  column: number;
  /** The field, e.g. "feature_groups[0].primary_key[1]". */
  field: string;
}

export function fieldName(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/**
 * The location of `path`: the value itself when present, else the nearest
 * enclosing value (a missing key is reported where its map starts).
 */
export function locate(source: DocumentSource, path: Path): Location {
  for (let i = path.length; i >= 0; i--) {
    const node = source.doc.getIn(path.slice(0, i), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === "object" && node.range) {
      const { line, col } = source.lineCounter.linePos(node.range[0]);
      return { file: source.file, line, column: col, field: fieldName(path) };
    }
  }
  return { file: source.file, line: 1, column: 1, field: fieldName(path) };
}

export function formatLocation(l: Location): string {
  return `${l.file}:${l.line}:${l.column}`;
}
