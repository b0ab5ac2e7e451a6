// Jensen–Shannon distance, base 2: sqrt(½ KL(P‖M) + ½ KL(Q‖M)) with
// M = ½ (P + Q). Bounded in [0, 1] and finite with empty bins, which is why it
// sits beside PSI.
import { proportions } from "./distributions.js";

export function jensenShannonDistance(referenceCounts: readonly number[], windowCounts: readonly number[]): number {
  if (referenceCounts.length !== windowCounts.length) throw new Error("JS distance needs the same bins on both sides");
  const p = proportions(referenceCounts);
  const q = proportions(windowCounts);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) divergence += 0.5 * p[i]! * Math.log2(p[i]! / m);
    if (q[i]! > 0) divergence += 0.5 * q[i]! * Math.log2(q[i]! / m);
  }
  // Rounding can leave a tiny negative for identical distributions.
  return Math.sqrt(Math.max(0, Math.min(1, divergence)));
}
