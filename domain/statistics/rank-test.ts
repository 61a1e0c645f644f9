// The Mann–Whitney (Wilcoxon rank-sum) test of two samples with its Hodges–Lehmann shift,
// computed as R's wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE) computes
// them, so that R can be the oracle of the tests: the normal approximation with mid-ranks,
// the tie correction of the variance and a continuity correction of 1/2 toward zero.
//
// The interval inverts the same test: the shifts d for which (x - d, y) is not rejected. The
// statistic of (x - d, y) only changes where x_i - d crosses some y_j, so as a function of d it
// is a step function that jumps at the pairwise differences D = x_i - y_j. R finds where it
// crosses ±z with uniroot (tol 1e-4); here the crossing is found exactly among the sorted D,
// so each end is the jump itself (R's answer lies within its tolerance of it).
import { normalCdf, normalQuantile } from './normal';

export interface RankTestResult {
  /** The Mann–Whitney statistic: the rank sum of x less nx(nx+1)/2 (R's W). */
  w: number;
  /** Two-sided p-value of "no shift" (normal approximation, tie and continuity corrected). */
  pValue: number;
  /** The Hodges–Lehmann shift of x against y: the median of the pairwise differences. */
  estimate: number;
  /** The confidence interval of the shift at the requested level. */
  interval: [number, number];
  n: [number, number];
}

function check(values: number[], name: string): void {
  if (values.length === 0) throw new RangeError(`rank test: ${name} is empty`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`rank test: ${name}[${bad}] is ${values[bad]}, not a finite number`);
}

/** Σ (t³ - t) over the groups of equal values in a sorted array: what ties take off the variance. */
function tieSum(sorted: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    const t = j - i;
    sum += t * t * t - t;
    i = j;
  }
  return sum;
}

const sortedCopy = (values: number[]) => Float64Array.from(values).sort();

/** The variance of W under no shift, less what ties take off (R's SIGMA²). */
function variance(nx: number, ny: number, ties: number): number {
  const n = nx + ny;
  return ((nx * ny) / 12) * (n + 1 - ties / (n * (n - 1)));
}

/** W less its mean, continuity-corrected toward zero (R's z - CORRECTION, two-sided). */
const corrected = (z: number) => z - Math.sign(z) * 0.5;

/**
 * Two-sample Wilcoxon rank-sum test of x against y with the Hodges–Lehmann shift of x and its
 * confidence interval, as R's `wilcox.test(x, y, conf.int = TRUE, exact = FALSE)`. Throws
 * RangeError for an empty sample, a value that is not finite, a level outside (0, 1), or
 * when every value is tied (no variance: R stops there too).
 */
export function rankTest(x: number[], y: number[], confLevel = 0.95): RankTestResult {
  check(x, 'x');
  check(y, 'y');
  if (!(confLevel > 0 && confLevel < 1)) throw new RangeError(`rank test: confidence level ${confLevel} is not between 0 and 1`);
  const nx = x.length;
  const ny = y.length;

  // Mid-ranks of the pooled sample: a run of t equal values shares the mean of its t ranks.
  const pooled = [...x.map((v) => ({ v, fromX: true })), ...y.map((v) => ({ v, fromX: false }))].sort((a, b) => a.v - b.v);
  let rankSumX = 0;
  let ties = 0;
  for (let i = 0; i < pooled.length;) {
    let j = i + 1;
    while (j < pooled.length && pooled[j]!.v === pooled[i]!.v) j++;
    const t = j - i;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (pooled[k]!.fromX) rankSumX += midRank;
    ties += t * t * t - t;
    i = j;
  }
  const sigma = Math.sqrt(variance(nx, ny, ties));
  if (!(sigma > 0)) throw new RangeError(`rank test: all ${nx + ny} values are tied (${pooled[0]!.v}), so the rank statistic has no variance`);
  const w = rankSumX - (nx * (nx + 1)) / 2;
  const pValue = 2 * normalCdf(-Math.abs(corrected(w - (nx * ny) / 2) / sigma));

  const diffs = new Float64Array(nx * ny);
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) diffs[i * ny + j] = x[i]! - y[j]!;
  diffs.sort();
  const pairs = diffs.length;
  const half = pairs >> 1;
  const estimate = pairs % 2 === 1 ? diffs[half]! : (diffs[half - 1]! + diffs[half]!) / 2;

  // Between two jumps no x_i - d equals a y_j, so only the ties within x and within y remain.
  const sigmaShifted = Math.sqrt(variance(nx, ny, tieSum(sortedCopy(x)) + tieSum(sortedCopy(y))));
  // For d between jumps, W(x - d, y) counts the pairs with D > d: g of them.
  const standardised = (g: number) => corrected(g - pairs / 2) / sigmaShifted;
  /**
   * The smallest jump d past which the standardised statistic is at most zq: with g* the
   * largest count whose statistic is ≤ zq, the (pairs - g*)-th smallest difference. When even
   * all pairs are ≤ zq, the smallest difference (R: mumin); when none, the largest (R: mumax).
   */
  const crossing = (zq: number): number => {
    let g = pairs;
    while (g >= 0 && standardised(g) > zq) g--;
    if (g < 0) return diffs[pairs - 1]!;
    return diffs[Math.max(0, pairs - 1 - g)]!;
  };
  const zq = normalQuantile(1 - (1 - confLevel) / 2);
  return { w, pValue, estimate, interval: [crossing(zq), crossing(-zq)], n: [nx, ny] };
}
