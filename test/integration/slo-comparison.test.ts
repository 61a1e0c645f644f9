// The comparison provider against a real Prometheus 2.42 scraping the simulator's random
// traffic: a shared incident that a threshold gate calls a breach and the comparison does
// not; a version bad in one region only, failed within the soak; a control deployed
// mid-soak, a control whose metrics vanish, and NaN counts, none of them a pass; a shadow
// comparison recorded beside a gate it does not decide. Each scenario is its own service, so
// each has its own deploy time and its own window before it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import type { Gate } from '../../plan';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { evaluateComparisonCheck, type ComparisonCheck } from '../../activities/slo/comparison';
import { evaluatePrometheusCheck, type PrometheusCheck } from '../../activities/slo/prometheus';
import { evaluateGate } from '../../activities/slo/gate';
import { sloContext } from '../support/slo-context';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';

const T = 'eu-west-1';
const C = 'us-east-1';
const C2 = 'ap-southeast-2';
const SERVICES = ['incident', 'bad', 'moved', 'dark', 'nan', 'shadow', 'slow', 'slowdown'];
const COUNT = (extra: string) => `sum(increase(mrcd_sim_requests_total{service="{{service}}",region="{{region}}"${extra}}[{{window}}]))`;
const BEFORE_MS = 15_000;

let sim: Simulator;
let prom: RunningPrometheus;

function comparison(over: Partial<ComparisonCheck['source']> = {}, shadow = false): ComparisonCheck {
  return {
    name: 'vs-control',
    source: {
      type: 'comparison',
      errors: COUNT(',code="500"'),
      requests: COUNT(''),
      control: [C, C2],
      before: '15s',
      step: '2s',
      alpha: 0.05,
      power: 0.8,
      versionLabel: 'version',
      url: prom.url,
      ...over,
    },
    comparator: '<',
    threshold: 1.5,
    ...(shadow ? { shadow: true } : {}),
  };
}

function ctx(service: string, since: number, over: Partial<SloContext> = {}): SloContext {
  return sloContext({ service, region: T, version: '2.0.0', since, prometheus: { url: prom.url }, ...over });
}

