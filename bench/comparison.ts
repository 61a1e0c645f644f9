// M10 (issue 24): the comparison check (a soaking region T against a control region C still
// on the old version, docs/comparisons.md) beside today's threshold gate, deciding on the
// same simulated traffic. A Monte-Carlo of soaks on counts, no servers: it compares the
// gates' decisions, not the plumbing (the real-Prometheus path is in
// test/integration/comparison-rollout.test.ts and slo-comparison.test.ts).
//
// Each rollout: a 60-minute window before the deploy and a 30-minute soak checked every
// minute. T serves 5–20 req/s, C 50–200 req/s, each on a daily curve of its own (another
// timezone), Poisson requests per minute, binomial errors at a base rate of 0.1–1 % per
// region. The draws of a rollout (rates, curves, time of day, traffic) are the same in every
// scenario; only the errors differ. The gates, evaluated after every minute as the watch
// does (activities/slo/watch.ts: a fail rolls back at once; more than maxInconclusive = 3
// non-pass results in a row halt; the check at minute 30 is the final gate):
// - threshold: T's error ratio since the deploy (errorRatioQuery over [{{window}}]) under
//   2× T's long-run base rate, the threshold an operator who knows the region would set.
//   A `minTraffic` beside it would change none of its decisions: a breach fails on any
//   traffic (activities/slo/prometheus.ts), and 2 minutes' traffic is there by the end.
// - + baseline: the same check with `baseline: {maxRatio: 1.5, minDelta: ½ base rate}`:
//   also fail when the ratio is worse than the same query at the deploy time over a window
//   as long ([deploy − w, deploy]), by the arithmetic of activities/slo/verdict.ts.
// - + baseline + minTraffic: and `minTraffic` of 2 minutes of T's mean traffic (any more
//   and T's quiet hours halt the soak on inconclusive results before it is reached).
// - comparison: sequentialCountTest (alpha 0.05, power 0.8, threshold 1.5, before 1h)
//   over the intervals so far, at every minute, as activities/slo/comparison.ts evaluates
//   it; at the soak's end an undecided test is inconclusive (neither rolled back nor passed).
import { sequentialCountTest, type Cell, type Pair } from '../domain/statistics/count-test';
import { compare, regressedFromBaseline } from '../activities/slo/verdict';
import { random, type Random } from '../test/support/random';
import { pct, QUICK, results, table } from './support';

const SEED = 24;
const PRE = 60;
const SOAK = 30;
const MAX_INCONCLUSIVE = 3;
const DAY_MIN = 1440;
const ALPHA = 0.05;
const BETA = 0.2;
const TARGET = 1.5;
const THRESHOLD_X = 2;
const BASELINE = { maxRatio: 1.5, minDeltaX: 0.5 };
const MIN_TRAFFIC_MINUTES = 2;
const INCIDENT = { factor: 3, intervals: 10 };

interface Scenario {
  name: string;
  /** T's error rate from the deploy on, relative to before. */
  gamma: number;
  incident: boolean;
  /** A good version: every rollback is a false one. */
  good: boolean;
  judged: boolean;
}
const SCENARIOS: Scenario[] = [
  { name: 'good, no incident', gamma: 1, incident: false, good: true, judged: true },
  { name: `good, shared incident ×${INCIDENT.factor}`, gamma: 1, incident: true, good: true, judged: true },
  { name: 'regression ×2 in T', gamma: 2, incident: false, good: false, judged: true },
  { name: 'regression ×5 in T', gamma: 5, incident: false, good: false, judged: true },
  { name: 'regression ×1.3 in T (below target)', gamma: 1.3, incident: false, good: false, judged: false },
];

const GATES = ['threshold', '+ baseline', '+ baseline + minTraffic', 'comparison'] as const;
type Gate = (typeof GATES)[number];

type Outcome = { kind: 'rollback'; minute: number } | { kind: 'pass' } | { kind: 'inconclusive' };

/** What a rollout's traffic is, whatever version it runs. */
interface Rollout {
  /** Long-run error rates of T and C. */
  rates: [number, number];
  /** Requests per minute, minutes −PRE … SOAK − 1 relative to the deploy (index 0 is −PRE). */
  requests: [number[], number[]];
  /** T's mean requests per minute. */
  tPerMinute: number;
}

