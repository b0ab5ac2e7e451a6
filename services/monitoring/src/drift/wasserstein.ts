// Wasserstein-1 (earth mover's) distance between two weighted point sets:
// ∫ |F_a(x) − F_b(x)| dx, summed over the gaps between consecutive points of
// the merged support. In the feature's units.
import { walkCdfs, type WeightedPoints } from "./distributions.js";

export function wasserstein1(a: WeightedPoints, b: WeightedPoints): number {
  let distance = 0;
  let previous = NaN;
  let gap = 0;
  const walked = walkCdfs(a, b, (x, fa, fb) => {
    // Between the previous support point and x both CDFs are flat at the previous gap.
    if (!Number.isNaN(previous)) distance += gap * (x - previous);
    gap = Math.abs(fa - fb);
    previous = x;
  });
  return walked ? distance : NaN;
}
