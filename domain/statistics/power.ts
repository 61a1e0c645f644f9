// How large a regression a soak of given traffic can tell from none, with the count test's
// model (count-test.ts): given the errors of both regions, T's share is binomial with p0 when
// nothing changed and p_γ when T's rate rose γ-fold. With the counts expected over the soak,
// each e-process grows in expectation by (expected errors)·KL per soak, KL being the
// Kullback–Leibler divergence of one error's region under the truth from the tested
// hypothesis.
//
// It ignores the uncertainty of the pre-deploy window (q taken as known) and what the mixture
// over γ costs against knowing γ, and a threshold reached in expectation is reached about
// half the time, not 1 - β of it: it is optimistic. The A/B simulation of the tests
// (test/unit/statistics-count-test.test.ts) measures how much: where it returns 2, the test
// caught a 2× regression in 23 % of soaks; where it returns 1.5, in 93 % (α = 0.05, β = 0.2,
// target 1.5, a pre window 4× the soak).

export interface PowerInput {
  treatmentRequests: number;
  controlRequests: number;
  treatmentErrorRate: number;
  controlErrorRate: number;
  alpha: number;
  beta: number;
}

const MAX_RATIO = 1000;

/** KL(Bernoulli(a) ‖ Bernoulli(b)), 0·log 0 taken as 0. */
function kl(a: number, b: number): number {
  const term = (p: number, q: number) => (p > 0 ? p * Math.log(p / q) : 0);
  return term(a, b) + term(1 - a, 1 - b);
}

function check(input: PowerInput): void {
  for (const key of ['treatmentRequests', 'controlRequests'] as const) {
    if (!(input[key] >= 0 && Number.isFinite(input[key]))) throw new RangeError(`detectable ratio: ${key} ${input[key]} is not a finite non-negative number`);
  }
  for (const key of ['treatmentErrorRate', 'controlErrorRate'] as const) {
    if (!(input[key] >= 0 && input[key] <= 1)) throw new RangeError(`detectable ratio: ${key} ${input[key]} is not between 0 and 1`);
  }
  for (const key of ['alpha', 'beta'] as const) {
    if (!(input[key] > 0 && input[key] < 1)) throw new RangeError(`detectable ratio: ${key} ${input[key]} is not between 0 and 1`);
  }
}

/**
 * Smallest γ > 1 such that, with the expected counts, the expected log E_safe under γ=1
 * reaches log(1/β) and the expected log E_reg under γ reaches log(1/α); Infinity when even
 * 1000× cannot be told.
 */
export function detectableRatio(input: PowerInput): number {
  check(input);
  const t = input.treatmentRequests * input.treatmentErrorRate;
  const c = input.controlRequests * input.controlErrorRate;
  // No errors expected on one side: T's share is 0 or 1 whatever γ is.
  if (!(t > 0 && c > 0)) return Infinity;
  const p0 = t / (t + c);
  const passes = Math.log(1 / input.beta);
  const fails = Math.log(1 / input.alpha);
  const detects = (logRatio: number) => {
    const expected = t * Math.exp(logRatio) + c;
    const p = (t * Math.exp(logRatio)) / expected;
    return (t + c) * kl(p0, p) >= passes && expected * kl(p, p0) >= fails;
  };
  let lo = 0;
  let hi = Math.log(MAX_RATIO);
  if (!detects(hi)) return Infinity;
  // Both expectations grow with γ, so the set of detectable γ is an interval up to 1000.
  while (hi - lo > 1e-9) {
    const mid = (lo + hi) / 2;
    if (detects(mid)) hi = mid;
    else lo = mid;
  }
  return Math.exp(hi);
}
