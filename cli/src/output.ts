// Human output (aligned tables, key/value blocks, progress bars) and JSON
// output for scripts. No dependency: a table is padded strings.
import type { Output } from "./io.js";

export type OutputFormat = "table" | "json";

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** "key: value" lines with the values aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length + 1));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`.trimEnd()).join("\n") + "\n";
}

/** JSON that survives int64 (bigint) values, as strings like proto3 JSON. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v), 2) + "\n";
}

export function formatTags(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => (v ? `${k}=${v}` : k))
    .join(",");
}

/**
 * A progress bar on stderr. On a terminal it redraws in place; elsewhere
 * (CI logs, pipes, tests) it prints nothing, so logs are not flooded with
 * redraws.
 */
export class ProgressBar {
  private lastDraw = 0;
  constructor(
    private readonly out: Output,
    private readonly label: string,
  ) {}

  /** `fraction` in [0, 1] (undefined while unknown); `detail` is shown after the bar. */
  update(fraction: number | undefined, detail = ""): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 80 && fraction !== 1) return;
    this.lastDraw = now;
    const width = 30;
    const f = fraction === undefined ? 0 : Math.min(1, Math.max(0, fraction));
    const filled = Math.round(f * width);
    const percent = fraction === undefined ? "  ?%" : `${Math.floor(f * 100)}%`.padStart(4);
    this.out.write(`\r${this.label} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${percent} ${detail}\x1b[K`);
  }

  /** Removes the bar; the command prints its summary on stdout. */
  clear(): void {
    if (this.out.isTTY) this.out.write("\r\x1b[K");
  }
}
