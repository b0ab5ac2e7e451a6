// The storage root behind a small interface, so an object store (S3, GCS) can
// replace the local directory without touching the table code. Keys are
// relative, '/'-separated paths such as `fraud/transactions/v1/_delta_log/…`.
import { link, mkdir, open, readFile, readdir, rm, stat, unlink } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { dirname, join, relative, sep } from "node:path";

export interface ObjectInfo {
  key: string;
  size: number;
  /** Last modification, milliseconds since the epoch. */
  modifiedMs: number;
}

export interface ObjectStore {
  /** Writes `data` at `key` only if nothing is there; false when another writer got there first. Atomic: readers never see a partial object. */
  putIfAbsent(key: string, data: Uint8Array | string): Promise<boolean>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix` (a folder, ending in '/'), recursively. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  /** Where DuckDB reads and writes the object: a file path here, an `s3://` URL for a remote store. */
  location(key: string): string;
  /** Makes sure DuckDB can write to `location(key)` (creates the folder locally). */
  prepareWrite(key: string): Promise<void>;
}

export function createLocalObjectStore(root: string): ObjectStore {
  const path = (key: string) => join(root, ...key.split("/"));
  return {
    async putIfAbsent(key, data) {
      const target = path(key);
      await mkdir(dirname(target), { recursive: true });
      // Write a temp file fully, then link() it into place: link fails with
      // EEXIST when the name is taken, so exactly one writer wins and a reader
      // never sees a half-written log entry (open "wx" + write would allow that).
      const temp = `${target}.${randomUUID()}.tmp`;
      const handle = await open(temp, "wx");
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(temp, target);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw err;
      } finally {
        await unlink(temp).catch(() => {});
      }
    },
    async get(key) {
      try {
        return await readFile(path(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async stat(key) {
      try {
        const s = await stat(path(key));
        return { key, size: s.size, modifiedMs: s.mtimeMs };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async list(prefix) {
      const base = path(prefix);
      let entries: string[];
      try {
        entries = await readdir(base, { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
      }
      const out: ObjectInfo[] = [];
      for (const entry of entries) {
        const full = join(base, entry);
        const s = await stat(full).catch(() => undefined);
        if (!s?.isFile()) continue;
        out.push({ key: relative(root, full).split(sep).join("/"), size: s.size, modifiedMs: s.mtimeMs });
      }
      return out;
    },
    async delete(key) {
      await rm(path(key), { force: true });
    },
    location: path,
    async prepareWrite(key) {
      await mkdir(dirname(path(key)), { recursive: true });
    },
  };
}
