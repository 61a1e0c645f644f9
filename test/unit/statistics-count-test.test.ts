// domain/statistics/count-test.ts and power.ts: the e-values are the model's integrals (R's
// integrate() as the oracle), and the decisions keep their promises on simulated soaks:
// false alarms ≤ α without a regression (A/A, with diurnal traffic that differs between the
// regions, shared incidents, an uncertain pre-deploy window), detection and false passes with
// one (A/B), early stops for strong regressions. The simulations are seeded
// (test/support/random.ts), so every rate printed here is a fixed number.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sequentialCountTest, type CountTestInput, type CountTestResult, type Pair } from '../../domain/statistics/count-test';
import { normalCdf, normalQuantile } from '../../domain/statistics/normal';
import { detectableRatio } from '../../domain/statistics/power';
import { random, type Random } from '../support/random';
import { rNumbers, rVector } from '../support/r-oracle';
import { trafficFor } from '../support/traffic-for';

const ALPHA = 0.05;
const BETA = 0.2;
const TARGET = 1.5;
const INTERVALS = 30;

interface Scenario {
  /** T's regression during the soak. */
  gamma: number;
  /** Pre-deploy traffic over soak traffic: 4 is the usual window, 1 leaves q uncertain. */
  preFactor: number;
  /** Share of runs in which both regions' rates triple for 3–10 intervals. */
  incidentShare: number;
  /** Instead: the intervals [from, to) of an incident in every run. */
  incidentAt?: [number, number];
  /** T's requests per interval, or the traffic at which detectableRatio returns this. */
  traffic: [number, number] | { detectable: number };
}
const AA: Scenario = { gamma: 1, preFactor: 4, incidentShare: 0.3, traffic: [1000, 5000] };

/** One simulated soak: rates 0.1–2 %, C 2–8× T's traffic, diurnal curves of their own, binomial errors. */
function simulate(rng: Random, s: Scenario): { input: CountTestInput; rawRatio: number } {
  const rates = [rng.logUniform(0.001, 0.02), rng.logUniform(0.001, 0.02)] as const;
  const controlFactor = rng.between(2, 8);
  const period = rng.between(20, 60);
  const shape = [0, 1].map(() => {
    const amplitude = rng.between(0.2, 0.6);
    const phase = rng.between(0, 2 * Math.PI);
    return Array.from({ length: INTERVALS }, (_, k) => 1 + amplitude * Math.sin((2 * Math.PI * k) / period + phase));
  }) as [number[], number[]];
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // What the soak and the pre window will hold in expectation, as a plan would give it.
  const detectableAt = (perInterval: number) => {
    const before = s.preFactor * perInterval * INTERVALS;
    return detectableRatio({
      treatmentRequests: perInterval * total(shape[0]),
      controlRequests: perInterval * controlFactor * total(shape[1]),
      treatmentErrorRate: rates[0],
      controlErrorRate: rates[1],
      alpha: ALPHA,
      beta: BETA,
      treatmentBefore: { errors: before * rates[0], requests: before },
      controlBefore: { errors: before * controlFactor * rates[1], requests: before * controlFactor },
      targetRatio: TARGET,
    });
  };
  const perInterval = Array.isArray(s.traffic) ? rng.between(...s.traffic) : trafficFor(detectableAt, s.traffic.detectable);
  const start = Math.floor(rng.between(0, INTERVALS - 3));
  const [from, to] = s.incidentAt ?? (rng.uniform() < s.incidentShare ? [start, start + Math.floor(rng.between(3, 11))] : [0, 0]);
  const soak: Pair[] = shape[0].map((_, k) => {
    const shared = k >= from && k < to ? 3 : 1;
    const requests = [rng.poisson(perInterval * shape[0][k]!), rng.poisson(perInterval * controlFactor * shape[1][k]!)];
    return {
      treatment: { requests: requests[0]!, errors: rng.binomial(requests[0]!, Math.min(1, rates[0] * s.gamma * shared)) },
      control: { requests: requests[1]!, errors: rng.binomial(requests[1]!, Math.min(1, rates[1] * shared)) },
    };
  });
  const preRequests = [Math.round(s.preFactor * perInterval * INTERVALS), Math.round(s.preFactor * perInterval * controlFactor * INTERVALS)];
  const pre = {
    treatment: { requests: preRequests[0]!, errors: rng.binomial(preRequests[0]!, rates[0]) },
    control: { requests: preRequests[1]!, errors: rng.binomial(preRequests[1]!, rates[1]) },
  };
  const input = { pre, soak, alpha: ALPHA, beta: BETA, targetRatio: TARGET };
  const soakT = soak.reduce((a, p) => ({ e: a.e + p.treatment.errors, n: a.n + p.treatment.requests }), { e: 0, n: 0 });
  return { input, rawRatio: soakT.e / soakT.n / (pre.treatment.errors / pre.treatment.requests) };
}

