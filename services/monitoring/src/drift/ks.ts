// Two-sample Kolmogorov–Smirnov statistic D = sup_x |F_a(x) − F_b(x)| of two
// weighted point sets, by one merge walk over both in ascending order. Exact
// for exact samples; for a t-digest its centroids stand in for the values.
import { totalWeight, type WeightedPoints } from "./distributions.js";

export function kolmogorovSmirnov(a: WeightedPoints, b: WeightedPoints): number {
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
  let d = 0;
  while (i < va.length || j < vb.length) {
    // Step past every point equal to the smaller current value on both sides,
    // so ties between the samples are compared after both steps.
    const x = j >= vb.length || (i < va.length && va[i]! <= vb[j]!) ? va[i]! : vb[j]!;
    while (i < va.length && va[i]! === x) cumA += wa ? wa[i++]! : (i++, 1);
    while (j < vb.length && vb[j]! === x) cumB += wb ? wb[j++]! : (j++, 1);
    const gap = Math.abs(cumA / totalA - cumB / totalB);
    if (gap > d) d = gap;
  }
  return d;
}
