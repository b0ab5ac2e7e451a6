// The DuckDB instance every query runs on, with its memory bounded: a memory
// limit, a spill directory for joins larger than that, and a cap on queries
// running at once. A query is tied to its caller's AbortSignal: cancelling the
// call interrupts DuckDB mid-query.
import { mkdirSync } from "node:fs";
import { availableParallelism, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { CancelledError } from "@fti/errors";
import { quoteString } from "./sql.js";

export interface QueryEngineOptions {
  /**
   * Threads working on queries; 0: one per core. DuckDB counts the thread that
   * fetches results among its threads, and for a streamed result that thread
   * mostly waits on the consumer (encoding, sending), so the engine gives
   * DuckDB one thread more than this.
   */
  threads?: number;
  /** e.g. "2GB" or "75%". */
  memoryLimit?: string;
  /** Spill directory; a fresh one under the system temp dir when empty. */
  tempDirectory?: string;
  maxConcurrentQueries?: number;
}

/**
 * DuckDB's config accepts only absolute sizes ("2GB"), while operators think in
 * shares of the machine (or of a container's memory): "75%" becomes 75% of the
 * memory this process sees, in MB.
 */
export function absoluteMemoryLimit(limit: string, memoryBytes = totalmem()): string {
  const share = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(limit);
  if (!share) return limit;
  return `${Math.max(64, Math.floor((memoryBytes * Number(share[1])) / 100 / 2 ** 20))}MB`;
}

const streamingBufferSize = "64MB";

export interface QueryEngine {
  readonly instance: DuckDBInstance;
  /**
   * A connection of its own once a query slot is free. When `signal` aborts,
   * the running statement is interrupted (and fails). Close it when done.
   */
  open(signal: AbortSignal | undefined): Promise<QueryConnection>;
  /** `open`, run `work`, close. */
  withConnection<T>(signal: AbortSignal | undefined, work: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
  /** Connections open now (queries running or streaming). */
  readonly openConnections: number;
  close(): void;
}

export interface QueryConnection {
  readonly connection: DuckDBConnection;
  /** Rethrows a failure caused by the abort as CANCELLED. */
  failure(err: unknown): unknown;
  /**
   * Marks the holder as parked between DuckDB calls (a stream waiting at a
   * yield). An abort then closes the connection at once: the holder may never
   * be resumed (a cancelled call's writer can wait forever for a drain).
   */
  suspended(parked: boolean): void;
  close(): void;
}

export async function createQueryEngine(options: QueryEngineOptions = {}): Promise<QueryEngine> {
  const tempDirectory = options.tempDirectory || join(tmpdir(), `fti-offline-query-${process.pid}`);
  mkdirSync(tempDirectory, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String((options.threads || availableParallelism()) + 1),
    memory_limit: absoluteMemoryLimit(options.memoryLimit ?? "75%"),
    temp_directory: tempDirectory,
    // Row order of a join result carries no meaning; not keeping it lets DuckDB stream and spill freely.
    preserve_insertion_order: "false",
  });
  const slots = new Semaphore(options.maxConcurrentQueries ?? 2);
  let openConnections = 0;

  async function open(signal: AbortSignal | undefined): Promise<QueryConnection> {
    await slots.acquire(signal);
    let connection: DuckDBConnection;
    try {
      connection = await instance.connect();
      // Timestamps are UTC everywhere; TIMESTAMPTZ arithmetic must not use the host's zone.
      await connection.run("SET TimeZone = 'UTC'");
      // A streamed result may run this far ahead of its consumer (DuckDB's default, ~1 MB, is two
      // chunks of a wide result: the join then stalls whenever the consumer encodes or sends).
      await connection.run(`SET streaming_buffer_size = '${streamingBufferSize}'`);
    } catch (err) {
      slots.release();
      throw err;
    }
    openConnections++;
    let parked = false;
    const interrupt = () => {
      if (parked) close();
      else connection.interrupt();
    };
    signal?.addEventListener("abort", interrupt, { once: true });
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      signal?.removeEventListener("abort", interrupt);
      // A streaming result left half-read keeps its query alive until the connection goes.
      connection.interrupt();
      connection.closeSync();
      openConnections--;
      slots.release();
    };
    if (signal?.aborted) {
      close();
      throw new CancelledError("the query was cancelled");
    }
    return {
      connection,
      failure: (err) => (signal?.aborted && !(err instanceof CancelledError) ? new CancelledError("the query was cancelled", { cause: err }) : err),
      suspended(value) {
        parked = value;
        if (value && signal?.aborted) close();
      },
      close,
    };
  }

  return {
    instance,
    open,
    get openConnections() {
      return openConnections;
    },
    async withConnection(signal, work) {
      const q = await open(signal);
      try {
        return await work(q.connection);
      } catch (err) {
        throw q.failure(err);
      } finally {
        q.close();
      }
    },
    close() {
      instance.closeSync();
    },
  };
}

/** Sets a DuckDB setting on one connection, e.g. for a job that needs more threads. */
export async function setOption(connection: DuckDBConnection, name: string, value: string): Promise<void> {
  await connection.run(`SET ${name} = ${quoteString(value)}`);
}

/** A counting semaphore whose waiters give up when their signal aborts. */
class Semaphore {
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  constructor(private free: number) {}

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new CancelledError("the query was cancelled"));
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new CancelledError("the query was cancelled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.free++;
  }
}