function rollout(rng: Random): Rollout {
  const perSecond = [rng.between(5, 20), rng.between(50, 200)];
  const rates: [number, number] = [rng.logUniform(0.001, 0.01), rng.logUniform(0.001, 0.01)];
  const deployAt = rng.between(0, DAY_MIN);
  const requests = [0, 1].map((r) => {
    const amplitude = rng.between(0.2, 0.4);
    const phase = rng.between(0, 2 * Math.PI);
    return Array.from({ length: PRE + SOAK }, (_, i) => {
      const clock = deployAt + i - PRE;
      return rng.poisson(perSecond[r]! * 60 * (1 + amplitude * Math.sin((2 * Math.PI * clock) / DAY_MIN + phase)));
    });
  }) as [number[], number[]];
  return { rates, requests, tPerMinute: perSecond[0]! * 60 };
}

/** Errors per minute of T and C under a scenario. */
function errors(rng: Random, r: Rollout, s: Scenario): [number[], number[]] {
  const start = s.incident ? Math.floor(rng.between(0, SOAK - INCIDENT.intervals + 1)) : -1;
  return [0, 1].map((region) =>
    r.requests[region]!.map((n, i) => {
      const minute = i - PRE;
      const shared = s.incident && minute >= start && minute < start + INCIDENT.intervals ? INCIDENT.factor : 1;
      const version = region === 0 && minute >= 0 ? s.gamma : 1;
      return rng.binomial(n, Math.min(1, r.rates[region]! * shared * version));
    }),
  ) as [number[], number[]];
}

const sumOver = (xs: number[], from: number, to: number) => {
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i]!;
  return s;
};

/** A threshold gate on T alone, checked after every minute of the soak. */
function thresholdGate(r: Rollout, e: [number[], number[]], opts: { baseline: boolean; minTraffic: boolean }): Outcome {
  const [n, err] = [r.requests[0], e[0]];
  const threshold = THRESHOLD_X * r.rates[0];
  const rule = { maxRatio: BASELINE.maxRatio, minDelta: BASELINE.minDeltaX * r.rates[0] };
  const minTraffic = MIN_TRAFFIC_MINUTES * r.tPerMinute;
  let nonPass = 0;
  for (let k = 1; k <= SOAK; k++) {
    const requests = sumOver(n, PRE, PRE + k);
    const value = sumOver(err, PRE, PRE + k) / requests;
    let verdict: 'pass' | 'fail' | 'inconclusive' = 'pass';
    if (!compare(value, '<', threshold)) verdict = 'fail';
    else if (opts.minTraffic && requests < minTraffic) verdict = 'inconclusive';
    else if (opts.baseline) {
      const before = sumOver(err, PRE - k, PRE) / sumOver(n, PRE - k, PRE);
      if (regressedFromBaseline(value, before, '<', rule)) verdict = 'fail';
    }
    if (verdict === 'fail') return { kind: 'rollback', minute: k };
    nonPass = verdict === 'pass' ? 0 : nonPass + 1;
    if (k === SOAK) return verdict === 'pass' ? { kind: 'pass' } : { kind: 'inconclusive' };
    if (nonPass > MAX_INCONCLUSIVE) return { kind: 'inconclusive' };
  }
  throw new Error('unreachable');
}

/** The comparison check, evaluated over the intervals so far after every minute. */
function comparisonGate(r: Rollout, e: [number[], number[]]): Outcome {
  const cell = (region: 0 | 1, from: number, to: number): Cell => ({ errors: sumOver(e[region], from, to), requests: sumOver(r.requests[region], from, to) });
  const pre: Pair = { treatment: cell(0, 0, PRE), control: cell(1, 0, PRE) };
  const soak: Pair[] = Array.from({ length: SOAK }, (_, k) => ({ treatment: cell(0, PRE + k, PRE + k + 1), control: cell(1, PRE + k, PRE + k + 1) }));
  for (let k = 1; k <= SOAK; k++) {
    const test = sequentialCountTest({ pre, soak: soak.slice(0, k), alpha: ALPHA, beta: BETA, targetRatio: TARGET });
    if (test.decision === 'fail') return { kind: 'rollback', minute: k };
    if (k === SOAK) return test.decision === 'pass' ? { kind: 'pass' } : { kind: 'inconclusive' };
  }
  throw new Error('unreachable');
}

