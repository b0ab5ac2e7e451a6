// Wasserstein-1 (earth mover's) distance between two weighted point sets:
// ∫ |F_a(x) − F_b(x)| dx, summed over the gaps between consecutive points of
// the merged support. In the feature's units.
import { totalWeight, type WeightedPoints } from "./distributions.js";

export function wasserstein1(a: WeightedPoints, b: WeightedPoints): number {
  const totalA = totalWeight(a);
  const totalB = totalWeight(b);
  if (totalA === 0 || totalB === 0) return NaN;
  const va = a.values;
  const vb = b.values;
  const wa = a.weights;
  const wb = b.weights;
  let i = 0;
  let j = 0;
  let cumA = 0;
  let cumB = 0;
  let distance = 0;
  let previous = NaN;
  while (i < va.length || j < vb.length) {
    const x = j >= vb.length || (i < va.length && va[i]! <= vb[j]!) ? va[i]! : vb[j]!;
    // Between the previous support point and x both CDFs are flat.
    if (!Number.isNaN(previous)) distance += Math.abs(cumA / totalA - cumB / totalB) * (x - previous);
    while (i < va.length && va[i]! === x) cumA += wa ? wa[i++]! : (i++, 1);
    while (j < vb.length && vb[j]! === x) cumB += wb ? wb[j++]! : (j++, 1);
    previous = x;
  }
  return distance;
}
