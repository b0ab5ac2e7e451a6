// Two-sample Kolmogorov–Smirnov statistic D = sup_x |F_a(x) − F_b(x)| of two
// weighted point sets, by one merge walk over both in ascending order. Exact
// for exact samples; for a t-digest its centroids stand in for the values.
import { walkCdfs, type WeightedPoints } from "./distributions.js";

export function kolmogorovSmirnov(a: WeightedPoints, b: WeightedPoints): number {
  let d = 0;
  const walked = walkCdfs(a, b, (_x, fa, fb) => {
    const gap = Math.abs(fa - fb);
    if (gap > d) d = gap;
  });
  return walked ? d : NaN;
}
