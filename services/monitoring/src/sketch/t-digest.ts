// A merging t-digest (Dunning & Ertl, "Computing extremely accurate quantiles
// using t-digests", 2019): a mergeable quantile sketch. Windows keep one per
// feature in Postgres, so a day's quantiles are the merge of its hours'
// digests, never a rescan of the rows. Centroids are small near the tails (the
// k1 scale function), so extreme quantiles stay accurate.

/** The stored form: centroid means (ascending) and weights, plus the exact extremes. */
export interface TDigestState {
  means: number[];
  weights: number[];
  min: number;
  max: number;
}

export const DEFAULT_COMPRESSION = 200;

export class TDigest {
  private means: number[] = [];
  private weights: number[] = [];
  private bufferMeans: number[] = [];
  private bufferWeights: number[] = [];
  private total = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly compression = DEFAULT_COMPRESSION) {}

  static from(state: TDigestState, compression = DEFAULT_COMPRESSION): TDigest {
    const d = new TDigest(compression);
    d.means = state.means.slice();
    d.weights = state.weights.slice();
    d.total = state.weights.reduce((a, b) => a + b, 0);
    d.min = state.min;
    d.max = state.max;
    return d;
  }

  /** Total weight (number of values added). */
  get count(): number {
    return this.total + this.bufferWeights.reduce((a, b) => a + b, 0);
  }

  add(value: number, weight = 1): void {
    if (!Number.isFinite(value) || weight <= 0) return;
    this.bufferMeans.push(value);
    this.bufferWeights.push(weight);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    // Compressing in large batches keeps insertion amortised O(log n).
    if (this.bufferMeans.length >= this.compression * 10) this.compress();
  }

  merge(other: TDigest): void {
    const state = other.state();
    for (let i = 0; i < state.means.length; i++) {
      this.bufferMeans.push(state.means[i]!);
      this.bufferWeights.push(state.weights[i]!);
    }
    if (state.min < this.min) this.min = state.min;
    if (state.max > this.max) this.max = state.max;
    this.compress();
  }

  /** Folds the buffer into the centroids. */
  compress(): void {
    if (this.bufferMeans.length === 0) return;
    const n = this.means.length + this.bufferMeans.length;
    const order = new Array<number>(n);
    const allMeans = this.means.concat(this.bufferMeans);
    const allWeights = this.weights.concat(this.bufferWeights);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => allMeans[a]! - allMeans[b]!);
    const total = allWeights.reduce((a, b) => a + b, 0);

    const means: number[] = [];
    const weights: number[] = [];
    let curMean = allMeans[order[0]!]!;
    let curWeight = allWeights[order[0]!]!;
    let before = 0; // weight of the centroids already emitted
    let limit = total * this.kInverse(this.k(0) + 1);
    for (let j = 1; j < n; j++) {
      const m = allMeans[order[j]!]!;
      const w = allWeights[order[j]!]!;
      if (before + curWeight + w <= limit) {
        curWeight += w;
        curMean += ((m - curMean) * w) / curWeight;
      } else {
        means.push(curMean);
        weights.push(curWeight);
        before += curWeight;
        limit = total * this.kInverse(this.k(before / total) + 1);
        curMean = m;
        curWeight = w;
      }
    }
    means.push(curMean);
    weights.push(curWeight);
    this.means = means;
    this.weights = weights;
    this.total = total;
    this.bufferMeans = [];
    this.bufferWeights = [];
  }

  /** The k1 scale function: centroid sizes shrink towards q = 0 and q = 1. */
  private k(q: number): number {
    return (this.compression / (2 * Math.PI)) * Math.asin(2 * Math.min(1, Math.max(0, q)) - 1);
  }
  private kInverse(k: number): number {
    const x = (k * 2 * Math.PI) / this.compression;
    return x >= Math.PI / 2 ? 1 : (Math.sin(x) + 1) / 2;
  }

  state(): TDigestState {
    this.compress();
    return { means: this.means.slice(), weights: this.weights.slice(), min: this.min, max: this.max };
  }

  /** The value at quantile q, interpolating between centroid centres. */
  quantile(q: number): number {
    this.compress();
    const n = this.means.length;
    if (n === 0) return NaN;
    if (n === 1) return this.means[0]!;
    const target = Math.min(1, Math.max(0, q)) * this.total;
    // Centroid i is taken to sit at cumulative weight (before_i + w_i / 2).
    let before = 0;
    const firstCentre = this.weights[0]! / 2;
    if (target <= firstCentre) return this.min + ((this.means[0]! - this.min) * target) / firstCentre;
    for (let i = 0; i < n - 1; i++) {
      const centre = before + this.weights[i]! / 2;
      const next = before + this.weights[i]! + this.weights[i + 1]! / 2;
      if (target <= next) return this.means[i]! + ((this.means[i + 1]! - this.means[i]!) * (target - centre)) / (next - centre);
      before += this.weights[i]!;
    }
    const lastCentre = this.total - this.weights[n - 1]! / 2;
    return this.means[n - 1]! + ((this.max - this.means[n - 1]!) * (target - lastCentre)) / (this.total - lastCentre);
  }

  /** The fraction of values ≤ x (interpolated between centroid centres). */
  cdf(x: number): number {
    this.compress();
    const n = this.means.length;
    if (n === 0) return NaN;
    if (x < this.min) return 0;
    if (x >= this.max) return 1;
    if (n === 1) return (x - this.min) / (this.max - this.min || 1);
    const first = this.means[0]!;
    if (x < first) return ((this.weights[0]! / 2) * (x - this.min)) / (first - this.min || 1) / this.total;
    let before = 0;
    for (let i = 0; i < n - 1; i++) {
      const a = this.means[i]!;
      const b = this.means[i + 1]!;
      if (x < b) {
        const centre = before + this.weights[i]! / 2;
        const span = this.weights[i]! / 2 + this.weights[i + 1]! / 2;
        return (centre + (b > a ? (span * (x - a)) / (b - a) : 0)) / this.total;
      }
      before += this.weights[i]!;
    }
    const lastCentre = this.total - this.weights[n - 1]! / 2;
    const last = this.means[n - 1]!;
    return (lastCentre + ((this.weights[n - 1]! / 2) * (x - last)) / (this.max - last || 1)) / this.total;
  }
}