interface Measured {
  runs: number;
  fail: number;
  pass: number;
  /** decidedAt of each run that failed, sorted. */
  failedAt: number[];
  /** decidedAt of each run that passed, sorted. */
  passedAt: number[];
  results: CountTestResult[];
  rawRatios: number[];
}
function measure(seed: number, runs: number, s: Scenario): Measured {
  const rng = random(seed);
  const m: Measured = { runs, fail: 0, pass: 0, failedAt: [], passedAt: [], results: [], rawRatios: [] };
  for (let i = 0; i < runs; i++) {
    const { input, rawRatio } = simulate(rng, s);
    const r = sequentialCountTest(input);
    m.results.push(r);
    m.rawRatios.push(rawRatio);
    if (r.decision === 'fail') {
      m.fail++;
      m.failedAt.push(r.decidedAt!);
    } else if (r.decision === 'pass') {
      m.pass++;
      m.passedAt.push(r.decidedAt!);
    }
  }
  m.failedAt.sort((a, b) => a - b);
  m.passedAt.sort((a, b) => a - b);
  return m;
}
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
/** The median number of intervals a decision took (decidedAt counts from 0). */
const took = (decidedAt: number[]) => (decidedAt.length ? `${median(decidedAt)! + 1} of ${INTERVALS} intervals` : 'no decision');
const pct = (x: number, runs: number) => `${((100 * x) / runs).toFixed(1)} %`;

describe('A/A: no regression', () => {
  test('1,000 soaks, diurnal traffic differing between regions, a shared incident in ~30 %: false alarms ≤ α', () => {
    const m = measure(1, 1000, AA);
    console.log(`A/A (pre window 4× the soak): ${pct(m.fail, m.runs)} false alarms, ${pct(m.pass, m.runs)} passed, passes took ${took(m.passedAt)}`);
    assert.ok(m.fail / m.runs <= ALPHA, `false-alarm rate ${m.fail / m.runs}`);
  });

  test('1,000 soaks at the traffic where detectableRatio is 1.5 (a pass must hold at the newest interval, so passes take several intervals): false alarms ≤ α', () => {
    const m = measure(10, 1000, { ...AA, traffic: { detectable: 1.5 } });
    console.log(`A/A (detectableRatio 1.5): ${pct(m.fail, m.runs)} false alarms, ${pct(m.pass, m.runs)} passed, passes took ${took(m.passedAt)}`);
    assert.ok(m.fail / m.runs <= ALPHA, `false-alarm rate ${m.fail / m.runs}`);
  });

  test('1,000 soaks after a pre window no longer than the soak (q uncertain): false alarms ≤ α', () => {
    const m = measure(2, 1000, { ...AA, preFactor: 1 });
    console.log(`A/A (pre window 1× the soak): ${pct(m.fail, m.runs)} false alarms, ${pct(m.pass, m.runs)} passed, passes took ${took(m.passedAt)}`);
    assert.ok(m.fail / m.runs <= ALPHA, `false-alarm rate ${m.fail / m.runs}`);
  });

  test('a shared incident (both regions ×3 for 20 intervals) on a good version: a threshold gate on T alone would breach; the comparison does not fail', () => {
    const m = measure(3, 300, { ...AA, incidentShare: 0, incidentAt: [5, 25] });
    const gateBreaches = m.rawRatios.filter((r) => r > 1.5).length;
    const eReg = m.results.map((r) => r.eRegression).sort((a, b) => a - b);
    console.log(
      `shared incident: a gate at 1.5× T's pre-deploy error rate breaches in ${pct(gateBreaches, m.runs)}; ` +
        `the comparison fails in ${pct(m.fail, m.runs)}, median E_reg ${median(eReg)!.toFixed(3)}`,
    );
    assert.ok(m.fail / m.runs <= ALPHA);
    assert.ok(median(eReg)! < 1);
  });

  test('too little traffic (1 request per interval at 0.1 %): it never passes, it continues', () => {
    const rng = random(4);
    for (let i = 0; i < 200; i++) {
      const cell = () => ({ requests: 1, errors: rng.binomial(1, 0.001) });
      const pre = { treatment: { requests: 120, errors: rng.binomial(120, 0.001) }, control: { requests: 120, errors: rng.binomial(120, 0.001) } };
      const soak = Array.from({ length: INTERVALS }, () => ({ treatment: cell(), control: cell() }));
      assert.equal(sequentialCountTest({ pre, soak, alpha: ALPHA, beta: BETA, targetRatio: TARGET }).decision, 'continue');
    }
  });
});

