// The prediction log: every prediction (routed and shadow) goes into a bounded
// buffer on the response path and is published to NATS in PredictionLogBatch
// events off it, on a timer or when a batch is full. When NATS is slow or down
// the buffer fills up; new predictions are then dropped and counted, and the
// count travels with the next batch that gets through.
//
// The buffer is columnar: a prediction's values are appended to its log's
// columns at once (typed arrays, off the JS heap, for fixed-width types), and
// the record itself is garbage when the response goes. Holding records (a few
// dozen small arrays each) until the flush made every young-generation
// collection copy them, and promoted them to the old generation: collections
// of 5-10 ms, several a second, in the latency tail.
import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publishMessage, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema, PredictionLogBatchSchema } from "@fti/proto/fti/events/v1/events_pb";
import { create } from "@bufbuild/protobuf";
import { ColumnBuilder, encodeRecordBatch, withEncodedField, type TypedColumn } from "@fti/record-batch";
import { encodePredictionLog } from "./prediction-log-encoding.js";

export interface PredictionRecord {
  deployment: string;
  project: string;
  deploymentId: string;
  revision: bigint;
  model: string;
  featureView: string;
  shadow: boolean;
  requestId: string;
  time: Date;
  latencyMicros: number;
  rowCount: number;
  entities: readonly TypedColumn[];
  /** The vectors before transformations, plus the request data. */
  features: readonly TypedColumn[];
  outputs: readonly TypedColumn[];
}

export interface PredictionLogOptions {
  nats: NatsConnection;
  eventSubjectPrefix: string;
  logger: Logger;
  batchSize?: number;
  flushIntervalMs?: number;
  /** Most predictions (rows) held; beyond it new ones are dropped. */
  bufferSize?: number;
  /** Counts for metrics. */
  onPublished?(rows: number): void;
  onDropped?(rows: number): void;
}

export interface PredictionLog {
  append(record: PredictionRecord): void;
  /** Publishes everything buffered now (tests, shutdown). */
  flush(): Promise<void>;
  /** Rows waiting to be published. */
  readonly buffered: number;
  close(): Promise<void>;
}

export function createPredictionLog(options: PredictionLogOptions): PredictionLog {
  const batchSize = options.batchSize ?? 500;
  const bufferSize = options.bufferSize ?? 50_000;
  const { logger } = options;
  /** Full batches waiting to be published, oldest first; `open` is the one being filled. */
  const sealed: Batch[] = [];
  let open = new Batch();
  let bufferedRows = 0;
  let droppedSinceLastBatch = 0n;
  let flushing: Promise<void> | undefined;
  let closed = false;

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();

  function append(record: PredictionRecord) {
    if (closed || bufferedRows + record.rowCount > bufferSize) {
      droppedSinceLastBatch += BigInt(record.rowCount);
      options.onDropped?.(record.rowCount);
      return;
    }
    open.add(record);
    bufferedRows += record.rowCount;
    if (open.rows >= batchSize) {
      sealed.push(open);
      open = new Batch();
      if (!flushing) setImmediate(() => void flush());
    }
  }

  function flush(): Promise<void> {
    flushing ??= drain().finally(() => (flushing = undefined));
    return flushing;
  }

  async function drain() {
    if (open.rows > 0) {
      sealed.push(open);
      open = new Batch();
    }
    while (sealed.length > 0) {
      const batch = sealed[0]!;
      try {
        await publish(batch);
      } catch (err) {
        // It stays first in line for the next attempt; the buffer bound keeps new ones out meanwhile.
        logger.warn("prediction log publish failed; will retry", { rows: batch.rows, buffered: bufferedRows, error: (err as Error).message });
        return;
      }
      sealed.shift();
      bufferedRows -= batch.rows;
      options.onPublished?.(batch.rows);
    }
  }

  async function publish(batch: Batch) {
    // One event per deployment revision, one log per model version (routed or shadow) in it.
    for (const logs of batch.byRevision()) {
      if (logs.every((l) => l.published)) continue;
      const first = logs[0]!;
      const dropped = droppedSinceLastBatch;
      const id = randomUUID();
      const subject = `${options.eventSubjectPrefix}.serving.predictions.${first.project}.${first.deploymentId}`;
      await publishMessage(
        options.nats,
        subject,
        EventSchema,
        {
          id,
          time: timestampFromDate(new Date()),
          source: "online-serving",
          type: "serving.predictions",
          subject,
          resource: first.deployment,
          payload: {
            case: "predictionLogBatch",
            value: logs.reduce(
              (batch, l) => withEncodedField(batch, 3, l.encoded()),
              create(PredictionLogBatchSchema, { deployment: first.deployment, deploymentRevision: first.revision, droppedCount: dropped }),
            ),
          },
        },
        { msgId: id },
      );
      for (const l of logs) l.published = true;
      droppedSinceLastBatch -= dropped;
    }
  }

  return {
    append,
    flush,
    get buffered() {
      return bufferedRows;
    },
    async close() {
      clearInterval(timer);
      await flush();
      closed = true;
    },
  };
}

