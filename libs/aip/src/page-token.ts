// Pagination (aip.dev/158): page sizes and opaque page tokens. A token holds
// the sort key of the last item returned (keyset pagination), so items
// inserted or deleted meanwhile neither repeat nor shift the next page, plus
// a fingerprint of the request so a token is not reused with other filters.
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@fti/errors";

export const defaultPageSize = 50;
export const maxPageSize = 1000;

/** `page_size` 0 means the default; above the maximum is clamped; negative is INVALID_ARGUMENT. */
export function pageSize(requested: number, field = "page_size"): number {
  if (!Number.isInteger(requested) || requested < 0) throw InvalidArgumentError.field(field, "must be zero or positive");
  if (requested === 0) return defaultPageSize;
  return Math.min(requested, maxPageSize);
}

export type CursorValue = string | number;

/** A short digest of the request fields that must not change between pages. */
export function requestFingerprint(fields: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(fields)).digest("base64url").slice(0, 16);
}

export function encodePageToken(cursor: readonly CursorValue[], fingerprint: string): string {
  return Buffer.from(JSON.stringify({ c: cursor, f: fingerprint })).toString("base64url");
}

/**
 * The cursor of a page token, or undefined for the first page. A token that is
 * malformed or was issued for different request fields is INVALID_ARGUMENT.
 */
export function decodePageToken(token: string, fingerprint: string, field = "page_token"): CursorValue[] | undefined {
  if (token === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw InvalidArgumentError.field(field, "is not a token returned by this method");
  }
  const p = parsed as { c?: unknown; f?: unknown };
  if (typeof p !== "object" || p === null || !Array.isArray(p.c) || !p.c.every((v) => typeof v === "string" || typeof v === "number") || typeof p.f !== "string")
    throw InvalidArgumentError.field(field, "is not a token returned by this method");
  if (p.f !== fingerprint) throw InvalidArgumentError.field(field, "was issued for a request with other parent, filter or query; keep them unchanged between pages");
  return p.c as CursorValue[];
}

/**
 * Splits `fetched` (up to `size + 1` rows, fetched in sort order) into the
 * page and the next token, made from the last row's sort key.
 */
export function paginate<T>(fetched: readonly T[], size: number, cursorOf: (item: T) => CursorValue[], fingerprint: string): { items: T[]; nextPageToken: string } {
  if (fetched.length <= size) return { items: [...fetched], nextPageToken: "" };
  const items = fetched.slice(0, size);
  return { items, nextPageToken: encodePageToken(cursorOf(items[items.length - 1]!), fingerprint) };
}