describe('A/B: a regression in T', () => {
  let atBoundary: Measured;
  before(() => {
    atBoundary = measure(5, 500, { ...AA, gamma: 2, traffic: { detectable: 2 } });
  });

  test('2× at traffic where detectableRatio is 1.5 (2× detectable, with room): caught by the end of the soak in ≥ 1 − β', () => {
    const m = measure(6, 500, { ...AA, gamma: 2, traffic: { detectable: 1.5 } });
    console.log(
      `A/B 2×: caught in ${pct(m.fail, m.runs)} where detectableRatio is 1.5, fails took ${took(m.failedAt)}; ` +
        `in ${pct(atBoundary.fail, atBoundary.runs)} where it is exactly 2 (fails took ${took(atBoundary.failedAt)})`,
    );
    assert.ok(m.fail / m.runs >= 1 - BETA, `detection rate ${m.fail / m.runs}`);
    // At the boundary detectableRatio promises 1 − β (power.ts; statistics-power.test.ts measures it): fewer than with room.
    assert.ok(atBoundary.fail < m.fail);
  });

  test('γ = targetRatio (1.5×): passed in ≤ β, at the A/B traffic and at the A/A traffic', () => {
    for (const [seed, traffic] of [
      [7, { detectable: 1.5 }],
      [8, AA.traffic],
    ] as const) {
      const m = measure(seed, 500, { ...AA, gamma: TARGET, traffic });
      console.log(`A/B ${TARGET}×: passed (wrongly) in ${pct(m.pass, m.runs)}, failed in ${pct(m.fail, m.runs)} (traffic ${JSON.stringify(traffic)})`);
      assert.ok(m.pass / m.runs <= BETA, `false-pass rate ${m.pass / m.runs}`);
    }
  });

  test('5×: decides fail before half the soak in ≥ 95 %', () => {
    const m = measure(9, 300, { ...AA, gamma: 5, traffic: { detectable: 1.5 } });
    const early = m.results.filter((r) => r.decision === 'fail' && r.decidedAt! < INTERVALS / 2).length;
    console.log(`A/B 5×: failed within the first ${INTERVALS / 2} intervals in ${pct(early, m.runs)}, fails took ${took(m.failedAt)}`);
    assert.ok(early / m.runs >= 0.95);
  });
});

