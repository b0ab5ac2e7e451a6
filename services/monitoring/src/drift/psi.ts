// Population stability index: Σ (a_i − e_i) · ln(a_i / e_i) over bins, with
// e the reference's and a the window's proportions. An empty bin on either
// side would make it infinite, so proportions are floored at `epsilon` (the
// usual practice; 1e-4 keeps one empty bin from dominating a real shift).
import { proportions } from "./distributions.js";

export const PSI_EPSILON = 1e-4;

export function populationStabilityIndex(referenceCounts: readonly number[], windowCounts: readonly number[], epsilon = PSI_EPSILON): number {
  if (referenceCounts.length !== windowCounts.length) throw new Error("PSI needs the same bins on both sides");
  const e = proportions(referenceCounts);
  const a = proportions(windowCounts);
  let psi = 0;
  for (let i = 0; i < e.length; i++) {
    const ei = Math.max(e[i]!, epsilon);
    const ai = Math.max(a[i]!, epsilon);
    psi += (ai - ei) * Math.log(ai / ei);
  }
  return psi;
}
