// Feature pipelines: the batch backfill (DuckDB → Ingest through the SDK), the
// daily merchant job, and the streaming pipeline (per-card state → NATS →
// the ingestion service's stream consumer).
import { Commit_Source } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { FeatureType, Value } from "@fti/schema";
import { seededRandom } from "@fti/testkit/random";
import {
  cardActivityBatch,
  cardActivityColumns,
  createCardActivityAggregator,
  merchantProfileBatch,
  merchantProfileColumns,
  transactionColumns,
  transactionTable,
  type ColumnTable,
} from "./features.js";
import { DAY_MS, type Transaction } from "./generator.js";
import { waitFor, type Platform } from "./platform.js";

export interface FeatureGroups {
  transactions: string;
  cardActivity: string;
  merchantProfile: string;
}

/** A slice [from, to) of a column table as a RecordBatch of the given columns. */
export function toRecordBatch(table: ColumnTable, types: Record<string, FeatureType>, from = 0, to = table.rowCount): RecordBatch {
  const columns = Object.entries(types).map(([name, type]) => ({ name, type, values: table.columns[name]!.slice(from, to) }));
  return recordBatchMessage(to - from, columns);
}

/** Ingests a table in batches of `batchRows`, each one idempotent commit; returns the rows written. */
export async function ingestTable(platform: Platform, featureGroup: string, table: ColumnTable, types: Record<string, FeatureType>, batchIdPrefix: string, batchRows = 50_000): Promise<number> {
  let written = 0;
  for (let from = 0, part = 0; from < table.rowCount; from += batchRows, part++) {
    const to = Math.min(from + batchRows, table.rowCount);
    const { commit, duplicate } = await platform.client.ingestion.ingest({ featureGroup, batchId: `${batchIdPrefix}/part-${part}`, rows: toRecordBatch(table, types, from, to) });
    written += duplicate ? to - from : Number(commit?.rowsWritten ?? 0);
  }
  return written;
}

export interface BackfillResult {
  transactions: number;
  cardActivity: number;
  merchantProfile: number;
}

/** The batch backfill of the history days. */
export async function backfill(platform: Platform, groups: FeatureGroups, all: readonly Transaction[], startMs: number, historyDays: number): Promise<BackfillResult> {
  const endMs = startMs + historyDays * DAY_MS;
  const history = all.filter((t) => t.tsMs >= startMs && t.tsMs < endMs);
  // Rolling windows read the warm-up days too, so the first history day has full windows.
  const known = all.filter((t) => t.tsMs < endMs);
  const [cards, merchants] = await Promise.all([cardActivityBatch(known, startMs, endMs), merchantProfileBatch(known, startMs, 0, historyDays)]);
  const transactions = await ingestTable(platform, groups.transactions, transactionTable(history), transactionColumns, "backfill/transactions");
  const cardActivity = await ingestTable(platform, groups.cardActivity, cards, cardActivityColumns, "backfill/card_activity");
  const merchantProfile = await ingestTable(platform, groups.merchantProfile, merchants, merchantProfileColumns, "backfill/merchant_profile");
  return { transactions, cardActivity, merchantProfile };
}

/** The daily merchant job for one day (rows at that day's midnight, from the 7 days before). */
export async function merchantDailyJob(platform: Platform, groups: FeatureGroups, all: readonly Transaction[], startMs: number, day: number): Promise<number> {
  const known = all.filter((t) => t.tsMs < startMs + day * DAY_MS);
  const table = await merchantProfileBatch(known, startMs, day, day + 1);
  return ingestTable(platform, groups.merchantProfile, table, merchantProfileColumns, `daily/merchant_profile/day-${day}`);
}

/** Rows written to a feature group version by NATS micro-batches so far. */
export async function streamRowsWritten(platform: Platform, featureGroup: string): Promise<number> {
  let rows = 0;
  let pageToken = "";
  do {
    const page = await platform.client.ingestion.listCommits({ parent: featureGroup, pageSize: 1000, pageToken });
    for (const c of page.commits) if (c.source === Commit_Source.STREAM) rows += Number(c.rowsWritten);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return rows;
}

/**
 * The streaming feature pipeline. It keeps each card's last seven days in
 * memory (warm-started from history, as a stream processor restores its
 * state), computes a live transaction's card features the moment it arrives,
 * and publishes the transaction and its features to NATS.
 */
export function createStreamingPipeline(platform: Platform, project: string, groups: FeatureGroups, history: readonly Transaction[], options: { rowsPerMessage?: number; seed: number }) {
  const aggregator = createCardActivityAggregator();
  for (const t of history) aggregator.add(t);
  const rowsPerMessage = options.rowsPerMessage ?? 250;
  const version = (name: string) => Number(name.split("/").pop());
  const groupId = (name: string) => name.split("/")[3]!;
  const published = { transactions: 0, cardActivity: 0 };

  async function publish(group: string, types: Record<string, FeatureType>, rows: Record<string, Value>[], idPrefix: string) {
    for (let from = 0, part = 0; from < rows.length; from += rowsPerMessage, part++) {
      const slice = rows.slice(from, from + rowsPerMessage);
      const table: ColumnTable = { rowCount: slice.length, columns: Object.fromEntries(Object.keys(types).map((c) => [c, slice.map((r) => r[c] ?? null)])) };
      await platform.publishRows(project, groupId(group), version(group), toRecordBatch(table, types), `${project}-${idPrefix}-${part}`);
    }
  }

  return {
    published,
    /**
     * Processes one day of live transactions (in event-time order) and
     * publishes them. Messages go out in shuffled order, as from several
     * producers; the online store keeps the newest event per key regardless.
     */
    async publishDay(day: number, transactions: readonly Transaction[]): Promise<{ transactions: number; cardActivity: number }> {
      const txRows: Record<string, Value>[] = [];
      const cardRows: Record<string, Value>[] = [];
      for (const t of transactions) {
        txRows.push({ tx_id: t.txId, ts: new Date(t.tsMs), card_id: t.cardId, merchant_id: t.merchantId, amount: t.amount, hour: t.hour, is_fraud: t.isFraud });
        cardRows.push(aggregator.add(t));
      }
      const rand = seededRandom(options.seed * 1000 + day);
      const order = txRows.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      // Both groups in step, one message each per slice, card features first: at any moment what
      // has arrived is a random sample of the day (monitoring may judge a replayed day early).
      for (let from = 0, part = 0; from < order.length; from += rowsPerMessage, part++) {
        const slice = order.slice(from, from + rowsPerMessage);
        await publish(groups.cardActivity, cardActivityColumns, slice.map((i) => cardRows[i]!), `card_activity-day-${day}-${part}`);
        await publish(groups.transactions, transactionColumns, slice.map((i) => txRows[i]!), `transactions-day-${day}-${part}`);
      }
      published.transactions += txRows.length;
      published.cardActivity += cardRows.length;
      return { transactions: txRows.length, cardActivity: cardRows.length };
    },
    /** Waits until the ingestion service has committed everything published so far. */
    async waitUntilIngested(timeoutMs: number): Promise<{ transactions: number; cardActivity: number }> {
      return waitFor("the ingestion service to commit the streamed rows", timeoutMs, async () => {
        const [transactions, cardActivity] = await Promise.all([streamRowsWritten(platform, groups.transactions), streamRowsWritten(platform, groups.cardActivity)]);
        return transactions >= published.transactions && cardActivity >= published.cardActivity ? { transactions, cardActivity } : undefined;
      }, 300);
    },
  };
}