// The model's integrals computed independently: R's adaptive quadrature (integrate(), split
// around each integrand's peak) over logit(p0) and log γ to 15 scales, with the likelihood
// written out in R. Ours truncates π at 4 scales (~6e-5 of its mass), hence the tolerance.
const R_EVALUES = `
ipeak <- function(logf, lo, hi) {
  m <- optimize(logf, c(lo, hi), maximum = TRUE, tol = 1e-12)$maximum
  top <- logf(m)
  curv <- -(logf(m + 1e-5) - 2 * top + logf(m - 1e-5)) / 1e-10
  w <- if (is.finite(curv) && curv > 0) 1 / sqrt(curv) else (hi - lo) / 100
  br <- sort(unique(pmin(pmax(c(lo, m + c(-40, -8, -2, 0, 2, 8, 40) * w, hi), lo), hi)))
  g <- function(x) exp(logf(x) - top)
  total <- 0
  for (i in seq_len(length(br) - 1)) total <- total + integrate(g, br[i], br[i + 1], rel.tol = 1e-9, abs.tol = 0, subdivisions = 2000L)$value
  log(total) + top
}
evalues <- function(eT0, nT0, eC0, nC0, eT, nT, eC, nC, target) {
  a <- eT0 + 0.5; b <- eC0 + 0.5; cc <- log(nC0 / nT0); s <- log(target)
  # Without requests on a side, p_k is 0 or 1 and that side has no errors: a factor of 1.
  k <- nT > 0 & nC > 0; eT <- eT[k]; nT <- nT[k]; eC <- eC[k]; nC <- nC[k]
  loglik <- function(u) vapply(u, function(x) { z <- log(nT) + x - log(nC); sum(eT * plogis(z, log.p = TRUE) + eC * plogis(-z, log.p = TRUE)) }, 0)
  logw <- function(t) a * plogis(t, log.p = TRUE) + b * plogis(-t, log.p = TRUE) - lbeta(a, b)
  lo <- log(a / b) - 100; hi <- log(a / b) + 100
  logg1 <- function(u) vapply(u, function(uu) ipeak(function(v) log(2) + dnorm(v, 0, s, log = TRUE) + logw(uu - cc - v), 0, 15 * s), 0)
  null <- ipeak(function(t) logw(t) + loglik(t + cc), lo, hi)
  safe <- ipeak(function(t) logw(t) + loglik(t + cc + s), lo, hi)
  alt <- ipeak(function(u) logg1(u) + loglik(u), lo + cc, hi + cc + 15 * s)
  c(alt - null, null - safe)
}`;

const pair = (eT: number, nT: number, eC: number, nC: number): Pair => ({ treatment: { errors: eT, requests: nT }, control: { errors: eC, requests: nC } });
const repeat = <T>(n: number, f: (k: number) => T) => Array.from({ length: n }, (_, k) => f(k));
const integralCases: { name: string; pre: Pair; soak: Pair[]; target: number }[] = [
  {
    name: 'a few errors per interval',
    pre: pair(40, 40000, 200, 200000),
    soak: [pair(3, 3000, 10, 15000), pair(5, 3100, 12, 15000), pair(2, 2900, 9, 15000), pair(4, 3000, 11, 15000)],
    target: 1.5,
  },
  { name: 'a soak much larger than the pre window', pre: pair(2, 400, 10, 2000), soak: repeat(10, () => pair(30, 3000, 110, 15000)), target: 1.5 },
  { name: 'no errors at all before the deploy', pre: pair(0, 100, 0, 500), soak: repeat(10, () => pair(300, 3000, 1100, 15000)), target: 2 },
  {
    name: 'a regression, diurnal traffic',
    pre: pair(5000, 1e6, 30000, 5e6),
    soak: repeat(12, (k) => pair(4 + (k % 3), 300 * (1 + k / 10), 11, 1500 / (1 + k / 20))),
    target: 1.5,
  },
  {
    name: 'non-integer counts (Prometheus increase())',
    pre: pair(31.7, 9120.4, 150.2, 45011.9),
    soak: repeat(6, (k) => pair(2.4 + k / 3, 1203.7, 8.9, 6021.3)),
    target: 1.25,
  },
  {
    name: 'one side without requests in some intervals',
    pre: pair(20, 10000, 90, 50000),
    soak: [pair(0, 0, 5, 5000), pair(3, 1000, 0, 0), pair(4, 1000, 7, 5000)],
    target: 1.5,
  },
];