const evaluate = (c: ComparisonCheck, x: SloContext) => evaluateComparisonCheck(c, x, { timeoutMs: 5000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Evaluates every second, like a watch, until a verdict that is not `pending` or the time runs out; every result on the way. */
async function watch(c: ComparisonCheck, x: SloContext, forMs: number): Promise<CheckResult[]> {
  const seen: CheckResult[] = [];
  const end = Date.now() + forMs;
  for (;;) {
    const r = await evaluate(c, x);
    seen.push(r);
    if (!r.pending || Date.now() > end) return seen;
    await sleep(1000);
  }
}

/** Deploys `version` to T by hand and returns the deploy time, a scrape after the switch. */
function deploy(service: string, version = '2.0.0'): number {
  sim.setVersion(service, T, version);
  return Date.now();
}

describe('comparison with a control region, against a real Prometheus', () => {
  before(async () => {
    sim = await startSimulator({ regions: [T, C, C2], tickMs: 100, initialVersions: Object.fromEntries(SERVICES.map((s) => [s, '1.0.0'])) });
    // The soaking region is the smallest, with another daily curve than its controls'. Error
    // rates of a few percent give the 15 s window before each deploy errors enough to know the
    // regions' relationship, so a short test can rule a regression out.
    sim.setTraffic({
      region: T,
      requestsPerTick: 40,
      errorRate: 0.03,
      diurnal: { amplitude: 0.5, periodMs: 20_000 },
      latency: { medianMs: 50, sigma: 0.4 },
      seed: 11,
    });
    sim.setTraffic({
      region: C,
      requestsPerTick: 120,
      errorRate: 0.02,
      diurnal: { amplitude: 0.3, periodMs: 30_000, phaseMs: 7_000 },
      latency: { medianMs: 80, sigma: 0.4 },
      seed: 12,
    });
    sim.setTraffic({ region: C2, requestsPerTick: 200, errorRate: 0.015, latency: { medianMs: 60, sigma: 0.4 }, seed: 13 });
    prom = await startPrometheus({ scrapeTargets: [new URL(sim.url).host], scrapeIntervalSeconds: 1 });
    await waitForSeries(prom.url, 'mrcd_sim_requests_total{service="bad"}');
    // The window before every deploy: both regions on 1.0.0 for BEFORE_MS.
    await sleep(BEFORE_MS + 2000);
  });

  after(async () => {
    await prom?.stop();
    await sim?.close();
  });

  test('a shared incident triples errors everywhere: the threshold gate breaches, the comparison does not fail', async () => {
    const since = deploy('incident');
    sim.startIncident({ errorFactor: 3 });
    try {
      const seen = await watch(comparison(), ctx('incident', since), 60_000);
      const threshold: PrometheusCheck = {
        name: 'error-ratio',
        source: { type: 'prometheus', query: `(${COUNT(',code="500"')}) / (${COUNT('')})`, url: prom.url },
        comparator: '<',
        threshold: 0.05,
      };
      // Over the same soak so far (a few scrapes at least), the region's own ratio is over 5 %.
      await sleep(Math.max(0, since + 6000 - Date.now()));
      const raw = await evaluatePrometheusCheck(threshold, ctx('incident', since), { timeoutMs: 5000 });
      assert.equal(
        raw.verdict,
        'fail',
        `the threshold gate sees the incident as a breach: ${raw.detail}; comparison: ${seen.map((r) => r.detail).join(' | ')}`,
      );
      assert.ok(
        seen.every((r) => r.verdict !== 'fail'),
        seen.map((r) => r.detail).join('\n'),
      );
      const last = seen.at(-1)!;
      assert.equal(last.verdict, 'pass', last.detail);
      assert.equal(last.comparison?.control, C);
      assert.match(last.detail, /^eu-west-1 errors [\d.]+× its control us-east-1 \(95 % CI [\d.]+–[\d.]+×\), relative to the 15s before the deploy: pass/);
    } finally {
      sim.endIncident();
    }
  });

  test('a version three times worse in the soaking region only fails within the soak, with the evidence in words', async () => {
    sim.markBad('2.0.0', 'bad', { errorFactor: 3, region: T });
    const since = deploy('bad');
    const seen = await watch(comparison(), ctx('bad', since), 60_000);
    const last = seen.at(-1)!;
    assert.equal(last.verdict, 'fail', seen.map((r) => r.detail).join('\n'));
    assert.ok(last.comparison!.ratio > 1.5, `ratio ${last.comparison!.ratio}`);
    assert.ok(last.comparison!.eRegression >= 20);
    assert.match(last.detail, /: fail\. The evidence of a regression/);
    assert.ok(last.comparison!.region.requests > 0 && last.comparison!.controlCounts.requests > last.comparison!.region.requests);
    // Sequential: it decided long before a 30-minute soak, after a few intervals.
    assert.ok(last.comparison!.intervals < 25, `decided after ${last.comparison!.intervals} intervals`);
  });

  test('a shadow comparison fails beside a threshold check that passes: the gate passes and records the shadow verdict', async () => {
    sim.markBad('2.0.0', 'shadow', { errorFactor: 4, region: T });
    const since = deploy('shadow');
    await watch(comparison(), ctx('shadow', since), 25_000);
    const gate: Gate = {
      maxInconclusive: 3,
      checks: [
        comparison({}, true),
        { name: 'loose', source: { type: 'prometheus', query: `(${COUNT(',code="500"')}) / (${COUNT('')})`, url: prom.url }, comparator: '<', threshold: 0.5 },
      ],
    };
    const r = await evaluateGate({ ...ctx('shadow', since), gate }, { timeoutMs: 5000 });
    assert.equal(r.verdict, 'pass', JSON.stringify(r.checks.map((c) => c.detail)));
    assert.equal(r.checks[0]!.shadow, true);
    assert.equal(r.checks[0]!.verdict, 'fail', r.checks[0]!.detail);
  });

  test('a control deployed mid-soak: inconclusive, not pending and never a pass', async () => {
    const since = deploy('moved');
    await sleep(3000);
    sim.setVersion('moved', C, '2.0.0');
    await sleep(3000);
    const r = await evaluate(comparison(), ctx('moved', since));
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.notEqual(r.pending, true);
    assert.match(r.detail, /the control us-east-1 changed version during the soak \(1\.0\.0 → 2\.0\.0\)/);
  });

  test('a control whose metrics vanish, and a region without a control: never a pass', async () => {
    const since = deploy('dark');
    await sleep(2000);
    sim.setFaults({ region: C, metricsOutage: true });
    try {
      await sleep(3000);
      const r = await evaluate(comparison({ control: [C] }), ctx('dark', since));
      assert.equal(r.verdict, 'inconclusive', r.detail);
      assert.match(r.detail, /stale data: the series of us-east-1 have no current sample/);
    } finally {
      sim.clearFaults(C);
    }
    const none = await evaluate(comparison({ control: [] }), ctx('dark', since));
    assert.equal(none.verdict, 'inconclusive');
    assert.match(none.detail, /no control region still on the old version .*the plan gives no control region/);
    const onNew = await evaluate(comparison({ control: [T] }), ctx('dark', Date.now() - 1000, { region: C }));
    assert.equal(onNew.verdict, 'inconclusive', onNew.detail);
  });

  test('NaN counts and a Prometheus that does not answer: inconclusive and error, never a pass', async () => {
    const since = deploy('nan');
    await sleep(2000);
    const nan = await evaluate(comparison({ errors: `${COUNT(',code="500"')} / 0 * 0` }), ctx('nan', since));
    assert.equal(nan.verdict, 'inconclusive', nan.detail);
    assert.match(nan.detail, /NaN/);
    const down = await evaluate(comparison({ url: 'http://127.0.0.1:1' }), ctx('nan', since));
    assert.equal(down.verdict, 'error', down.detail);
  });

  // Last: by now every region has served 1.0.0 for more than the 30 s window these look back on.
  const LATENCY =
    'histogram_quantile(0.9, sum by (le) (rate(mrcd_sim_request_duration_seconds_bucket{service="{{service}}",region="{{region}}"}[{{window}}])))';

  test('a version twice as slow in the soaking region: the latency half fails the check though its errors are as before', async () => {
    sim.markBad('2.0.0', 'slow', { errorFactor: 1, latencyFactor: 2, region: T });
    const since = deploy('slow');
    const seen = await watch(comparison({ before: '30s', latency: { query: LATENCY, threshold: 1.2 } }), ctx('slow', since), 60_000);
    const last = seen.at(-1)!;
    assert.equal(last.verdict, 'fail', seen.map((r) => r.detail).join('\n'));
    const l = last.comparison!.latency!;
    assert.equal(l.verdict, 'fail');
    assert.ok(l.ratio > 1.5 && l.ratio < 3, `latency ratio ${l.ratio}`);
    assert.match(
      last.detail,
      /eu-west-1 latency [\d.]+× its control us-east-1 \(95 % CI [\d.]+–[\d.]+×\) relative to before the deploy, over \d+ and \d+ intervals: fail/,
    );
  });

  test('a slowdown of every region is no regression: the latency half passes', async () => {
    const since = deploy('slowdown');
    sim.startIncident({ latencyFactor: 2 });
    try {
      // A 1.5× slowdown is what this one looks for: ruled out sooner than 1.2× on a short soak.
      const seen = await watch(comparison({ before: '30s', latency: { query: LATENCY, threshold: 1.5 } }), ctx('slowdown', since), 60_000);
      const last = seen.at(-1)!;
      assert.ok(
        seen.every((r) => r.verdict !== 'fail'),
        seen.map((r) => r.detail).join('\n'),
      );
      assert.equal(last.comparison?.latency?.verdict, 'pass', last.detail);
      assert.equal(last.verdict, 'pass', last.detail);
    } finally {
      sim.endIncident();
    }
  });
});
