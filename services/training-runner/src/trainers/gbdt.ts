// Histogram-based gradient-boosted trees (the LightGBM / scikit-learn
// HistGradientBoosting recipe): every feature is cut into at most 255 quantile
// bins once; a node's split is found by scanning per-bin gradient and hessian
// sums; only the smaller child's histogram is built, the larger one is the
// parent's minus it. Binary classification minimizes log loss, regression
// squared error; leaves are Newton steps −G/(H + l2).
//
// Bin edges are float32 values taken from the data, and a split "bin ≤ b" is
// exported as x <= edge[b] (BRANCH_LEQ, float32), so the exported trees route
// every row exactly as training did. Missing values (NaN) have their own bin,
// which always goes right, as in the ONNX export.
import { treeEnsembleModel, type Tree, type TreeNode } from "@fti/onnx";
import { checkpoint, sigmoid, type TrainedModel, type TrainerContext, type TrainingData } from "./trainer.js";

export interface GbdtParams {
  objective: "binary" | "regression";
  numTrees: number;
  maxDepth: number;
  learningRate: number;
  minSamplesLeaf: number;
  l2: number;
}

const MAX_BINS = 255;
/** The bin of NaN; never a split point. */
const MISSING_BIN = 255;
const HIST_BINS = 256;

interface Binned {
  /** Column-major bins: feature j of row i at j * rows + i. */
  bins: Uint8Array;
  /** Per feature, the upper edges (float32 values) of every bin but the last. */
  edges: Float32Array[];
}

export function binFeatures(data: TrainingData, sampleSize = 200_000): Binned {
  const { x, rows, features: f } = data;
  const step = Math.max(1, Math.floor(rows / sampleSize));
  const bins = new Uint8Array(rows * f);
  const edges: Float32Array[] = [];
  const sample = new Float32Array(Math.ceil(rows / step));
  for (let j = 0; j < f; j++) {
    let n = 0;
    for (let i = 0; i < rows; i += step) {
      const v = x[i * f + j]!;
      if (!Number.isNaN(v)) sample[n++] = v;
    }
    const sorted = sample.subarray(0, n).sort();
    const distinct: number[] = [];
    for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k]!);
    let cut: number[];
    if (distinct.length <= MAX_BINS) cut = distinct.slice(0, -1);
    else {
      // Quantile edges, as data values, deduplicated.
      cut = [];
      for (let q = 1; q < MAX_BINS; q++) {
        const v = sorted[Math.min(n - 1, Math.floor((q * n) / MAX_BINS))]!;
        if (cut.length === 0 || v > cut[cut.length - 1]!) cut.push(v);
      }
    }
    const e = Float32Array.from(cut);
    edges.push(e);
    const col = bins.subarray(j * rows, (j + 1) * rows);
    for (let i = 0; i < rows; i++) {
      const v = x[i * f + j]!;
      if (Number.isNaN(v)) {
        col[i] = MISSING_BIN;
        continue;
      }
      // First edge >= v (binary search); past the last edge is the last bin.
      let lo = 0;
      let hi = e.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (e[mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      col[i] = lo;
    }
  }
  return { bins, edges };
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
}

