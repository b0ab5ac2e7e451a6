// The prediction log: every prediction (routed and shadow) goes into a bounded
// buffer on the response path — an array push — and is published to NATS in
// PredictionLogBatch events off it, on a timer or when a batch is full. When
// NATS is slow or down the buffer fills up; new predictions are then dropped
// and counted, and the count travels with the next batch that gets through.
import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publishMessage, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import type { PredictionLogSchema } from "@fti/proto/fti/events/v1/events_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { recordBatchMessage, type TypedColumn } from "@fti/record-batch";
import type { Value } from "@fti/schema";

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
  let queue: PredictionRecord[] = [];
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
    queue.push(record);
    bufferedRows += record.rowCount;
    if (bufferedRows >= batchSize && !flushing) setImmediate(() => void flush());
  }

  function flush(): Promise<void> {
    flushing ??= drain().finally(() => (flushing = undefined));
    return flushing;
  }

  async function drain() {
    while (queue.length > 0) {
      let rows = 0;
      let take = 0;
      while (take < queue.length && (take === 0 || rows + queue[take]!.rowCount <= batchSize)) rows += queue[take++]!.rowCount;
      const batch = queue.slice(0, take);
      queue = queue.slice(take);
      bufferedRows -= rows;
      try {
        await publish(batch);
        options.onPublished?.(rows);
      } catch (err) {
        // Keep them for the next attempt while they fit; what does not is dropped and counted.
        const room = bufferSize - bufferedRows;
        const kept = rows <= room ? batch : [];
        if (kept.length) {
          queue = [...kept, ...queue];
          bufferedRows += rows;
        } else {
          droppedSinceLastBatch += BigInt(rows);
          options.onDropped?.(rows);
        }
        logger.warn("prediction log publish failed; will retry", { rows, buffered: bufferedRows, error: (err as Error).message });
        return;
      }
    }
  }

  async function publish(records: PredictionRecord[]) {
    // One event per deployment revision, one log per model version (routed or shadow) in it.
    const groups = new Map<string, PredictionRecord[]>();
    for (const r of records) {
      const key = `${r.deployment}\n${r.revision}`;
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(r);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const logs = new Map<string, PredictionRecord[]>();
      for (const r of group) {
        const key = `${r.model}\n${r.shadow}`;
        (logs.get(key) ?? logs.set(key, []).get(key)!).push(r);
      }
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
            value: { deployment: first.deployment, deploymentRevision: first.revision, logs: [...logs.values()].map(logOf), droppedCount: dropped },
          },
        },
        { msgId: id },
      );
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

function logOf(records: PredictionRecord[]): MessageInitShape<typeof PredictionLogSchema> {
  const first = records[0]!;
  const requestIds: string[] = [];
  const timeMicros: bigint[] = [];
  const latencyMicros: number[] = [];
  for (const r of records) {
    const micros = BigInt(r.time.getTime()) * 1000n;
    for (let i = 0; i < r.rowCount; i++) {
      requestIds.push(r.requestId);
      timeMicros.push(micros);
      latencyMicros.push(r.latencyMicros);
    }
  }
  const rowCount = requestIds.length;
  return {
    model: first.model,
    featureView: first.featureView,
    shadow: first.shadow,
    requestIds,
    timeMicros,
    latencyMicros,
    entities: concat(records, (r) => r.entities, rowCount),
    features: concat(records, (r) => r.features, rowCount),
    outputs: concat(records, (r) => r.outputs, rowCount),
  };
}

/** The records' column sets one after another, as one batch (columns as in the first record). */
function concat(records: PredictionRecord[], columnsOf: (r: PredictionRecord) => readonly TypedColumn[], rowCount: number) {
  const columns = columnsOf(records[0]!).map((c) => ({ name: c.name, type: c.type, values: [] as Value[] }));
  for (const r of records) {
    const byName = new Map(columnsOf(r).map((c) => [c.name, c]));
    for (const c of columns) {
      const source = byName.get(c.name);
      for (let i = 0; i < r.rowCount; i++) c.values.push(source?.values[i] ?? null);
    }
  }
  return recordBatchMessage(rowCount, columns);
}
