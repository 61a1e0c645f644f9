// An anytime-valid test of error counts for the comparison check: during a region's soak, is
// the treatment region T (the new version) worse than the control region C (still on the old
// one), beyond how T and C compared before the deploy? A difference in differences, so that a
// change both regions see (an incident upstream, a traffic peak) is not blamed on the deploy.
//
// Model. Per-request error rates λ_T, λ_C; before the deploy λ_T = q·λ_C for an unknown q; the
// deploy multiplies T's rate by γ, and γ = 1 is the null. Given the e_k = e_Tk + e_Ck errors of
// check interval k (n_Tk, n_Ck requests),
//   e_Tk ~ Binomial(e_k, p_k(qγ)),   p_k(x) = n_Tk·x / (n_Tk·x + n_Ck),
// whatever the traffic or a shared change of both rates did to e_k: both regions' exposure is
// in p_k. The likelihood is L(x) = Π_k p_k(x)^e_Tk·(1 - p_k(x))^e_Ck (binomial coefficients
// cancel in every ratio below; counts may be non-integer, as Prometheus' increase() makes them).
// q is known only through the pre-deploy window: Jeffreys' Beta(e_T0 + ½, e_C0 + ½) posterior of
// p0 = n_T0·q / (n_T0·q + n_C0). With u = log x and w(u) that posterior as a density of log q,
//   E_reg  = ∫ L·(w ⊛ π) du / ∫ L·w du      π: half-normal on log γ ≥ 0, scale log(targetRatio)
//   E_safe = ∫ L·w du / ∫ L·w(· - log targetRatio) du
// Each is a ratio of predictive likelihoods (numerator: the alternative, denominator: the
// hypothesis it tests), hence a nonnegative martingale under that hypothesis with the pre
// posterior as the law of q. By Ville's inequality P(ever E_reg ≥ 1/α | γ = 1) ≤ α, and
// P(ever E_safe ≥ 1/β | γ = targetRatio) ≤ β, so looking at every interval costs nothing
// (Lindon et al., "Rapid regression detection in software deployments through sequential
// testing", KDD 2022). The first interval where E_reg ≥ 1/α fails; else the first where
// E_safe ≥ 1/β passes; else the soak continues. The integrals are sums on a lattice (below).
import { normalQuantile } from './normal';

/** One region over one period. Non-negative reals: rates over windows are rarely whole. */
export interface Cell {
  errors: number;
  requests: number;
}
/** Both regions over the same period. */
export interface Pair {
  treatment: Cell;
  control: Cell;
}
export interface CountTestInput {
  /** The pre-deploy window, both regions on the old version. */
  pre: Pair;
  /** One pair per check interval since the deploy, in time order (increments, not cumulative). */
  soak: Pair[];
  /** Bound on a false alarm (fail when there is no regression), e.g. 0.05. */
  alpha: number;
  /** Bound on a false pass when the regression is targetRatio or more, e.g. 0.2. */
  beta: number;
  /** The regression the test is built to detect (> 1), e.g. 1.5. */
  targetRatio: number;
}
export interface CountTestResult {
  decision: 'fail' | 'pass' | 'continue';
  /** Index into soak of the interval at which it decided. */
  decidedAt?: number;
  /** E-value against "no regression" at the decision (or the end). */
  eRegression: number;
  /** E-value against "a regression of targetRatio or more" at the decision (or the end). */
  eSafe: number;
  /** Point estimate of the difference-in-differences rate ratio γ over the whole soak given; NaN when a side had no requests. */
  ratio: number;
  /** Fixed-sample (1 - alpha) interval of γ (not anytime-valid: for reading, not deciding). */
  interval: [number, number];
  /** Totals over the whole soak given, past the decision too. */
  soak: Pair;
}

const LOG_DENSITY_SPAN = 20;
const MAX_LATTICE = 4000;

function checkCell(cell: Cell, where: string): void {
  for (const key of ['errors', 'requests'] as const) {
    const v = cell[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`count test: ${where} ${key} is ${v}, not a finite non-negative number`);
  }
  if (cell.errors > cell.requests) throw new RangeError(`count test: ${where} has more errors (${cell.errors}) than requests (${cell.requests})`);
}

function checkInput(input: CountTestInput): void {
  const { alpha, beta, targetRatio } = input;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`count test: alpha ${alpha} is not between 0 and 1`);
  if (!(beta > 0 && beta < 1)) throw new RangeError(`count test: beta ${beta} is not between 0 and 1`);
  if (!(targetRatio > 1 && Number.isFinite(targetRatio))) throw new RangeError(`count test: targetRatio ${targetRatio} is not a finite number above 1`);
  const pairs: [Pair, string][] = [[input.pre, 'pre'], ...input.soak.map((p, k): [Pair, string] => [p, `soak[${k}]`])];
  for (const [pair, name] of pairs) {
    checkCell(pair.treatment, `${name} treatment`);
    checkCell(pair.control, `${name} control`);
  }
  if (input.pre.treatment.requests === 0 || input.pre.control.requests === 0) {
    const side = input.pre.treatment.requests === 0 ? 'treatment' : 'control';
    throw new RangeError(`count test: the pre-deploy window has no ${side} requests, so there is nothing to compare the soak with`);
  }
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log Σ exp(logWeight[i] + logLik[i + shift]) over the weights. */
function logSumExp(logWeight: Float64Array, logLik: Float64Array, shift: number): number {
  let max = -Infinity;
  for (let i = 0; i < logWeight.length; i++) max = Math.max(max, logWeight[i]! + logLik[i + shift]!);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < logWeight.length; i++) sum += Math.exp(logWeight[i]! + logLik[i + shift]! - max);
  return max + Math.log(sum);
}

