// The commits table: one row per batch id of a feature group version, written
// before the offline append (commit_id NULL) and completed after it.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Pool, PoolClient, Queryable } from "@fti/db";
import { CommitSchema, Commit_OnlineState as OnlineState, type Commit } from "@fti/proto/fti/ingestion/v1/ingestion_pb";

export interface StoredCommit {
  featureGroup: string;
  batchId: string;
  /** Undefined while the offline write is in progress (or was cut short by a crash). */
  commitId: number | undefined;
  commit: Commit;
  deleteKeys: Uint8Array | undefined;
}

interface CommitRow {
  feature_group: string;
  batch_id: string;
  commit_id: string | null;
  commit: Uint8Array;
  delete_keys: Uint8Array | null;
}

const columns = "feature_group, batch_id, commit_id, commit, delete_keys";

export function decodeCommit(bytes: Uint8Array): Commit {
  return fromBinary(CommitSchema, bytes);
}

function fromRow(row: CommitRow): StoredCommit {
  return {
    featureGroup: row.feature_group,
    batchId: row.batch_id,
    commitId: row.commit_id === null ? undefined : Number(row.commit_id),
    commit: fromBinary(CommitSchema, row.commit),
    deleteKeys: row.delete_keys ?? undefined,
  };
}

export async function findByBatchId(db: Queryable, featureGroup: string, batchId: string): Promise<StoredCommit | undefined> {
  const { rows } = await db.query<CommitRow>(`SELECT ${columns} FROM commits WHERE feature_group = $1 AND batch_id = $2`, [featureGroup, batchId]);
  return rows[0] && fromRow(rows[0]);
}

export async function findByCommitId(db: Queryable, featureGroup: string, commitId: number): Promise<StoredCommit | undefined> {
  const { rows } = await db.query<CommitRow>(`SELECT ${columns} FROM commits WHERE feature_group = $1 AND commit_id = $2`, [featureGroup, commitId]);
  return rows[0] && fromRow(rows[0]);
}

/** Records the intent to write a batch (or replaces an abandoned one), with the NATS message ids it holds. */
export async function recordIntent(db: Queryable, draft: Commit, options: { deleteKeys?: Uint8Array; messageIds?: readonly string[] } = {}): Promise<void> {
  await db.query(
    `INSERT INTO commits (feature_group, batch_id, kind, source, online_state, commit, delete_keys) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (feature_group, batch_id) DO UPDATE SET commit = excluded.commit, delete_keys = excluded.delete_keys WHERE commits.commit_id IS NULL`,
    [draft.featureGroup, draft.batchId, draft.kind, draft.source, draft.onlineState, toBinary(CommitSchema, draft), options.deleteKeys ?? null],
  );
  if (options.messageIds?.length) {
    await db.query(
      "INSERT INTO stream_messages (feature_group, message_id, batch_id) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
      [draft.featureGroup, options.messageIds, draft.batchId],
    );
  }
}

/** Forgets an intent whose offline write never happened, so the batch id (and its messages) can be written again. */
export async function dropIntent(db: Queryable, featureGroup: string, batchId: string): Promise<void> {
  await db.query("DELETE FROM stream_messages WHERE feature_group = $1 AND batch_id = $2", [featureGroup, batchId]);
  await db.query("DELETE FROM commits WHERE feature_group = $1 AND batch_id = $2 AND commit_id IS NULL", [featureGroup, batchId]);
}

/** Records the Delta version the batch became. */
export async function recordCommitted(db: Queryable, commit: Commit): Promise<void> {
  await db.query("UPDATE commits SET commit_id = $3, commit_time = $4, online_state = $5, commit = $6 WHERE feature_group = $1 AND batch_id = $2", [
    commit.featureGroup,
    commit.batchId,
    commit.commitId,
    commit.commitTime ? new Date(Number(commit.commitTime.seconds) * 1000 + commit.commitTime.nanos / 1e6) : null,
    commit.onlineState,
    toBinary(CommitSchema, commit),
  ]);
}

export async function recordOnlineWritten(db: Queryable, commit: Commit): Promise<void> {
  commit.onlineState = OnlineState.WRITTEN;
  await db.query("UPDATE commits SET online_state = $3, commit = $4 WHERE feature_group = $1 AND batch_id = $2", [commit.featureGroup, commit.batchId, OnlineState.WRITTEN, toBinary(CommitSchema, commit)]);
}

/** Commits a crash or an outage left unfinished, oldest first per group. */
export async function unfinished(db: Queryable): Promise<StoredCommit[]> {
  const { rows } = await db.query<CommitRow>(
    `SELECT ${columns} FROM commits WHERE commit_id IS NULL OR online_state = ${OnlineState.PENDING} ORDER BY feature_group, commit_id NULLS LAST, created_at`,
  );
  return rows.map(fromRow);
}

/** The message ids among `ids` that an earlier commit already holds. */
export async function committedMessageIds(db: Queryable, featureGroup: string, ids: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ message_id: string }>("SELECT message_id FROM stream_messages WHERE feature_group = $1 AND message_id = ANY($2::text[])", [featureGroup, ids]);
  return new Set(rows.map((r) => r.message_id));
}

export async function pruneMessageIds(db: Queryable, olderThanHours: number): Promise<number> {
  const result = await db.query("DELETE FROM stream_messages WHERE created_at < now() - make_interval(hours => $1)", [olderThanHours]);
  return result.rowCount ?? 0;
}

/**
 * A session-level advisory lock on one batch id, held on its own connection
 * for the whole dual write: a concurrent retry (here or on another replica)
 * waits, and a crash releases it with the connection.
 */
export async function lockBatch(pool: Pool, featureGroup: string, batchId: string, options: { wait: boolean }): Promise<(() => Promise<void>) | undefined> {
  const client: PoolClient = await pool.connect();
  try {
    const sql = options.wait ? "SELECT pg_advisory_lock(hashtext($1), hashtext($2)) AS locked" : "SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked";
    const { rows } = await client.query<{ locked: boolean | "" }>(sql, [featureGroup, batchId]);
    if (options.wait || rows[0]!.locked === true) {
      return async () => {
        await client.query("SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", [featureGroup, batchId]).catch(() => {});
        client.release();
      };
    }
    client.release();
    return undefined;
  } catch (err) {
    client.release(true);
    throw err;
  }
}
