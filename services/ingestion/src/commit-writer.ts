// The dual write of one batch, idempotent by batch id and safe against a crash
// at any point:
//   1. lock the batch id; a committed batch id returns its commit (duplicate);
//   2. record the intent in Postgres (commit_id NULL);
//   3. one offline Delta commit, with the batch id in its commitInfo;
//   4. record the Delta version and queue the ingestion.commit event (one transaction);
//   5. the online upsert (or delete), then mark the commit WRITTEN.
// A crash between 2 and 4 is resolved by looking the batch id up in the Delta
// log (found: continue at 4; not found: the intent is dropped, nothing was
// written); a crash between 4 and 5 is completed from the commit's rows.
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { withTransaction, type Pool } from "@fti/db";
import type { Logger } from "@fti/logger";
import type { CommitSummary } from "@fti/offline-store";
import { RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { Commit_Kind as Kind, Commit_OnlineState as OnlineState, type Commit } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { OnlineStore } from "@fti/online-store";
import { decodeRecordBatch, encodeRecordBatch } from "@fti/record-batch";
import { columnsToRows, type ColumnBatch, type Row } from "@fti/schema";
import * as store from "./commit-store.js";
import type { FeatureGroups, ResolvedGroup } from "./feature-groups.js";
import { commitName } from "./names.js";
import { enqueueCommitEvent, type EventSettings } from "./outbox.js";

export interface WriteResult {
  commit: Commit;
  /** True when the batch id had been committed before: nothing was written now. */
  duplicate: boolean;
}

export interface CommitWriter {
  /** Appends `columns` as one commit. `draft` carries everything but the Delta version and time. */
  append(group: ResolvedGroup, draft: Commit, columns: ColumnBatch, options?: { messageIds?: readonly string[] }): Promise<WriteResult>;
  /** Deletes every row of `keys` (primary key columns only) as one commit. */
  delete(group: ResolvedGroup, draft: Commit, keys: ColumnBatch): Promise<WriteResult>;
  /** Finishes what a crash or an outage left undone; returns how many commits it finished. */
  recover(): Promise<number>;
}

export interface CommitWriterDeps {
  pool: Pool;
  groups: FeatureGroups;
  online: OnlineStore;
  events: EventSettings;
  logger: Logger;
  /** Called when an event was queued, to wake the relay. */
  onEvent?: () => void;
}

export function createCommitWriter(deps: CommitWriterDeps): CommitWriter {
  const { pool, logger } = deps;

  /** Steps 1 and the duplicate cases of the protocol; `write` does 2–5 for a new batch. */
  async function idempotent(group: ResolvedGroup, draft: Commit, write: () => Promise<Commit>): Promise<WriteResult> {
    const unlock = (await store.lockBatch(pool, group.name, draft.batchId, { wait: true }))!;
    try {
      const existing = await store.findByBatchId(pool, group.name, draft.batchId);
      if (existing?.commitId !== undefined) return { commit: await completeOnline(group, existing), duplicate: true };
      if (existing) {
        const finished = await finishFromLog(group, existing);
        if (finished) return { commit: finished, duplicate: true };
      }
      return { commit: await write(), duplicate: false };
    } finally {
      await unlock();
    }
  }

  async function committed(draft: Commit, version: number, time: Date, group: ResolvedGroup): Promise<Commit> {
    const commit: Commit = { ...draft, name: commitName(group.name, version), commitId: BigInt(version), commitTime: timestampFromDate(time) };
    commit.onlineState = group.onlineEnabled ? OnlineState.PENDING : OnlineState.NOT_ENABLED;
    await withTransaction(pool, async (tx) => {
      await store.recordCommitted(tx, commit);
      await enqueueCommitEvent(tx, deps.events, commit);
    });
    deps.onEvent?.();
    return commit;
  }

  /** The batch id is in the Delta log but was not recorded (crash between 3 and 4): record it and complete online. */
  async function finishFromLog(group: ResolvedGroup, intent: store.StoredCommit): Promise<Commit | undefined> {
    const found = await findInLog(group, intent.batchId);
    if (!found) return undefined;
    logger.info("commit found in the Delta log after a crash", { featureGroup: group.name, batchId: intent.batchId, version: found.version });
    const commit = await committed(intent.commit, found.version, found.timestamp, group);
    return completeOnline(group, { ...intent, commitId: found.version, commit });
  }

  async function findInLog(group: ResolvedGroup, batchId: string): Promise<CommitSummary | undefined> {
    return (await group.offline.listCommits()).find((c) => c.batchId === batchId);
  }

  /** Step 5 for a recorded commit whose online write may be missing. */
  async function completeOnline(group: ResolvedGroup, stored: store.StoredCommit): Promise<Commit> {
    const { commit } = stored;
    if (commit.onlineState !== OnlineState.PENDING) return commit;
    if (commit.kind === Kind.DELETE) {
      const keys = columnsToRows(decodeRecordBatch(fromBinary(RecordBatchSchema, stored.deleteKeys ?? new Uint8Array()), "keys"));
      await onlineDelete(group, keys);
    } else {
      await onlineUpsert(group, await rowsOfCommit(group, stored.commitId!));
    }
    await store.recordOnlineWritten(pool, commit);
    return commit;
  }

  /**
   * The rows a commit appended that are still live: files whose append
   * version is exactly this commit, in the latest snapshot, so rows removed
   * by a later delete are not brought back online.
   */
  async function rowsOfCommit(group: ResolvedGroup, version: number): Promise<Row[]> {
    const since = await group.offline.scanChangesSince(version - 1);
    const later = new Set((await group.offline.scanChangesSince(version, { untilVersion: since.version })).files.map((f) => f.path));
    return group.offline.readPlan({ ...since, files: since.files.filter((f) => !later.has(f.path)) });
  }

  async function onlineUpsert(group: ResolvedGroup, rows: readonly Row[]) {
    if (group.onlineEnabled && rows.length) await deps.online.upsert(group.online, rows);
  }

  async function onlineDelete(group: ResolvedGroup, keys: readonly Row[]) {
    if (group.onlineEnabled && keys.length) await deps.online.deleteKeys(group.online, keys);
  }

  return {
    append(group, draft, columns, options = {}) {
      return idempotent(group, draft, async () => {
        await store.recordIntent(pool, draft, { messageIds: options.messageIds });
        // The online upsert runs beside the offline append: rows are readable
        // online as soon as they are validated (freshness), and nothing is
        // acknowledged before both writes finish. It is safe to do early
        // because online writes are idempotent (event-time last-write-wins): if
        // the append fails, the caller's retry (or NATS redelivery) writes the
        // same rows again, and after a crash recovery completes them.
        const onlineWrite = group.onlineEnabled ? onlineUpsert(group, columnsToRows(columns)) : Promise.resolve();
        onlineWrite.catch(() => {}); // handled below; this only keeps it from counting as unhandled meanwhile
        let result;
        try {
          result = await group.offline.append(columns, { batchId: draft.batchId });
        } catch (err) {
          await onlineWrite.catch(() => {});
          await store.dropIntent(pool, group.name, draft.batchId).catch(() => {});
          throw err;
        }
        const commit = await committed(draft, result.version, result.timestamp, group);
        if (group.onlineEnabled) {
          await onlineWrite;
          await store.recordOnlineWritten(pool, commit);
        }
        return commit;
      });
    },

    delete(group, draft, keys) {
      return idempotent(group, draft, async () => {
        const keyRows = columnsToRows(keys);
        await store.recordIntent(pool, draft, { deleteKeys: encodeKeys(group, keys) });
        let result;
        try {
          result = await group.offline.deleteRows(keyRows, { batchId: draft.batchId });
        } catch (err) {
          await store.dropIntent(pool, group.name, draft.batchId).catch(() => {});
          throw err;
        }
        draft.rowsDeleted = BigInt(result.rowsRemoved);
        if (!result.committed) {
          // No offline row matched: there is no Delta commit to record. The
          // online store is cleared anyway (it may hold materialized rows).
          await store.dropIntent(pool, group.name, draft.batchId);
          await onlineDelete(group, keyRows);
          return { ...draft, commitId: BigInt(result.version), commitTime: timestampFromDate(result.timestamp), onlineState: group.onlineEnabled ? OnlineState.WRITTEN : OnlineState.NOT_ENABLED };
        }
        const commit = await committed(draft, result.version, result.timestamp, group);
        if (group.onlineEnabled) {
          await onlineDelete(group, keyRows);
          await store.recordOnlineWritten(pool, commit);
        }
        return commit;
      });
    },

    async recover() {
      let finished = 0;
      for (const stored of await store.unfinished(pool)) {
        const unlock = await store.lockBatch(pool, stored.featureGroup, stored.batchId, { wait: false });
        if (!unlock) continue; // being written right now, here or by another replica
        try {
          const group = await deps.groups.resolve(stored.featureGroup);
          const current = await store.findByBatchId(pool, stored.featureGroup, stored.batchId);
          if (!current) continue;
          if (current.commitId !== undefined) await completeOnline(group, current);
          else if (!(await finishFromLog(group, current))) {
            // The process died before the Delta commit: nothing was written, and nothing was acknowledged.
            await store.dropIntent(pool, stored.featureGroup, stored.batchId);
            logger.info("abandoned batch intent dropped", { featureGroup: stored.featureGroup, batchId: stored.batchId });
          }
          finished++;
        } catch (err) {
          logger.warn("cannot finish commit yet; will retry", { featureGroup: stored.featureGroup, batchId: stored.batchId, error: err instanceof Error ? err.message : String(err) });
        } finally {
          await unlock();
        }
      }
      return finished;
    },
  };
}

/** The delete's keys as RecordBatch bytes, kept with the intent to redo the online delete after a crash. */
function encodeKeys(group: ResolvedGroup, keys: ColumnBatch): Uint8Array {
  const columns = group.schema.primaryKey.map((name) => ({ name, type: group.schema.features.find((f) => f.name === name)!.type, values: keys.columns[name]! }));
  return encodeRecordBatch(keys.rowCount, columns);
}