function normaliseLog(values: Float64Array): void {
  const total = logSumExp(values, new Float64Array(values.length), 0);
  for (let i = 0; i < values.length; i++) values[i]! -= total;
}

/** Where a concave f falls to f(peak) - drop, searching from the peak in direction dir (±1). */
function fallTo(f: (t: number) => number, peak: number, dir: 1 | -1, drop: number): number {
  const target = f(peak) - drop;
  let near = 0;
  let far = 1;
  while (f(peak + dir * far) > target) far *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (near + far) / 2;
    if (f(peak + dir * mid) > target) near = mid;
    else far = mid;
  }
  return peak + dir * far;
}

interface Lattice {
  /** u of the first point; point i is at u0 + i·h. */
  u0: number;
  h: number;
  /** log of q's posterior weights on points 0..nq-1. */
  logNull: Float64Array;
  /** log of the alternative's weights (q's posterior ⊛ π) on points 0..nq+4m-1. */
  logAlternative: Float64Array;
  /** log(targetRatio) in lattice steps. */
  m: number;
}

/**
 * The quadrature: one lattice of u with spacing h. Both alternatives (x = q·γ, x = q·target)
 * are shifts of q's lattice, so h is log(target)/m for a whole m and each interval's likelihood
 * is evaluated once per point. A uniform lattice sums a smooth bump of sd σ to ~1e-8 when
 * h ≤ σ, so h is the least of 0.3 sd of q's posterior, 0.5 sd of the whole soak's likelihood
 * (narrower than at any interval before) and 1/6 of π's scale. A grid of q fixed in advance
 * (41 points over ±6 sd) would be coarse beside a soak much larger than the pre window: the
 * soak's likelihood between its points, the denominator too small, a false alarm. q's
 * posterior covers where its log density is within 20 of its peak (±6.3 sd when near normal,
 * far into the long tail when a region had no errors before), π 4 scales. With a pre window
 * 4× a soak of 1,000–5,000 requests per interval that is a few hundred points, ~0.3 ms for 30
 * intervals; at most MAX_LATTICE.
 */
function lattice(pre: Pair, soakTotal: Pair, targetRatio: number): Lattice {
  const a = pre.treatment.errors + 0.5;
  const b = pre.control.errors + 0.5;
  // Log density of θ = logit(p0): the Beta density times the Jacobian p0(1 - p0).
  const logDensity = (t: number) => a * t - (a + b) * (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)));
  const peak = Math.log(a / b);
  const lo = fallTo(logDensity, peak, -1, LOG_DENSITY_SPAN);
  const hi = fallTo(logDensity, peak, 1, LOG_DENSITY_SPAN);
  const scale = Math.log(targetRatio);
  const sdPre = Math.sqrt(1 / a + 1 / b);
  const sdSoak = Math.sqrt(1 / (soakTotal.treatment.errors + 0.5) + 1 / (soakTotal.control.errors + 0.5));
  const wanted = Math.min(0.3 * sdPre, 0.5 * sdSoak, scale / 6);
  // Past MAX_LATTICE points (10^6 errors after a pre window with none) h coarsens: log E
  // off by ~5e-4, ~7 ms for 30 intervals. Only a targetRatio within ~2 % of 1 needs more
  // (h ≤ its log).
  const affordable = Math.floor(MAX_LATTICE / ((hi - lo) / scale + 4));
  const m = Math.max(1, Math.min(Math.ceil(scale / wanted), affordable));
  const h = scale / m;
  const nq = Math.ceil((hi - lo) / h) + 1;
  const shift = Math.log(pre.control.requests / pre.treatment.requests);
  const logNull = new Float64Array(nq);
  for (let i = 0; i < nq; i++) logNull[i] = logDensity(lo + i * h);
  normaliseLog(logNull);
  // π's mass per lattice step by Simpson's rule: π is cut off at γ = 1, where the trapezoid
  // rule would be off by ~1e-3 of the e-value. Not renormalised: the ~6e-5 of π beyond 4
  // scales is dropped, which leaves E_reg a supermartingale (conservative), not an inflated one.
  const prior = Float64Array.from(
    { length: 4 * m + 1 },
    (_, j) => ((j === 0 || j === 4 * m ? 1 : j % 2 ? 4 : 2) / (3 * m)) * Math.sqrt(2 / Math.PI) * Math.exp(-((j / m) ** 2) / 2),
  );
  const linear = logNull.map(Math.exp);
  const alternative = new Float64Array(nq + 4 * m);
  for (let i = 0; i < nq; i++) for (let j = 0; j < prior.length; j++) alternative[i + j]! += linear[i]! * prior[j]!;
  return { u0: lo + shift, h, logNull, logAlternative: alternative.map(Math.log), m };
}