describe('the e-values are the model integrals (R integrate() as oracle)', () => {
  let oracle: number[][];
  let worst = 0;
  after(() => console.log(`e-values: log E within ${worst.toExponential(1)} of R's integrals over ${integralCases.length} cases`));
  before(async () => {
    oracle = await rNumbers(
      integralCases.map((c) => {
        const v = (f: (p: Pair) => number, from: Pair[]) => rVector(from.map(f));
        const { pre, soak } = c;
        return `evalues(${pre.treatment.errors}, ${pre.treatment.requests}, ${pre.control.errors}, ${pre.control.requests}, ${v((p) => p.treatment.errors, soak)}, ${v((p) => p.treatment.requests, soak)}, ${v((p) => p.control.errors, soak)}, ${v((p) => p.control.requests, soak)}, ${c.target})`;
      }),
      R_EVALUES,
    );
  });
  integralCases.forEach((c, i) => {
    test(`${c.name}: log E_reg and log E_safe within 1e-4`, () => {
      // The decision thresholds out of reach, so that the e-values are those of the whole soak.
      const r = sequentialCountTest({ pre: c.pre, soak: c.soak, alpha: 1e-300, beta: 1e-300, targetRatio: c.target });
      const [reg, safe] = oracle[i]!;
      assert.equal(r.decision, 'continue');
      worst = Math.max(worst, Math.abs(Math.log(r.eRegression) - reg!), Math.abs(Math.log(r.eSafe) - safe!));
      assert.ok(Math.abs(Math.log(r.eRegression) - reg!) < 1e-4, `log E_reg ${Math.log(r.eRegression)}, R ${reg}`);
      assert.ok(Math.abs(Math.log(r.eSafe) - safe!) < 1e-4, `log E_safe ${Math.log(r.eSafe)}, R ${safe}`);
    });
  });
});

describe('count test: edges', () => {
  const pre = pair(40, 40000, 200, 200000);
  const base = { pre, alpha: ALPHA, beta: BETA, targetRatio: TARGET };

  test('intervals without errors (or without traffic) leave the e-values at 1: it continues', () => {
    const r = sequentialCountTest({ ...base, soak: [pair(0, 3000, 0, 15000), pair(0, 0, 0, 0), pair(0, 0, 0, 15000)] });
    assert.deepEqual({ decision: r.decision, decidedAt: r.decidedAt }, { decision: 'continue', decidedAt: undefined });
    assert.ok(Math.abs(r.eRegression - 1) < 1e-12 && Math.abs(r.eSafe - 1) < 1e-12, `${r.eRegression} ${r.eSafe}`);
    assert.deepEqual(sequentialCountTest({ ...base, soak: [] }).decision, 'continue');
  });

  test('10^6 errors per interval: no overflow; a 1.05× regression fails at the first interval, the old rates pass', () => {
    const big = (gamma: number) => [pair(1e6 * gamma, 1e8, 5e6, 5e8), pair(1e6 * gamma, 1e8, 5e6, 5e8)];
    const worse = sequentialCountTest({ ...base, pre: pair(4e6, 4e8, 2e7, 2e9), soak: big(1.05) });
    assert.equal(worse.decision, 'fail');
    assert.equal(worse.decidedAt, 0);
    assert.equal(worse.eRegression, Number.MAX_VALUE, 'past 1e308: capped, not Infinity');
    assert.ok(Math.abs(worse.ratio - 1.05) < 1e-9 && worse.interval[0] > 1.04 && worse.interval[1] < 1.06, JSON.stringify(worse.interval));
    const same = sequentialCountTest({ ...base, pre: pair(4e6, 4e8, 2e7, 2e9), soak: big(1) });
    assert.equal(same.decision, 'pass');
    assert.ok(Number.isFinite(same.eRegression) && same.eRegression < 1 && Number.isFinite(same.eSafe));
  });

  test('ratio: the difference in differences of the rates; interval exp(log ratio ± z·√Σ1/e); ½ added to every count when one is 0', () => {
    const r = sequentialCountTest({ ...base, alpha: 0.05, soak: [pair(12, 3000, 10, 15000), pair(12, 3000, 10, 15000)] });
    const ratio = (24 / 6000 / (20 / 30000)) * (200 / 200000 / (40 / 40000));
    assert.ok(Math.abs(r.ratio - ratio) < 1e-12 * ratio);
    const se = Math.sqrt(1 / 24 + 1 / 20 + 1 / 40 + 1 / 200);
    assert.ok(
      Math.abs(r.interval[0] - ratio * Math.exp(-1.959963984540054 * se)) < 1e-9 && Math.abs(r.interval[1] - ratio * Math.exp(1.959963984540054 * se)) < 1e-9,
    );
    assert.deepEqual(r.soak, pair(24, 6000, 20, 30000));
    const zero = sequentialCountTest({ ...base, soak: [pair(0, 3000, 10, 15000)] });
    assert.ok(Math.abs(zero.ratio - (0.5 / 3000 / (10.5 / 15000)) * (200.5 / 200000 / (40.5 / 40000))) < 1e-12);
    assert.ok(Number.isNaN(sequentialCountTest({ ...base, soak: [pair(0, 0, 10, 15000)] }).ratio), 'no treatment requests in the soak: no ratio');
  });

  test('what it refuses: RangeError naming the problem', () => {
    const refuses = (input: Partial<CountTestInput>, message: string) =>
      assert.throws(() => sequentialCountTest({ ...base, soak: [pair(1, 10, 1, 10)], ...input }), { name: 'RangeError', message: `count test: ${message}` });
    refuses({ soak: [pair(1, 10, 1, 10), pair(-1, 10, 1, 10)] }, 'soak[1] treatment errors is -1, not a finite non-negative number');
    refuses({ soak: [pair(1, NaN, 1, 10)] }, 'soak[0] treatment requests is NaN, not a finite non-negative number');
    refuses({ pre: pair(1, 10, 1, Infinity) }, 'pre control requests is Infinity, not a finite non-negative number');
    refuses({ soak: [pair(1, 10, 11, 10)] }, 'soak[0] control has more errors (11) than requests (10)');
    refuses({ pre: pair(0, 0, 1, 10) }, 'the pre-deploy window has no treatment requests, so there is nothing to compare the soak with');
    refuses({ alpha: 0 }, 'alpha 0 is not between 0 and 1');
    refuses({ beta: 1 }, 'beta 1 is not between 0 and 1');
    refuses({ targetRatio: 1 }, 'targetRatio 1 is not a finite number above 1');
  });
});

