// Node's HTTP/2 sessions keep their open streams in a Map (and streams being
// set up in a Set). With streams coming and going a few at a time, such a Map
// rehashes into a new table every few streams, and V8 leaves each replaced
// table pointing at its successor and at the streams it held. Once one table
// of the chain is in old space, the young-generation GC must keep every later
// table and the streams in them: finished calls, with everything they reference
// (grpc-js call objects, our handlers' objects, header strings), get promoted
// and stay until a full GC, which then pays for them (at 2k calls/s: ~3 MB/s
// promoted, a 10-50 ms full GC every few seconds; with these tables, ~0.2 MB/s
// and few full GCs). The tables below hold the same entries in arrays that are
// overwritten in place, and cleared when they grow.
//
// Replacing them reaches into Node's internals (lib/internal/http2/core.js:
// session[kState].streams, .pendingStreams), so it is done only when they look
// exactly as expected, and a test fails if a Node upgrade changes them.
import type * as http2 from "node:http2";

/** A stream id's first slot: ids of one side are all odd or all even. */
const home = (id: number, mask: number) => (id >>> 1) & mask;

/** The open streams of a session by stream id (open addressing): what Node's core uses of its Map. */
export class StreamTable<V> {
  private ids: (number | undefined)[];
  private values: (V | undefined)[];
  private count = 0;

  constructor(capacity = 16) {
    this.ids = new Array(capacity).fill(undefined);
    this.values = new Array(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    const mask = this.ids.length - 1;
    for (let i = home(id, mask); ; i = (i + 1) & mask) {
      const at = this.ids[i];
      if (at === id) return this.values[i];
      if (at === undefined) return undefined;
    }
  }

  set(id: number, value: V): this {
    if (2 * (this.count + 1) > this.ids.length) this.grow();
    const mask = this.ids.length - 1;
    for (let i = home(id, mask); ; i = (i + 1) & mask) {
      const at = this.ids[i];
      if (at === undefined || at === id) {
        if (at === undefined) this.count++;
        this.ids[i] = id;
        this.values[i] = value;
        return this;
      }
    }
  }

  delete(id: number): boolean {
    const ids = this.ids;
    const values = this.values;
    const mask = ids.length - 1;
    let i = home(id, mask);
    while (ids[i] !== id) {
      if (ids[i] === undefined) return false;
      i = (i + 1) & mask;
    }
    // Linear probing's deletion: move later entries of the run back into the hole.
    for (let j = (i + 1) & mask; ids[j] !== undefined; j = (j + 1) & mask) {
      const k = home(ids[j]!, mask);
      if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
        ids[i] = ids[j];
        values[i] = values[j];
        i = j;
      }
    }
    ids[i] = undefined;
    values[i] = undefined;
    this.count--;
    return true;
  }

  /** Visits a snapshot: `fn` may delete (a destroyed stream removes itself). */
  forEach(fn: (value: V, id: number) => void): void {
    const entries: [number, V][] = [];
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== undefined) entries.push([this.ids[i]!, this.values[i]!]);
    for (const [id, value] of entries) fn(value, id);
  }

  private grow() {
    const ids = this.ids;
    const values = this.values;
    this.ids = new Array(ids.length * 2).fill(undefined);
    this.values = new Array(values.length * 2).fill(undefined);
    this.count = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== undefined) this.set(ids[i]!, values[i]!);
    // The old arrays may be in old space: left holding streams, they would promote them.
    ids.fill(undefined);
    values.fill(undefined);
  }
}

/** Streams being set up (a server's are there only while constructed): what Node's core uses of its Set. */
export class PendingStreams<V extends object> {
  private readonly items: (V | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(value: V): boolean {
    return this.items.indexOf(value) >= 0;
  }

  add(value: V): this {
    if (!this.has(value)) this.items[this.count++] = value;
    return this;
  }

  delete(value: V): boolean {
    const i = this.items.indexOf(value);
    if (i < 0) return false;
    this.items[i] = this.items[this.count - 1];
    this.items[--this.count] = undefined;
    return true;
  }

  forEach(fn: (value: V, same: V) => void): void {
    for (const value of this.items.slice(0, this.count)) fn(value!, value!);
  }
}

/**
 * Gives a new session the tables above in place of Node's Map and Set.
 * Returns false, changing nothing, if the session's internals are not the
 * ones this was written against (Node 20's).
 */
export function useStreamTables(session: http2.Http2Session): boolean {
  const kState = Object.getOwnPropertySymbols(session).find((s) => s.description === "state");
  const state = kState && ((session as unknown as Record<symbol, unknown>)[kState] as { streams?: unknown; pendingStreams?: unknown } | undefined);
  // Node's own SafeMap and SafeSet (primordials: not instanceof Map and Set), still empty.
  if (!state || !isEmpty(state.streams, ["get", "set", "delete", "forEach"]) || !isEmpty(state.pendingStreams, ["add", "delete", "forEach"])) return false;
  state.streams = new StreamTable();
  state.pendingStreams = new PendingStreams();
  return true;
}

function isEmpty(table: unknown, methods: string[]): boolean {
  const t = table as Record<string, unknown> | undefined;
  return !!t && t.size === 0 && methods.every((m) => typeof t[m] === "function");
}
