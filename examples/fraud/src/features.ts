// Feature engineering, written twice on purpose, as in a real FTI system:
// - batch (DuckDB window functions) for the backfill of history;
// - streaming (per-card state in memory) for live transactions.
// Both compute exactly the same definitions; the test checks they agree.
import { DuckDBInstance, DuckDBTimestampValue } from "@duckdb/node-api";
import type { FeatureType, Value } from "@fti/schema";
import { DAY_MS, type Transaction } from "./generator.js";

/** Feature group schemas as the pipelines write them (must match definitions/). */
export const transactionColumns = {
  tx_id: "string",
  ts: "timestamp",
  card_id: "string",
  merchant_id: "string",
  amount: "double",
  hour: "int32",
  is_fraud: "bool",
} as const satisfies Record<string, FeatureType>;

export const cardActivityColumns = {
  card_id: "string",
  ts: "timestamp",
  tx_count_10m: "int64",
  tx_count_1h: "int64",
  tx_count_1d: "int64",
  amount_sum_10m: "double",
  amount_sum_1h: "double",
  amount_sum_1d: "double",
  amount_avg_7d: "double",
  seconds_since_prev: "double",
} as const satisfies Record<string, FeatureType>;

export const merchantProfileColumns = {
  merchant_id: "string",
  ts: "timestamp",
  tx_count_7d: "int64",
  amount_avg_7d: "double",
  fraud_rate_7d: "double",
} as const satisfies Record<string, FeatureType>;

/** Columns of a table: one array per column, rows in the same order. */
export type ColumnTable = { rowCount: number; columns: Record<string, Value[]> };

/** Seconds since the card's previous transaction, when it has none. */
export const NO_PREVIOUS_SECONDS = 7 * 86_400;

export function transactionTable(transactions: readonly Transaction[]): ColumnTable {
  return {
    rowCount: transactions.length,
    columns: {
      tx_id: transactions.map((t) => t.txId),
      ts: transactions.map((t) => new Date(t.tsMs)),
      card_id: transactions.map((t) => t.cardId),
      merchant_id: transactions.map((t) => t.merchantId),
      amount: transactions.map((t) => t.amount),
      hour: transactions.map((t) => t.hour),
      is_fraud: transactions.map((t) => t.isFraud),
    },
  };
}