describe('detectableRatio', () => {
  const at = (treatmentRequests: number, over: Partial<Parameters<typeof detectableRatio>[0]> = {}) =>
    detectableRatio({
      treatmentRequests,
      controlRequests: 5 * treatmentRequests,
      treatmentErrorRate: 0.01,
      controlErrorRate: 0.005,
      alpha: ALPHA,
      beta: BETA,
      ...over,
    });

  test('more traffic, a smaller detectable ratio; stricter α or β, a larger one', () => {
    const ratios = [1e3, 1e4, 1e5, 1e6, 1e7].map((n) => at(n));
    for (let i = 1; i < ratios.length; i++) assert.ok(ratios[i]! < ratios[i - 1]!, ratios.join(' '));
    assert.ok(ratios.at(-1)! > 1 && ratios.at(-1)! < 1.02);
    assert.ok(at(1e5, { alpha: 0.01 }) > at(1e5) && at(1e5, { beta: 0.05 }) >= at(1e5));
  });

  // A pre-deploy window of factor times the soak's traffic, at the same rates.
  const before = (treatmentRequests: number, factor: number) => ({
    treatmentBefore: { errors: factor * treatmentRequests * 0.01, requests: factor * treatmentRequests },
    controlBefore: { errors: factor * 5 * treatmentRequests * 0.005, requests: factor * 5 * treatmentRequests },
  });

  test('many errors: the closed form of power.ts with d Gaussian (log γ = √V·(z·√(1 + V/s²) + z_{1-β}), V at γ), to 0.5 % of log γ', () => {
    // z solves z²/2 + log Φ(z) = log(1/α) - log 2 + ½·log(1 + s²/V): where the Gaussian E_reg reaches 1/α.
    const closedForm = (t: number, c: number, v0: number) => {
      const s = Math.log(TARGET);
      let g = 0.1;
      for (let i = 0; i < 100; i++) {
        const v = 1 / (t * Math.exp(g)) + 1 / c + v0;
        const level = Math.log(1 / ALPHA) - Math.log(2) + 0.5 * Math.log1p((s * s) / v);
        let [lo, hi] = [0, 40];
        for (let j = 0; j < 100; j++)
          [lo, hi] = ((lo + hi) / 2) ** 2 / 2 + Math.log(normalCdf((lo + hi) / 2)) < level ? [(lo + hi) / 2, hi] : [lo, (lo + hi) / 2];
        g = Math.sqrt(v) * (lo * Math.sqrt(1 + v / (s * s)) + normalQuantile(1 - BETA));
      }
      return g;
    };
    for (const n of [1e6, 1e7]) {
      const [t, c] = [n * 0.01, 5 * n * 0.005];
      const known = Math.log(at(n, { targetRatio: TARGET }));
      const uncertain = Math.log(at(n, { targetRatio: TARGET, ...before(n, 4) }));
      const v0 = 1 / (4 * t + 0.5) + 1 / (4 * c + 0.5);
      assert.ok(Math.abs(known / closedForm(t, c, 0) - 1) < 0.005, `${n}: log γ ${known}, closed form ${closedForm(t, c, 0)}`);
      assert.ok(Math.abs(uncertain / closedForm(t, c, v0) - 1) < 0.005, `${n}: log γ ${uncertain}, closed form ${closedForm(t, c, v0)}`);
    }
  });

  test('the pre window: the shorter, the larger the ratio; 1000× the soak is as good as q known (0.5 % of log γ); no errors in it, Infinity', () => {
    for (const n of [1e3, 1e4, 1e5]) {
      const ratios = [1000, 100, 10, 4, 1, 0.25].map((factor) => at(n, before(n, factor)));
      for (let i = 1; i < ratios.length; i++) assert.ok(ratios[i]! > ratios[i - 1]!, ratios.join(' '));
      assert.ok(Math.abs(Math.log(ratios[0]!) / Math.log(at(n)) - 1) < 0.005, `${ratios[0]} against ${at(n)} with q known`);
    }
    const none = { errors: 0, requests: 1e6 };
    assert.equal(at(1e5, { treatmentBefore: none, controlBefore: none }), Infinity, 'q could be anything');
  });

  test('targetRatio, the scale of the mixture over γ: it costs least near the ratio to detect', () => {
    const ratios = [1.1, 1.5, 10].map((targetRatio) => at(1e4, { targetRatio, ...before(1e4, 4) }));
    assert.ok(ratios[1]! < ratios[0]! && ratios[1]! < ratios[2]!, ratios.join(' '));
    assert.equal(at(1e4, { ...before(1e4, 4) }), ratios[1], 'targetRatio 1.5 when not given');
  });

  test('no traffic, or no errors expected on a side: Infinity; bad input: RangeError', () => {
    assert.equal(at(0), Infinity);
    assert.equal(at(1e5, { treatmentErrorRate: 0 }), Infinity);
    assert.equal(at(1e5, { controlRequests: 0 }), Infinity);
    assert.equal(at(1, { treatmentErrorRate: 0.001 }), Infinity, '1000× cannot be told from 1 request');
    assert.throws(() => at(-1), { name: 'RangeError', message: 'detectable ratio: treatmentRequests -1 is not a finite non-negative number' });
    assert.throws(() => at(1e5, { controlErrorRate: 1.5 }), { name: 'RangeError', message: 'detectable ratio: controlErrorRate 1.5 is not between 0 and 1' });
    assert.throws(() => at(1e5, { alpha: 0 }), { name: 'RangeError', message: 'detectable ratio: alpha 0 is not between 0 and 1' });
    assert.throws(() => at(1e5, { targetRatio: 1 }), { name: 'RangeError', message: 'detectable ratio: targetRatio 1 is not a finite number above 1' });
    assert.throws(() => at(1e5, { treatmentBefore: { errors: 1, requests: 10 } }), {
      name: 'RangeError',
      message: 'detectable ratio: give the pre-deploy counts of both treatmentBefore and controlBefore, or neither',
    });
    assert.throws(() => at(1e5, { ...before(1e5, 4), controlBefore: { errors: -1, requests: 10 } }), {
      name: 'RangeError',
      message: 'detectable ratio: controlBefore.errors -1 is not a finite non-negative number',
    });
    assert.equal(
      at(1e5, { ...before(1e5, 4), treatmentBefore: { errors: 0, requests: 0 } }),
      Infinity,
      'no requests before the deploy: nothing to compare with',
    );
  });
});