/** Predictions of any deployments, as one log per deployment revision, model version and routed/shadow. */
class Batch {
  rows = 0;
  private readonly logs = new Map<string, LogBuilder>();

  add(r: PredictionRecord) {
    const key = `${r.deployment}\n${r.revision}\n${r.model}\n${r.shadow}`;
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, (log = new LogBuilder(r)));
    log.add(r);
    this.rows += r.rowCount;
  }

  /** The logs grouped by deployment revision. */
  byRevision(): LogBuilder[][] {
    const groups = new Map<string, LogBuilder[]>();
    for (const l of this.logs.values()) {
      const key = `${l.deployment}\n${l.revision}`;
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(l);
    }
    return [...groups.values()];
  }
}

/** One log's rows, column by column. */
class LogBuilder {
  readonly deployment: string;
  readonly project: string;
  readonly deploymentId: string;
  readonly revision: bigint;
  private readonly model: string;
  private readonly featureView: string;
  private readonly shadow: boolean;
  private readonly requestIds: string[] = [];
  private readonly timeMs: number[] = [];
  private readonly latencyMicros: number[] = [];
  private readonly entities = new ColumnsBuilder();
  private readonly features = new ColumnsBuilder();
  private readonly outputs = new ColumnsBuilder();
  /** Set once its event is out (a retry of the batch skips it). */
  published = false;

  constructor(first: PredictionRecord) {
    this.deployment = first.deployment;
    this.project = first.project;
    this.deploymentId = first.deploymentId;
    this.revision = first.revision;
    this.model = first.model;
    this.featureView = first.featureView;
    this.shadow = first.shadow;
  }

  add(r: PredictionRecord) {
    const ms = r.time.getTime();
    for (let i = 0; i < r.rowCount; i++) {
      this.requestIds.push(r.requestId);
      this.timeMs.push(ms);
      this.latencyMicros.push(r.latencyMicros);
    }
    this.entities.add(r.entities, r.rowCount);
    this.features.add(r.features, r.rowCount);
    this.outputs.add(r.outputs, r.rowCount);
  }

  /** The PredictionLog message's bytes, written directly (see prediction-log-encoding.ts). */
  encoded(): Uint8Array {
    return encodePredictionLog({
      model: this.model,
      featureView: this.featureView,
      shadow: this.shadow,
      requestIds: this.requestIds,
      timeMs: this.timeMs,
      latencyMicros: this.latencyMicros,
      entities: this.entities.encoded(),
      features: this.features.encoded(),
      outputs: this.outputs.encoded(),
    });
  }
}

/** Columns filled record by record; a column a record lacks is null in its rows. */
class ColumnsBuilder {
  private rows = 0;
  private readonly columns = new Map<string, ColumnBuilder>();
  /** The builders in the order of the last record's columns: records of one deployment revision have the same columns, found here without the map. */
  private order: ColumnBuilder[] = [];

  add(columns: readonly TypedColumn[], rowCount: number) {
    const order = this.order;
    let same = columns.length === order.length && columns.length === this.columns.size;
    for (let j = 0; j < columns.length; j++) {
      const c = columns[j]!;
      let column = same && order[j]!.name === c.name ? order[j]! : undefined;
      if (!column) {
        same = false;
        column = this.columns.get(c.name);
        if (!column) {
          this.columns.set(c.name, (column = new ColumnBuilder(c.name, c.type)));
          for (let i = 0; i < this.rows; i++) column.append(null);
        }
      }
      for (let i = 0; i < rowCount; i++) column.append(c.values[i] ?? null);
    }
    this.rows += rowCount;
    if (same) return;
    this.order = columns.map((c) => this.columns.get(c.name)!);
    for (const column of this.columns.values()) while (column.length < this.rows) column.append(null);
  }

  encoded(): Uint8Array {
    return encodeRecordBatch(this.rows, [...this.columns.values()].map((c) => c.column()));
  }
}