export async function trainGbdt(data: TrainingData, params: GbdtParams, ctx: TrainerContext): Promise<TrainedModel> {
  const { y, rows, features: f } = data;
  const { bins, edges } = binFeatures(data);
  const rowBins = new Uint8Array(rows * f);
  for (let j = 0; j < f; j++) for (let i = 0; i < rows; i++) rowBins[i * f + j] = bins[j * rows + i]!;
  await checkpoint(ctx.signal);
  const lambda = params.l2;
  const minLeaf = params.minSamplesLeaf;

  let baseScore: number;
  if (params.objective === "binary") {
    const positives = y.reduce((s, v) => s + v, 0);
    const p = Math.min(Math.max(positives / rows, 1e-6), 1 - 1e-6);
    baseScore = Math.log(p / (1 - p));
  } else baseScore = y.reduce((s, v) => s + v, 0) / rows;

  const score = new Float64Array(rows).fill(baseScore);
  const grad = new Float64Array(rows);
  const hess = new Float64Array(rows);
  const order = new Uint32Array(rows);
  // Histograms: per feature and bin, [gradient sum, hessian sum, count].
  const histSize = f * HIST_BINS * 3;
  const histPool: Float64Array[] = [];
  const takeHist = () => histPool.pop() ?? new Float64Array(histSize);
  const releaseHist = (h: Float64Array) => histPool.push(h);

  // Row by row over the row-major bins: one gradient fetch per row, then a
  // contiguous run of the row's bins (faster than a pass per feature).
  function buildHist(hist: Float64Array, start: number, end: number): void {
    hist.fill(0);
    for (let k = start; k < end; k++) {
      const r = order[k]!;
      const g = grad[r]!;
      const h = hess[r]!;
      const rowBase = r * f;
      for (let j = 0; j < f; j++) {
        const at = (j * HIST_BINS + rowBins[rowBase + j]!) * 3;
        hist[at]! += g;
        hist[at + 1]! += h;
        hist[at + 2]! += 1;
      }
    }
  }

  const score3 = (g: number, h: number) => (g * g) / Math.max(h + lambda, 1e-12);

  function bestSplit(hist: Float64Array, g: number, h: number, count: number): Split | undefined {
    let best: Split | undefined;
    const parent = score3(g, h);
    for (let j = 0; j < f; j++) {
      const base = j * HIST_BINS * 3;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      const nEdges = edges[j]!.length;
      for (let b = 0; b < nEdges; b++) {
        gl += hist[base + b * 3]!;
        hl += hist[base + b * 3 + 1]!;
        cl += hist[base + b * 3 + 2]!;
        if (cl < minLeaf) continue;
        if (count - cl < minLeaf) break;
        const gain = score3(gl, hl) + score3(g - gl, h - hl) - parent;
        if (gain > 1e-12 && (!best || gain > best.gain)) best = { feature: j, bin: b, gain };
      }
    }
    return best;
  }

  /** Moves rows of [start, end) with bin ≤ split.bin to the front; returns the boundary. */
  function partition(start: number, end: number, split: Split): number {
    const col = bins.subarray(split.feature * rows, (split.feature + 1) * rows);
    let i = start;
    let k = end - 1;
    while (i <= k) {
      if (col[order[i]!]! <= split.bin) i++;
      else {
        const t = order[i]!;
        order[i] = order[k]!;
        order[k] = t;
        k--;
      }
    }
    return i;
  }

  function sums(start: number, end: number): [number, number] {
    let g = 0;
    let h = 0;
    for (let k = start; k < end; k++) {
      g += grad[order[k]!]!;
      h += hess[order[k]!]!;
    }
    return [g, h];
  }

  const trees: Tree[] = [];
  for (let t = 0; t < params.numTrees; t++) {
    if (params.objective === "binary") {
      for (let i = 0; i < rows; i++) {
        const p = sigmoid(score[i]!);
        grad[i] = p - y[i]!;
        hess[i] = Math.max(p * (1 - p), 1e-16);
      }
    } else {
      for (let i = 0; i < rows; i++) {
        grad[i] = score[i]! - y[i]!;
        hess[i] = 1;
      }
    }
    for (let i = 0; i < rows; i++) order[i] = i;

    const nodes: TreeNode[] = [];
    // Grows the node over order[start, end) whose histogram is `hist` (owned: released here).
    const grow = (start: number, end: number, hist: Float64Array, g: number, h: number, depth: number): number => {
      const id = nodes.length;
      const count = end - start;
      const split = depth < params.maxDepth && count >= 2 * minLeaf ? bestSplit(hist, g, h, count) : undefined;
      if (!split) {
        releaseHist(hist);
        const leaf = -g / Math.max(h + lambda, 1e-12);
        nodes.push({ leaf });
        const step = params.learningRate * leaf;
        for (let k = start; k < end; k++) score[order[k]!]! += step;
        return id;
      }
      nodes.push({ feature: split.feature, threshold: edges[split.feature]![split.bin]!, left: -1, right: -1 });
      const mid = partition(start, end, split);
      const [gl, hl] = sums(start, mid);
      // Build the smaller child's histogram; the larger one's is the parent's minus it.
      const leftSmaller = mid - start <= end - mid;
      const small = takeHist();
      // Children at the depth limit become leaves: they need no histogram.
      if (depth + 1 < params.maxDepth) {
        if (leftSmaller) buildHist(small, start, mid);
        else buildHist(small, mid, end);
        for (let k = 0; k < histSize; k++) hist[k]! -= small[k]!;
      }
      const [leftHist, rightHist] = leftSmaller ? [small, hist] : [hist, small];
      const left = grow(start, mid, leftHist, gl, hl, depth + 1);
      const right = grow(mid, end, rightHist, g - gl, h - hl, depth + 1);
      Object.assign(nodes[id]!, { left, right });
      return id;
    };
    const rootHist = takeHist();
    buildHist(rootHist, 0, rows);
    const [g, h] = sums(0, rows);
    grow(0, rows, rootHist, g, h, 0);
    trees.push({ nodes });
    if (t % 10 === 9 || t === params.numTrees - 1) ctx.log(`tree ${t + 1}/${params.numTrees}: ${nodes.length} nodes`);
    ctx.progress((t + 1) / params.numTrees);
    await checkpoint(ctx.signal);
  }

  const kind = params.objective === "binary" ? "classifier" : "regressor";
  return {
    task: params.objective === "binary" ? "classification" : "regression",
    predict(xs, n) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = baseScore;
        for (const tree of trees) s += params.learningRate * leafOf(tree, xs, i * f);
        out[i] = params.objective === "binary" ? sigmoid(s) : s;
      }
      return out;
    },
    toOnnx: (options) => treeEnsembleModel({ ...options, kind, trees, features: f, baseScore, learningRate: params.learningRate }),
  };
}

/** The leaf value a row reaches; comparisons in float32 like onnxruntime (NaN goes right). */
function leafOf(tree: Tree, xs: Float32Array, offset: number): number {
  let node = tree.nodes[0]!;
  while (!("leaf" in node)) node = tree.nodes[xs[offset + node.feature]! <= node.threshold ? node.left : node.right]!;
  return node.leaf;
}
