// The baseline rule of SLO checks (value now vs the region's own value before the deploy),
// and what the Prometheus provider sends and decides for answers a real Prometheus will not
// give on demand (warnings, +Inf). The verdicts on real answers are in
// test/integration/slo-baseline.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Baseline } from '../../plan';
import type { SloContext } from '../../domain/activity-contract';
import { sloContext } from '../support/slo-context';
import { baselineLimit, regressedFromBaseline } from '../../activities/slo/verdict';
import { evaluatePrometheusCheck, type PrometheusCheck } from '../../activities/slo/prometheus';
import { templateUses } from '../../plan/promql';

const rule = (maxRatio: number, minDelta = 0): Baseline => ({ maxRatio, minDelta });

describe('the baseline rule', () => {
  test('lower is better (<, <=): more than maxRatio × the baseline is a regression, exactly that is not', () => {
    for (const cmp of ['<', '<='] as const) {
      assert.equal(regressedFromBaseline(3, 2, cmp, rule(1.5)), false, `${cmp}: 3 is exactly 1.5 × 2`);
      assert.equal(regressedFromBaseline(3.001, 2, cmp, rule(1.5)), true, `${cmp}: just above 1.5 × 2`);
      assert.equal(regressedFromBaseline(1, 2, cmp, rule(1.5)), false, `${cmp}: better than before`);
      assert.equal(baselineLimit(2, cmp, rule(1.5)), 3);
    }
  });

  test('higher is better (>, >=): less than the baseline / maxRatio is a regression, exactly that is not', () => {
    for (const cmp of ['>', '>='] as const) {
      assert.equal(regressedFromBaseline(2, 3, cmp, rule(1.5)), false, `${cmp}: 2 is exactly 3 / 1.5`);
      assert.equal(regressedFromBaseline(1.999, 3, cmp, rule(1.5)), true, `${cmp}: just below 3 / 1.5`);
      assert.equal(regressedFromBaseline(4, 3, cmp, rule(1.5)), false, `${cmp}: better than before`);
      assert.equal(baselineLimit(3, cmp, rule(1.5)), 2);
    }
  });

  test('minDelta: a rise beyond the ratio but within minDelta is no regression (both must be exceeded)', () => {
    // An error-free baseline: with minDelta 0 any error is a regression, with 0.25 it takes more.
    assert.equal(regressedFromBaseline(0.125, 0, '<', rule(1.5)), true);
    assert.equal(regressedFromBaseline(0.25, 0, '<', rule(1.5, 0.25)), false, 'exactly minDelta above');
    assert.equal(regressedFromBaseline(0.375, 0, '<', rule(1.5, 0.25)), true);
    // Ratio dominates for a large baseline: +2 is beyond minDelta 1 but within 1.5 × 10.
    assert.equal(regressedFromBaseline(12, 10, '<', rule(1.5, 1)), false);
    assert.equal(regressedFromBaseline(15.5, 10, '<', rule(1.5, 1)), true);
    assert.equal(baselineLimit(10, '<', rule(1.5, 1)), 15);
    // Higher is better: availability 0.75 before; minDelta 0.25 allows down to 0.5.
    assert.equal(regressedFromBaseline(0.5, 0.75, '>', rule(1, 0.25)), false);
    assert.equal(regressedFromBaseline(0.49, 0.75, '>', rule(1, 0.25)), true);
    assert.equal(baselineLimit(0.75, '>=', rule(1, 0.25)), 0.5);
  });

  test('maxRatio 1 and minDelta 0: anything worse than the baseline is a regression', () => {
    assert.equal(regressedFromBaseline(2, 2, '<', rule(1)), false);
    assert.equal(regressedFromBaseline(2.0001, 2, '<', rule(1)), true);
    assert.equal(regressedFromBaseline(1.9999, 2, '>', rule(1)), true);
  });

  test('a negative baseline: the ratio would tighten, so only minDelta loosens the limit', () => {
    assert.equal(baselineLimit(-1, '<', rule(2, 0.5)), -0.5);
    assert.equal(regressedFromBaseline(-0.5, -1, '<', rule(2, 0.5)), false);
    assert.equal(regressedFromBaseline(-0.25, -1, '<', rule(2, 0.5)), true);
    assert.equal(baselineLimit(-1, '>', rule(2, 0.5)), -1.5);
  });

  test('NaN and infinities are refused, never judged', () => {
    assert.throws(() => regressedFromBaseline(NaN, 1, '<', rule(1.5)), RangeError);
    assert.throws(() => regressedFromBaseline(1, NaN, '<', rule(1.5)), RangeError);
    assert.throws(() => regressedFromBaseline(1, Infinity, '<', rule(1.5)), RangeError);
    assert.throws(() => regressedFromBaseline(-Infinity, 1, '>', rule(1.5)), RangeError);
  });

  test('templateUses finds {{version}} with or without spaces, and only that name', () => {
    assert.equal(templateUses('x{version="{{version}}"}', 'version'), true);
    assert.equal(templateUses('x{version="{{ version }}"}', 'version'), true);
    assert.equal(templateUses('x{region="{{region}}"}[{{window}}]', 'version'), false);
    assert.equal(templateUses('x{v="{{versions}}"}', 'version'), false);
  });
});

// ---------------------------------------------------------------------------------------
// The provider against a loopback stub: answers keyed by whether `time` is present.

type Answer = { status: number; body: unknown };
let server: Server;
let base: string;
const seen: URL[] = [];
let nowAnswer: Answer;
let beforeAnswer: Answer;

