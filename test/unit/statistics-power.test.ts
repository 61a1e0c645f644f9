// domain/statistics/power.ts against the count test it speaks for: where detectableRatio
// returns a ratio, soaks with a regression of that ratio fail by their end in about 1 - β of
// simulated runs, neither fewer (optimistic: the formula it replaced returned 2 where 23 % were
// caught) nor nearly all (too conservative to plan with), on two shapes of traffic. The
// simulations are seeded (test/support/random.ts), so every rate printed here is a fixed
// number. Its unit tests (monotonicity, limits, refusals) are with the count test's
// (statistics-count-test.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sequentialCountTest, type Cell, type Pair } from '../../domain/statistics/count-test';
import { detectableRatio } from '../../domain/statistics/power';
import { random, type Random } from '../support/random';
import { trafficFor } from '../support/traffic-for';

const ALPHA = 0.05;
const BETA = 0.2;
const TARGET = 1.5;
const INTERVALS = 30;
const RUNS = 500;

interface Shape {
  /** Log-uniform ranges of T's and C's error rates. */
  treatmentRate: [number, number];
  controlRate: [number, number];
  /** C's traffic over T's, uniform in this range. */
  controlFactor: [number, number];
  /** The pre-deploy window's traffic over the soak's. */
  preFactor: number;
}
/** As the count test's simulations: rates 0.1–2 %, C 2–8× T's traffic, a pre window 4× the soak. */
const BALANCED: Shape = { treatmentRate: [0.001, 0.02], controlRate: [0.001, 0.02], controlFactor: [2, 8], preFactor: 4 };
/** A small region against a big control: T at 0.1–0.5 %, C at 0.5–2 % with 20–50× T's traffic; a pre window only as long as the soak. */
const SMALL_T: Shape = { treatmentRate: [0.001, 0.005], controlRate: [0.005, 0.02], controlFactor: [20, 50], preFactor: 1 };

const sum = (cells: Cell[]): Cell => ({ errors: cells.reduce((s, c) => s + c.errors, 0), requests: cells.reduce((s, c) => s + c.requests, 0) });

/**
 * One soak of γ-fold regression at the traffic where detectableRatio returns γ (with the
 * pre window's expected counts, or without: q known): diurnal curves of their own per
 * region, Poisson requests, binomial errors. Whether the count test fails by the end, and at
 * the end alone (the soak as one interval: what power.ts models).
 */
function soak(rng: Random, shape: Shape, gamma: number, withBefore: boolean): { byEnd: boolean; atEnd: boolean } {
  const rates = [rng.logUniform(...shape.treatmentRate), rng.logUniform(...shape.controlRate)] as const;
  const controlFactor = rng.between(...shape.controlFactor);
  const period = rng.between(20, 60);
  const curves = [0, 1].map(() => {
    const amplitude = rng.between(0.2, 0.6);
    const phase = rng.between(0, 2 * Math.PI);
    return Array.from({ length: INTERVALS }, (_, k) => 1 + amplitude * Math.sin((2 * Math.PI * k) / period + phase));
  }) as [number[], number[]];
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const perInterval = trafficFor((n) => {
    const before = shape.preFactor * n * INTERVALS;
    return detectableRatio({
      treatmentRequests: n * total(curves[0]),
      controlRequests: n * controlFactor * total(curves[1]),
      treatmentErrorRate: rates[0],
      controlErrorRate: rates[1],
      alpha: ALPHA,
      beta: BETA,
      targetRatio: TARGET,
      ...(withBefore
        ? {
            treatmentBefore: { errors: before * rates[0], requests: before },
            controlBefore: { errors: before * controlFactor * rates[1], requests: before * controlFactor },
          }
        : {}),
    });
  }, gamma);
  const intervals: Pair[] = curves[0].map((_, k) => {
    const requests = [rng.poisson(perInterval * curves[0][k]!), rng.poisson(perInterval * controlFactor * curves[1][k]!)] as const;
    return {
      treatment: { requests: requests[0], errors: rng.binomial(requests[0], Math.min(1, rates[0] * gamma)) },
      control: { requests: requests[1], errors: rng.binomial(requests[1], rates[1]) },
    };
  });
  const preRequests = [Math.round(shape.preFactor * perInterval * INTERVALS), Math.round(shape.preFactor * perInterval * controlFactor * INTERVALS)] as const;
  const pre = {
    treatment: { requests: preRequests[0], errors: rng.binomial(preRequests[0], rates[0]) },
    control: { requests: preRequests[1], errors: rng.binomial(preRequests[1], rates[1]) },
  };
  const test = (s: Pair[]) => sequentialCountTest({ pre, soak: s, alpha: ALPHA, beta: BETA, targetRatio: TARGET }).decision === 'fail';
  return { byEnd: test(intervals), atEnd: test([{ treatment: sum(intervals.map((p) => p.treatment)), control: sum(intervals.map((p) => p.control)) }]) };
}

function measure(seed: number, shape: Shape, gamma: number, withBefore: boolean): { byEnd: number; atEnd: number } {
  const rng = random(seed);
  let byEnd = 0;
  let atEnd = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = soak(rng, shape, gamma, withBefore);
    byEnd += Number(r.byEnd);
    atEnd += Number(r.atEnd);
  }
  return { byEnd: byEnd / RUNS, atEnd: atEnd / RUNS };
}
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

describe('detectableRatio is the power point of the count test', () => {
  for (const [seed, name, shape, gamma] of [
    [1, 'pre window 4× the soak, C 2–8× T', BALANCED, 2],
    [2, 'T small (C 20–50× its traffic, T at 0.1–0.5 %), pre window = soak', SMALL_T, 3],
  ] as const) {
    test(`where it returns ${gamma} (${name}): ${RUNS} soaks with a ${gamma}× regression fail by the end in 1 − β − 0.07 … 0.97`, () => {
      const m = measure(seed, shape, gamma, true);
      console.log(`power at ${gamma}× (${name}): ${pct(m.byEnd)} fail by the end of the soak, ${pct(m.atEnd)} at its end alone (1 − β = ${pct(1 - BETA)})`);
      assert.ok(m.byEnd >= 1 - BETA - 0.07 && m.byEnd <= 0.97, `detection rate ${m.byEnd}`);
    });
  }

  test('without the pre window’s counts (q taken as known) it is optimistic where that window is not much longer than the soak', () => {
    for (const [seed, shape, gamma] of [
      [3, BALANCED, 2],
      [4, SMALL_T, 3],
    ] as const) {
      const m = measure(seed, shape, gamma, false);
      console.log(`q taken as known, at ${gamma}× (pre window ${shape.preFactor}× the soak): ${pct(m.byEnd)} fail by the end`);
      assert.ok(m.byEnd < 1 - BETA, `detection rate ${m.byEnd}`);
    }
  });
});
