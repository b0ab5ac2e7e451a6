// Deterministic synthetic card transactions with fraud that a model can learn.
//
// Every number comes from one seeded PRNG, so the same seed and size give the
// same data on every machine. The timeline starts at a fixed date:
//
//   warm-up days (features only) | history days (backfill) | live days (stream)
//
// Normal traffic: each card has its own typical amount and daily rate; hours
// follow a daytime profile; merchants are picked by popularity.
// Fraud (the learnable signal):
// - a compromised card gets a burst of 3–8 transactions within minutes,
//   mostly at night, for several times the card's usual amount, mostly at
//   risky merchants;
// - a few isolated frauds at risky merchants for a higher than usual amount.
// Drift (on the drifted live days): every amount is scaled up (a price change),
// and fraud bursts switch to smaller amounts spread over more transactions,
// so a model trained on history sees a shifted world.
import { seededRandom } from "@fti/testkit/random";

export interface GeneratorOptions {
  seed: number;
  cards: number;
  merchants: number;
  /** Mean transactions per card per day. */
  txPerCardPerDay: number;
  warmupDays: number;
  historyDays: number;
  /** Live days after history; the last `driftDays` of them are drifted when `drift` is on. */
  liveDays: number;
  driftDays: number;
  drift: boolean;
  /** Day 0 of the history (UTC midnight). */
  start: Date;
}

export interface Transaction {
  txId: string;
  tsMs: number;
  cardId: string;
  merchantId: string;
  amount: number;
  hour: number;
  isFraud: boolean;
  /** Day index relative to the history start (negative for warm-up days). */
  day: number;
}

export interface GeneratedData {
  transactions: Transaction[];
  cards: number;
  merchants: number;
  /** Merchants whose traffic carries more fraud (for the README, not the model). */
  riskyMerchants: number;
}

export const DAY_MS = 86_400_000;

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function poisson(rand: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

/** Picks an index by cumulative weights. */
function pick(rand: () => number, cumulative: number[]): number {
  const x = rand() * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function cumulate(weights: number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

// Share of a day's normal transactions per hour: quiet nights, busy afternoons.
const hourProfile = cumulate([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 4.5, 5, 5.5, 6, 6.5, 6, 5.5, 5.5, 6, 6.5, 7, 6.5, 5, 4, 3, 2]);

export function generate(options: GeneratorOptions): GeneratedData {
  const rand = seededRandom(options.seed);
  const startMs = options.start.getTime();

  const merchantIds = Array.from({ length: options.merchants }, (_, j) => `m${String(j + 1).padStart(4, "0")}`);
  const risky = merchantIds.map(() => rand() < 0.12);
  const popularity = merchantIds.map(() => 1 / Math.pow(rand() + 0.05, 1.2));
  const normalMerchants = cumulate(popularity.map((p, j) => (risky[j] ? p * 0.3 : p)));
  const riskyIndexes = risky.flatMap((r, j) => (r ? [j] : []));
  const riskyMerchants = cumulate(riskyIndexes.map((j) => popularity[j]!));

  const cards = Array.from({ length: options.cards }, (_, i) => ({
    id: `c${String(i + 1).padStart(5, "0")}`,
    typicalAmount: Math.exp(Math.log(40) + 0.7 * normal(rand)),
    rate: options.txPerCardPerDay * (0.4 + 1.2 * rand()),
  }));

  const firstDay = -options.warmupDays;
  const lastDay = options.historyDays + options.liveDays; // exclusive
  const driftFrom = options.historyDays + options.liveDays - options.driftDays;
  const raw: Omit<Transaction, "txId" | "hour">[] = [];

  for (let day = firstDay; day < lastDay; day++) {
    const drifted = options.drift && day >= driftFrom;
    const priceFactor = drifted ? 1.9 : 1;
    const dayMs = startMs + day * DAY_MS;
    for (const card of cards) {
      const n = poisson(rand, card.rate);
      for (let k = 0; k < n; k++) {
        const hour = pick(rand, hourProfile);
        const tsMs = dayMs + hour * 3_600_000 + Math.floor(rand() * 3_600_000);
        const j = pick(rand, normalMerchants);
        let amount = card.typicalAmount * Math.exp(0.45 * normal(rand)) * priceFactor;
        // Isolated fraud: a risky merchant, a somewhat larger amount.
        const isolated = risky[j]! && rand() < 0.06;
        if (isolated) amount *= 1.5 + 2 * rand();
        raw.push({ tsMs, cardId: card.id, merchantId: merchantIds[j]!, amount, isFraud: isolated, day });
      }
      // A legitimate shopping spree looks like a burst too: a few quick purchases, larger than usual.
      if (rand() < 0.03) {
        let tsMs = dayMs + pick(rand, hourProfile) * 3_600_000 + Math.floor(rand() * 3_600_000);
        for (let k = 2 + Math.floor(rand() * 4); k > 0; k--) {
          raw.push({ tsMs: Math.min(tsMs, dayMs + DAY_MS - 1), cardId: card.id, merchantId: merchantIds[pick(rand, normalMerchants)]!, amount: card.typicalAmount * (1 + 2.5 * rand()) * priceFactor, isFraud: false, day });
          tsMs += 30_000 + Math.floor(rand() * 600_000);
        }
      }
      // A compromised card: a burst.
      if (rand() < 0.012) {
        const night = rand() < 0.5;
        const hour = night ? Math.floor(rand() * 6) : pick(rand, hourProfile);
        let tsMs = dayMs + hour * 3_600_000 + Math.floor(rand() * 3_600_000);
        const count = drifted ? 6 + Math.floor(rand() * 7) : 3 + Math.floor(rand() * 6);
        for (let k = 0; k < count; k++) {
          const atRisky = riskyIndexes.length > 0 && rand() < 0.5;
          const j = atRisky ? riskyIndexes[pick(rand, riskyMerchants)]! : pick(rand, normalMerchants);
          const multiple = drifted ? 0.8 + 1.2 * rand() : 1.5 + 6 * rand();
          const amount = card.typicalAmount * multiple * priceFactor;
          raw.push({ tsMs: Math.min(tsMs, dayMs + DAY_MS - 1), cardId: card.id, merchantId: merchantIds[j]!, amount, isFraud: true, day });
          tsMs += 20_000 + Math.floor(rand() * 280_000);
        }
      }
    }
  }

  // One card never pays twice in the same millisecond: the event time orders a card's rows.
  raw.sort((a, b) => a.tsMs - b.tsMs || (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0));
  const lastByCard = new Map<string, number>();
  for (const t of raw) {
    const last = lastByCard.get(t.cardId);
    if (last !== undefined && t.tsMs <= last) t.tsMs = last + 1;
    lastByCard.set(t.cardId, t.tsMs);
  }
  raw.sort((a, b) => a.tsMs - b.tsMs || (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0));

  const transactions = raw.map((t, i) => ({
    ...t,
    amount: Math.round(Math.max(t.amount, 0.5) * 100) / 100,
    txId: `t${String(i + 1).padStart(8, "0")}`,
    hour: new Date(t.tsMs).getUTCHours(),
  }));
  return { transactions, cards: cards.length, merchants: merchantIds.length, riskyMerchants: riskyIndexes.length };
}