const NOW = 1_800_000_000_000;
const SINCE = NOW - 44_001; // -> {{window}} = "45s"

function scalar(value: string, tsMs: number): Answer {
  return { status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [tsMs / 1000, value] } } };
}

function ctx(over: Partial<SloContext> = {}): SloContext {
  return sloContext({ prometheus: { url: base }, since: SINCE, baselineVersion: '1.9.0', ...over });
}

const QUERY = 'ratio{region="{{region}}",version="{{version}}"}[{{window}}]';

function check(over: Partial<PrometheusCheck> = {}): PrometheusCheck {
  return {
    name: 'error-ratio',
    source: { type: 'prometheus', query: QUERY },
    comparator: '<',
    threshold: 0.05,
    baseline: { maxRatio: 1.5, minDelta: 0 },
    ...over,
  };
}

const opts = { now: () => NOW, timeoutMs: 2000 };

describe('the Prometheus provider with a baseline (stub)', () => {
  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://stub');
      // The current-series query (freshnessQuery) is left out: these tests count the check's own queries.
      if (!url.searchParams.get('query')?.startsWith('group(')) seen.push(url);
      const a = url.searchParams.has('time') ? beforeAnswer : nowAnswer;
      res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('the baseline query is the same template at the deploy time, with the previous version and the same window', async () => {
    nowAnswer = scalar('0.012', NOW);
    beforeAnswer = scalar('0.01', SINCE);
    seen.length = 0;
    const r = await evaluatePrometheusCheck(check(), ctx(), opts);
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(r.baseline, 0.01);
    assert.equal(seen.length, 2);
    const current = seen.find((u) => !u.searchParams.has('time'))!;
    const baseline = seen.find((u) => u.searchParams.has('time'))!;
    assert.equal(current.searchParams.get('query'), 'ratio{region="eu-west-1",version="2.0.0"}[45s]');
    assert.equal(baseline.searchParams.get('query'), 'ratio{region="eu-west-1",version="1.9.0"}[45s]');
    assert.equal(Number(baseline.searchParams.get('time')), SINCE / 1000);
    assert.match(
      r.detail,
      /^0\.012 < 0\.05 over the last 45s; in the 45s before the deploy \(version 1\.9\.0\) it was 0\.01 \(\+0\.002, 1\.2× the baseline\), within the allowed 0\.015/,
    );
  });

  test('no baseline query without a baseline: the check behaves as before', async () => {
    nowAnswer = scalar('0.012', NOW);
    seen.length = 0;
    const { baseline: _, ...plain } = check();
    const r = await evaluatePrometheusCheck(plain, ctx(), opts);
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(seen.length, 1);
    assert.equal(r.baseline, undefined);
  });

  test('warnings on the baseline query make it inconclusive: a partial baseline proves nothing', async () => {
    nowAnswer = scalar('0.012', NOW);
    beforeAnswer = { status: 200, body: { ...(scalar('0.01', SINCE).body as object), warnings: ['remote read partial'] } };
    const r = await evaluatePrometheusCheck(check(), ctx(), opts);
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^no baseline in the 45s before the deploy \(version 1\.9\.0\): Prometheus returned warnings.*remote read partial/);
  });

  test('an infinite baseline is no measurement, hence inconclusive', async () => {
    nowAnswer = scalar('0.012', NOW);
    beforeAnswer = scalar('+Inf', SINCE);
    const r = await evaluatePrometheusCheck(check(), ctx(), opts);
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^no baseline .*: the query returned \+Inf/);
    assert.equal(r.baseline, undefined);
  });

  test('a baseline sample far from the deploy time is stale, hence inconclusive', async () => {
    nowAnswer = scalar('0.012', NOW);
    beforeAnswer = scalar('0.01', SINCE - 10 * 60_000);
    const r = await evaluatePrometheusCheck(check(), ctx(), opts);
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^no baseline .*: stale data/);
  });

  test('an absolute breach stays a fail when the baseline cannot be measured, and shows the baseline when it can', async () => {
    nowAnswer = scalar('0.2', NOW);
    beforeAnswer = { status: 503, body: 'down' };
    const r = await evaluatePrometheusCheck(check(), ctx(), opts);
    assert.equal(r.verdict, 'fail', r.detail);
    assert.match(r.detail, /^breach: 0\.2 is not < 0\.05/);

    beforeAnswer = scalar('0.5', SINCE);
    const better = await evaluatePrometheusCheck(check(), ctx(), opts);
    assert.equal(better.verdict, 'fail', 'better than before, still over the threshold');
    assert.equal(better.baseline, 0.5);
    assert.match(better.detail, /; in the 45s before the deploy \(version 1\.9\.0\) it was 0\.5\./);
  });

  test('too little traffic comes before the baseline comparison: a relative regression on a few requests is noise', async () => {
    nowAnswer = scalar('0.04', NOW);
    beforeAnswer = scalar('0.01', SINCE);
    const r = await evaluatePrometheusCheck(check({ minTraffic: { query: 'count_total[{{window}}]', min: 1_000_000 } }), ctx(), opts);
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^too little traffic/);
    assert.equal(r.baseline, 0.01, 'the measured baseline is still reported');
  });

  test('{{version}} without a previous version: inconclusive, and the baseline query is not sent', async () => {
    nowAnswer = scalar('0.012', NOW);
    seen.length = 0;
    const r = await evaluatePrometheusCheck(check(), ctx({ baselineVersion: undefined }), opts);
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /did not report the previous version/);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.searchParams.has('time'), false);
  });
});
