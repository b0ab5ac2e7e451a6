// Chi-square test of homogeneity between the reference's and the window's
// category counts (a 2 × k contingency table, k − 1 degrees of freedom). The
// score is the p-value: small means the window's categories are unlikely to
// come from the reference's distribution.

export interface ChiSquareResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

export function chiSquareHomogeneity(referenceCounts: readonly number[], windowCounts: readonly number[]): ChiSquareResult {
  if (referenceCounts.length !== windowCounts.length) throw new Error("chi-square needs the same categories on both sides");
  const totalR = referenceCounts.reduce((a, b) => a + b, 0);
  const totalW = windowCounts.reduce((a, b) => a + b, 0);
  const total = totalR + totalW;
  let statistic = 0;
  let categories = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const column = referenceCounts[i]! + windowCounts[i]!;
    if (column === 0) continue; // a category neither side has carries no information
    categories++;
    const expectedR = (totalR * column) / total;
    const expectedW = (totalW * column) / total;
    statistic += (referenceCounts[i]! - expectedR) ** 2 / expectedR + (windowCounts[i]! - expectedW) ** 2 / expectedW;
  }
  const degreesOfFreedom = Math.max(1, categories - 1);
  return { statistic, degreesOfFreedom, pValue: categories < 2 ? 1 : chiSquareSurvival(statistic, degreesOfFreedom) };
}

/** P(X > x) for X ~ χ²(df): the regularized upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return upperRegularizedGamma(df / 2, x / 2);
}

// Q(a, x) by the series for P when x < a + 1 and Lentz's continued fraction
// otherwise (Numerical Recipes §6.2), accurate to ~1e-14.
function upperRegularizedGamma(a: number, x: number): number {
  const lnPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}

// Lanczos approximation (g = 7, n = 9), ~15 significant digits.
const lanczos = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let x = lanczos[0]!;
  for (let i = 1; i < 9; i++) x += lanczos[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}