async function withTransactions<T>(transactions: readonly Transaction[], fn: (run: (sql: string) => Promise<Record<string, unknown[]>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const connection = await instance.connect();
  try {
    await connection.run("CREATE TABLE tx (tx_id VARCHAR, ts TIMESTAMP, card_id VARCHAR, merchant_id VARCHAR, amount DOUBLE, is_fraud BOOLEAN)");
    const appender = await connection.createAppender("tx");
    for (const t of transactions) {
      appender.appendVarchar(t.txId);
      appender.appendTimestamp(new DuckDBTimestampValue(BigInt(t.tsMs) * 1000n));
      appender.appendVarchar(t.cardId);
      appender.appendVarchar(t.merchantId);
      appender.appendDouble(t.amount);
      appender.appendBoolean(t.isFraud);
      appender.endRow();
    }
    appender.closeSync();
    return await fn(async (sql) => (await connection.runAndReadAll(sql)).getColumnsObjectJS() as Record<string, unknown[]>);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Card rolling aggregates, one row per transaction (as of that transaction,
 * itself included), for transactions with event time in [fromMs, toMs).
 * The windows read every transaction given, so pass the warm-up days too.
 */
export async function cardActivityBatch(transactions: readonly Transaction[], fromMs: number, toMs: number): Promise<ColumnTable> {
  return withTransactions(transactions, async (run) => {
    const window = (range: string) => `OVER (PARTITION BY card_id ORDER BY ts RANGE BETWEEN INTERVAL ${range} PRECEDING AND CURRENT ROW)`;
    const out = await run(`
      SELECT * FROM (
        SELECT card_id, epoch_ms(ts) AS ts_ms,
          count(*) ${window("10 MINUTE")} AS tx_count_10m,
          count(*) ${window("1 HOUR")} AS tx_count_1h,
          count(*) ${window("1 DAY")} AS tx_count_1d,
          sum(amount) ${window("10 MINUTE")} AS amount_sum_10m,
          sum(amount) ${window("1 HOUR")} AS amount_sum_1h,
          sum(amount) ${window("1 DAY")} AS amount_sum_1d,
          avg(amount) ${window("7 DAY")} AS amount_avg_7d,
          coalesce((epoch_ms(ts) - epoch_ms(lag(ts) OVER (PARTITION BY card_id ORDER BY ts))) / 1000.0, ${NO_PREVIOUS_SECONDS}) AS seconds_since_prev
        FROM tx)
      WHERE ts_ms >= ${fromMs} AND ts_ms < ${toMs}
      ORDER BY ts_ms, card_id`);
    const n = out.card_id!.length;
    const num = (c: string) => out[c]!.map(Number);
    const big = (c: string) => out[c]!.map((v) => BigInt(v as number | bigint));
    return {
      rowCount: n,
      columns: {
        card_id: out.card_id as string[],
        ts: out.ts_ms!.map((v) => new Date(Number(v))),
        tx_count_10m: big("tx_count_10m"),
        tx_count_1h: big("tx_count_1h"),
        tx_count_1d: big("tx_count_1d"),
        amount_sum_10m: num("amount_sum_10m"),
        amount_sum_1h: num("amount_sum_1h"),
        amount_sum_1d: num("amount_sum_1d"),
        amount_avg_7d: num("amount_avg_7d"),
        seconds_since_prev: num("seconds_since_prev"),
      },
    };
  });
}

/**
 * Merchant profiles, one row per merchant per day at midnight, from the seven
 * days before it: transaction count, average amount and fraud rate (the
 * chargebacks known by then). Days are indexes relative to `startMs`.
 */
export async function merchantProfileBatch(transactions: readonly Transaction[], startMs: number, fromDay: number, toDay: number): Promise<ColumnTable> {
  return withTransactions(transactions, async (run) => {
    const out = await run(`
      WITH days AS (SELECT range AS day FROM range(${fromDay}, ${toDay})),
           merchants AS (SELECT DISTINCT merchant_id FROM tx)
      SELECT m.merchant_id, d.day,
        count(t.tx_id) AS tx_count_7d,
        avg(t.amount) AS amount_avg_7d,
        coalesce(avg(CASE WHEN t.is_fraud THEN 1.0 ELSE 0.0 END), 0) AS fraud_rate_7d
      FROM merchants m CROSS JOIN days d
      LEFT JOIN tx t ON t.merchant_id = m.merchant_id
        AND epoch_ms(t.ts) >= ${startMs} + (d.day - 7) * ${DAY_MS}
        AND epoch_ms(t.ts) < ${startMs} + d.day * ${DAY_MS}
      GROUP BY m.merchant_id, d.day
      ORDER BY d.day, m.merchant_id`);
    const n = out.merchant_id!.length;
    return {
      rowCount: n,
      columns: {
        merchant_id: out.merchant_id as string[],
        ts: out.day!.map((d) => new Date(startMs + Number(d) * DAY_MS)),
        tx_count_7d: out.tx_count_7d!.map((v) => BigInt(v as number | bigint)),
        amount_avg_7d: out.amount_avg_7d!.map((v) => (v === null ? null : Number(v))),
        fraud_rate_7d: out.fraud_rate_7d!.map(Number),
      },
    };
  });
}

/**
 * The streaming version of cardActivityBatch: per-card state of the last
 * seven days, updated one transaction at a time, in event-time order.
 */
export function createCardActivityAggregator() {
  const state = new Map<string, { ts: number[]; amount: number[] }>();
  const windowSum = (s: { ts: number[]; amount: number[] }, fromMs: number) => {
    let count = 0;
    let sum = 0;
    for (let i = s.ts.length - 1; i >= 0 && s.ts[i]! >= fromMs; i--) {
      count++;
      sum += s.amount[i]!;
    }
    return { count, sum };
  };
  return {
    /** Adds a transaction and returns the card's features as of it. */
    add(t: Pick<Transaction, "cardId" | "tsMs" | "amount">): Record<keyof typeof cardActivityColumns, Value> {
      let s = state.get(t.cardId);
      if (!s) state.set(t.cardId, (s = { ts: [], amount: [] }));
      const previous = s.ts.length ? s.ts[s.ts.length - 1]! : undefined;
      s.ts.push(t.tsMs);
      s.amount.push(t.amount);
      // Forget what no window reaches any more.
      let drop = 0;
      while (s.ts[drop]! < t.tsMs - 7 * DAY_MS) drop++;
      if (drop) {
        s.ts.splice(0, drop);
        s.amount.splice(0, drop);
      }
      const m10 = windowSum(s, t.tsMs - 600_000);
      const h1 = windowSum(s, t.tsMs - 3_600_000);
      const d1 = windowSum(s, t.tsMs - DAY_MS);
      const d7 = windowSum(s, t.tsMs - 7 * DAY_MS);
      return {
        card_id: t.cardId,
        ts: new Date(t.tsMs),
        tx_count_10m: BigInt(m10.count),
        tx_count_1h: BigInt(h1.count),
        tx_count_1d: BigInt(d1.count),
        amount_sum_10m: m10.sum,
        amount_sum_1h: h1.sum,
        amount_sum_1d: d1.sum,
        amount_avg_7d: d7.sum / d7.count,
        seconds_since_prev: previous === undefined ? NO_PREVIOUS_SECONDS : (t.tsMs - previous) / 1000,
      };
    },
  };
}
