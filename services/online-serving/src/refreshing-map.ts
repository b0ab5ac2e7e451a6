// A map of things built from registry metadata (compiled views, loaded
// deployments) that requests read without waiting: only the first use of a
// name builds in the request. After that a change to anything the entry was
// built from rebuilds it in the background, and the finished build replaces
// the entry in one assignment — requests already holding the old value finish
// on it. A failed rebuild keeps the old value; a deleted resource drops it.
import { NotFoundError } from "@fti/errors";
import type { Logger } from "@fti/logger";

export interface Built<T> {
  value: T;
  /** Registry resource names the value was built from. */
  dependsOn: readonly string[];
}

interface Entry<T> {
  current: Promise<T>;
  dependsOn: Set<string>;
  rebuilding: boolean;
  /** A change arrived during a rebuild: rebuild once more after it. */
  again: boolean;
}

export interface RefreshingMapOptions<T> {
  kind: string;
  build(name: string): Promise<Built<T>>;
  /** Called after a rebuild replaced `previous` (not after the first build). */
  replaced?(name: string, previous: T, next: T): void;
  /** Called when a rebuild failed and the previous value keeps serving. */
  rebuildFailed?(name: string, err: unknown): void;
  logger: Logger;
}

/** "projects/p/models/m/versions/3" and ".../versions/latest" both belong to "projects/p/models/m". */
export const resourceOf = (name: string) => name.replace(/\/versions\/[^/]+$/, "");

export class RefreshingMap<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly options: RefreshingMapOptions<T>) {}

  get(name: string): Promise<T> {
    const hit = this.entries.get(name);
    if (hit) return hit.current;
    const entry: Entry<T> = { current: undefined as never, dependsOn: new Set([resourceOf(name)]), rebuilding: false, again: false };
    entry.current = this.options.build(name).then(
      (built) => {
        entry.dependsOn = new Set([resourceOf(name), ...built.dependsOn.map(resourceOf)]);
        return built.value;
      },
      (err) => {
        if (this.entries.get(name) === entry) this.entries.delete(name); // never keep a failure
        throw err;
      },
    );
    this.entries.set(name, entry);
    return entry.current;
  }

  /** The names of entries built from `resource` (any version of it). */
  dependents(resource: string): string[] {
    const base = resourceOf(resource);
    return [...this.entries].filter(([, e]) => e.dependsOn.has(base)).map(([name]) => name);
  }

  /** Every resource some entry was built from. */
  dependencies(): string[] {
    return [...new Set([...this.entries.values()].flatMap((e) => [...e.dependsOn]))];
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Current values that finished building. */
  async values(): Promise<T[]> {
    const settled = await Promise.allSettled([...this.entries.values()].map((e) => e.current));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  /** Rebuilds `name` in the background; resolves when the rebuild (and any queued one) is done. */
  async rebuild(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    if (entry.rebuilding) {
      entry.again = true;
      return;
    }
    entry.rebuilding = true;
    try {
      do {
        entry.again = false;
        await this.rebuildOnce(name, entry);
      } while (entry.again && this.entries.get(name) === entry);
    } finally {
      entry.rebuilding = false;
    }
  }

  private async rebuildOnce(name: string, entry: Entry<T>): Promise<void> {
    const previous = await entry.current.catch(() => undefined);
    try {
      const built = await this.options.build(name);
      if (this.entries.get(name) !== entry) return;
      entry.current = Promise.resolve(built.value);
      entry.dependsOn = new Set([resourceOf(name), ...built.dependsOn.map(resourceOf)]);
      if (previous !== undefined && previous !== built.value) this.options.replaced?.(name, previous, built.value);
    } catch (err) {
      if (err instanceof NotFoundError && resourceOf(err.resourceName) === resourceOf(name)) {
        // The resource itself is gone: later requests get NOT_FOUND.
        this.entries.delete(name);
        this.options.logger.info(`${this.options.kind} removed`, { name });
        return;
      }
      this.options.logger.warn(`${this.options.kind} rebuild failed; the previous one keeps serving`, { name, error: (err as Error).message });
      this.options.rebuildFailed?.(name, err);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