const sum = (cells: Cell[]): Cell => ({ errors: cells.reduce((s, c) => s + c.errors, 0), requests: cells.reduce((s, c) => s + c.requests, 0) });

/** The difference-in-differences rate ratio and its fixed-sample interval (log scale, Wald). */
function estimate(pre: Pair, soak: Pair, alpha: number): { ratio: number; interval: [number, number] } {
  const cells = [soak.treatment, soak.control, pre.treatment, pre.control];
  if (cells.some((c) => c.requests === 0)) return { ratio: NaN, interval: [NaN, NaN] };
  const add = cells.some((c) => c.errors === 0) ? 0.5 : 0;
  const logRate = (c: Cell) => Math.log(c.errors + add) - Math.log(c.requests);
  const logRatio = logRate(soak.treatment) - logRate(soak.control) - (logRate(pre.treatment) - logRate(pre.control));
  const se = Math.sqrt(cells.reduce((s, c) => s + 1 / (c.errors + add), 0));
  const z = normalQuantile(1 - alpha / 2);
  return { ratio: Math.exp(logRatio), interval: [Math.exp(logRatio - z * se), Math.exp(logRatio + z * se)] };
}

/**
 * The sequential difference-in-differences test of error counts (model in the file header):
 * walks the soak's intervals in order: `fail` at the first whose evidence of a regression
 * reaches 1/alpha; otherwise `pass` when the evidence against a regression of targetRatio is
 * at 1/beta after the last interval (`decidedAt`: from when it has held). Throws RangeError
 * for counts that are negative or not finite, more errors than requests, a pre-deploy window
 * without requests on one side, alpha or beta outside (0, 1), or targetRatio ≤ 1.
 */
export function sequentialCountTest(input: CountTestInput): CountTestResult {
  checkInput(input);
  const { pre, alpha, beta } = input;
  const soakTotal: Pair = { treatment: sum(input.soak.map((p) => p.treatment)), control: sum(input.soak.map((p) => p.control)) };
  const { u0, h, logNull, logAlternative, m } = lattice(pre, soakTotal, input.targetRatio);
  const logLik = new Float64Array(logAlternative.length);
  const failAt = Math.log(1 / alpha);
  const passAt = Math.log(1 / beta);
  let logReg = 0;
  let logSafe = 0;
  let decision: CountTestResult['decision'] = 'continue';
  let decidedAt: number | undefined;
  /** The interval from which the pass criterion has held without a break, if it holds now. */
  let passedAt: number | undefined;
  for (let k = 0; k < input.soak.length; k++) {
    const { treatment: t, control: c } = input.soak[k]!;
    // Errors with no requests on one side cannot happen (checked); requests without errors on
    // that side leave p_k at 0 or 1, which says nothing about x.
    if (t.errors + c.errors === 0 || t.requests === 0 || c.requests === 0) continue;
    const logT = Math.log(t.requests);
    const logC = Math.log(c.requests);
    for (let i = 0; i < logLik.length; i++) {
      const logTx = logT + u0 + i * h;
      const logTotal = logAddExp(logTx, logC);
      logLik[i]! += (t.errors > 0 ? t.errors * (logTx - logTotal) : 0) + (c.errors > 0 ? c.errors * (logC - logTotal) : 0);
    }
    const logNullLik = logSumExp(logNull, logLik, 0);
    logReg = logSumExp(logAlternative, logLik, 0) - logNullLik;
    logSafe = logNullLik - logSumExp(logNull, logLik, m);
    if (logReg >= failAt) {
      decision = 'fail';
      decidedAt = k;
      break;
    }
    if (logSafe >= passAt) passedAt ??= k;
    else passedAt = undefined;
  }
  // A regression fails at the first interval its evidence crosses, and stays failed. A pass
  // is the evidence now: a region that passed early and got worse since (a leak, a slow
  // cache expiry) must not keep an early pass. Requiring the pass at the end as well as
  // ever reaching it only makes a false pass rarer than beta.
  if (decision !== 'fail' && passedAt !== undefined) {
    decision = 'pass';
    decidedAt = passedAt;
  }
  // Past 1e308 an e-value says nothing more, and Infinity does not survive JSON.
  const eValue = (logE: number) => Math.min(Math.exp(logE), Number.MAX_VALUE);
  return {
    decision,
    ...(decidedAt === undefined ? {} : { decidedAt }),
    eRegression: eValue(logReg),
    eSafe: eValue(logSafe),
    ...estimate(pre, soakTotal, alpha),
    soak: soakTotal,
  };
}