export interface M10Row {
  scenario: string;
  gate: Gate;
  rollouts: number;
  rolledBack: number;
  passed: number;
  inconclusive: number;
  /** Minutes from the deploy (where a regression starts) to the rollback: p50, p90, max. */
  rollbackMinutes: { p50: number; p90: number; max: number } | null;
}

/** Runs every scenario on `n` rollouts; each gate decides on the same counts. */
export function simulateComparisons(n: number, seed = SEED): M10Row[] {
  const rows: M10Row[] = [];
  SCENARIOS.forEach((s, si) => {
    const outcomes = new Map<Gate, Outcome[]>(GATES.map((g) => [g, []]));
    for (let i = 0; i < n; i++) {
      const r = rollout(random(seed * 1_000_003 + i));
      const e = errors(random((seed * 1_000_003 + i) * 7 + si + 1), r, s);
      outcomes.get('threshold')!.push(thresholdGate(r, e, { baseline: false, minTraffic: false }));
      outcomes.get('+ baseline')!.push(thresholdGate(r, e, { baseline: true, minTraffic: false }));
      outcomes.get('+ baseline + minTraffic')!.push(thresholdGate(r, e, { baseline: true, minTraffic: true }));
      outcomes.get('comparison')!.push(comparisonGate(r, e));
    }
    for (const gate of GATES) {
      const os = outcomes.get(gate)!;
      const minutes = os.flatMap((o) => (o.kind === 'rollback' ? [o.minute] : []));
      rows.push({
        scenario: s.name,
        gate,
        rollouts: n,
        rolledBack: minutes.length,
        passed: os.filter((o) => o.kind === 'pass').length,
        inconclusive: os.filter((o) => o.kind === 'inconclusive').length,
        rollbackMinutes: minutes.length ? { p50: pct(minutes, 50), p90: pct(minutes, 90), max: Math.max(...minutes) } : null,
      });
    }
  });
  return rows;
}

export async function m10(): Promise<void> {
  const n = QUICK ? 200 : 1000;
  const started = performance.now();
  const rows = simulateComparisons(n);
  const seconds = (performance.now() - started) / 1000;
  const per100 = (x: number) => ((100 * x) / n).toFixed(1);
  const t = table(['scenario', 'gate', 'false rollbacks /100', 'missed /100', 'inconclusive /100', 'rollback p50 min', 'p90 min']);
  for (const row of rows) {
    const s = SCENARIOS.find((x) => x.name === row.scenario)!;
    const m = row.rollbackMinutes;
    t.push([
      row.scenario,
      row.gate,
      s.good ? per100(row.rolledBack) : '—',
      s.good ? '—' : per100(row.passed),
      per100(row.inconclusive),
      m ? m.p50 : '—',
      m ? m.p90 : '—',
    ]);
  }
  results.m10 = {
    rollouts: n,
    seed: SEED,
    seconds,
    params: {
      preMinutes: PRE,
      soakMinutes: SOAK,
      checkEveryMinutes: 1,
      treatmentReqPerSec: [5, 20],
      controlReqPerSec: [50, 200],
      baseErrorRate: [0.001, 0.01],
      diurnalAmplitude: [0.2, 0.4],
      incident: { ...INCIDENT, startsAtMinute: [0, SOAK - INCIDENT.intervals] },
      threshold: `${THRESHOLD_X}× T's base rate`,
      baseline: { maxRatio: BASELINE.maxRatio, minDelta: `${BASELINE.minDeltaX}× T's base rate` },
      minTraffic: `${MIN_TRAFFIC_MINUTES} minutes of T's mean traffic`,
      maxInconclusive: MAX_INCONCLUSIVE,
      comparison: { alpha: ALPHA, power: 1 - BETA, threshold: TARGET, before: `${PRE}m` },
    },
    rows,
  };
  console.log(
    `\nM10 comparison check vs threshold gate on the same simulated soaks (issue 24; ${n} rollouts per scenario, seed ${SEED}, ${seconds.toFixed(1)} s): ` +
      `${SOAK} min soak checked every minute, ${PRE} min before; missed = passed the gate; rollback minutes count from the deploy (the ×1.3 rows: below the target, not judged)`,
  );
  console.log(t.toString());
}

if (require.main === module) void m10();
