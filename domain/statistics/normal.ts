// The standard normal distribution: Φ and its inverse, to near machine precision far into
// the tails, because p-values and e-value thresholds are read there (a p-value of 1e-40 must
// not come out as 0, nor a quantile of 1e-300 as -Infinity).
//
// Φ is W. J. Cody's rational Chebyshev approximation of the normal integral (ACM TOMS
// Algorithm 715, ANORM), the one R's pnorm uses, in R's arrangement: three ranges of |z|, and
// in the outer two exp(-z²/2) split as exp(-z₀²/2)·exp(-(z-z₀)(z+z₀)/2) with z₀ = z rounded
// down to a 16th, so that squaring a large z loses no digits. Relative error ~1e-15 down to
// Φ(-37.5) ≈ 4.6e-308; below that the double underflows to 0.
//
// The constants are the doubles of Cody's 20-digit ones, written as JavaScript prints them.
//
// Φ⁻¹ is P. J. Acklam's rational approximation (relative error 1.15e-9) followed by one step
// of Halley's method on Φ, which triples the number of correct digits.

const A = [2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745];
const B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673];
const C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726, 6848.190450536283, 11602.65143764735, 9842.714838383978,
  1.0765576773720192e-8,
];
const D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097, 34900.95272114598, 38912.00328609327, 19685.429676859992,
];
const P = [0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 0.000029112874951168793, 0.023073441764940174];
const Q = [1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 0.00007297515550839662];

const SQRT_32 = Math.sqrt(32);
const ONE_OVER_SQRT_2PI = 0.3989422804014327;
const SQRT_2PI = 2.5066282746310007;

/** exp(-x²/2)·factor without losing digits to the square of a large x. */
function gaussianTail(x: number, factor: number): number {
  const x0 = Math.trunc(x * 16) / 16;
  const del = (x - x0) * (x + x0);
  return Math.exp(-x0 * x0 * 0.5) * Math.exp(-del * 0.5) * factor;
}

/** The lower tail Φ(-y) for y > 0.67448975 (where it is below 1/4, so no cancellation). */
function lowerTail(y: number): number {
  if (y <= SQRT_32) {
    let num = C[8]! * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]!) * y;
      den = (den + D[i]!) * y;
    }
    return gaussianTail(y, (num + C[7]!) / (den + D[7]!));
  }
  if (y >= 37.5193) return 0;
  const ysq = 1 / (y * y);
  let num = P[5]! * ysq;
  let den = ysq;
  for (let i = 0; i < 4; i++) {
    num = (num + P[i]!) * ysq;
    den = (den + Q[i]!) * ysq;
  }
  const r = (ysq * (num + P[4]!)) / (den + Q[4]!);
  return gaussianTail(y, (ONE_OVER_SQRT_2PI - r) / y);
}

/** Φ(z) = P(Z ≤ z) for a standard normal Z. For an upper tail use Φ(-z), not 1 - Φ(z): it is R's pnorm(z, lower.tail = FALSE) to the last bit. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const y = Math.abs(z);
  if (y <= 0.67448975) {
    // Below DBL_EPSILON/2 the series is 0.5 + z·(a3/b3) anyway; skipping it avoids underflow in z².
    let num = 0;
    let den = 0;
    if (y > 1.1102230246251565e-16) {
      const zsq = z * z;
      num = A[4]! * zsq;
      den = zsq;
      for (let i = 0; i < 3; i++) {
        num = (num + A[i]!) * zsq;
        den = (den + B[i]!) * zsq;
      }
    }
    return 0.5 + (z * (num + A[3]!)) / (den + B[3]!);
  }
  const tail = lowerTail(y);
  return z < 0 ? tail : 1 - tail;
}

const AK_A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const AK_B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const AK_C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const AK_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/** Acklam's approximation for p ≤ 1/2. */
function acklamLower(p: number): number {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((AK_C[0]! * q + AK_C[1]!) * q + AK_C[2]!) * q + AK_C[3]!) * q + AK_C[4]!) * q + AK_C[5]!) /
      ((((AK_D[0]! * q + AK_D[1]!) * q + AK_D[2]!) * q + AK_D[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((AK_A[0]! * r + AK_A[1]!) * r + AK_A[2]!) * r + AK_A[3]!) * r + AK_A[4]!) * r + AK_A[5]!) * q) /
    (((((AK_B[0]! * r + AK_B[1]!) * r + AK_B[2]!) * r + AK_B[3]!) * r + AK_B[4]!) * r + 1)
  );
}

/**
 * Φ⁻¹(p), the z with Φ(z) = p: -Infinity at 0, Infinity at 1, NaN outside [0, 1]. Above 1/2
 * it is -Φ⁻¹(1 - p), so the upper tail is only as precise as 1 - p is (as in R's qnorm).
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p > 0.5) return -normalQuantile(1 - p);
  const x = acklamLower(p);
  // Halley's step u = (Φ(x) - p)/φ(x), written as (Φ(x)/p - 1)·p·√(2π)·exp(x²/2) so that a
  // p near 1e-300 keeps its digits (Φ(x) - p itself would be subnormal).
  const u = (normalCdf(x) / p - 1) * p * SQRT_2PI * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
