// Baseline comparison against a real Prometheus 2.42: the previous version's series before
// the deploy, the new version's after it, and constant expressions over time() whose value
// at the deploy time differs from the value now. Every "before" here exists only in the
// past, so a baseline query not evaluated at the deploy time cannot produce these verdicts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Check } from '../../plan';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import { sloContext } from '../support/slo-context';
import { evaluatePrometheusCheck, type PrometheusCheck } from '../../activities/slo/prometheus';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';

/** A gauge per region and version, the way a service exports a ratio it computes itself. */
function exposition(version: string, values: Record<string, number>): string {
  const lines = ['# TYPE mrcd_error_ratio gauge'];
  for (const [region, v] of Object.entries(values)) {
    lines.push(`mrcd_error_ratio{service="checkout",region="${region}",version="${version}"} ${v}`);
  }
  return `${lines.join('\n')}\n`;
}

// Before the deploy the regions run 1.0.0; "fresh" is new and has no history at all.
const BEFORE = exposition('1.0.0', { regress: 0.01, steady: 0.01 });
const AFTER = exposition('2.0.0', { regress: 0.04, steady: 0.012, fresh: 0.02 });

let body = BEFORE;
let server: Server;
let prom: RunningPrometheus;
/** The deploy time: after the last 1.0.0-only scrape was stored, before 2.0.0 existed. */
let since: number;

const RATIO = 'max_over_time(mrcd_error_ratio{service="{{service}}",region="{{region}}",version="{{version}}"}[{{window}}])';

function ctx(over: Partial<SloContext> = {}): SloContext {
  return sloContext({ region: 'regress', prometheus: { url: prom.url }, since, baselineVersion: '1.0.0', ...over });
}

function check(query: string, comparator: Check['comparator'], threshold: number, baseline?: Check['baseline']): PrometheusCheck {
  return { name: 'slo', source: { type: 'prometheus', query }, comparator, threshold, ...(baseline ? { baseline } : {}) };
}

function evaluate(c: PrometheusCheck, over: Partial<SloContext> = {}): Promise<CheckResult> {
  return evaluatePrometheusCheck(c, ctx(over), { timeoutMs: 5000 });
}

/** Seconds for PromQL, half a second after the deploy: before it at `since`, after it now. */
const afterDeploy = (): string => ((since + 500) / 1000).toFixed(3);

describe('baseline comparison against a real Prometheus', () => {
  before(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${(server.address() as AddressInfo).port}`], scrapeIntervalSeconds: 1 });
    await waitForSeries(prom.url, 'count(mrcd_error_ratio{version="1.0.0"}) >= 2', 30_000);
    since = Date.now();
    body = AFTER;
    await waitForSeries(prom.url, 'count(mrcd_error_ratio{version="2.0.0"}) >= 3', 30_000);
  });

  after(async () => {
    await prom?.stop();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a regression against the previous version fails although it is under the absolute threshold', async () => {
    const plain = await evaluate(check(RATIO, '<', 0.05));
    assert.equal(plain.verdict, 'pass', `without a baseline 0.04 < 0.05 passes: ${plain.detail}`);

    const r = await evaluate(check(RATIO, '<', 0.05, { maxRatio: 1.5, minDelta: 0 }));
    assert.equal(r.verdict, 'fail', r.detail);
    assert.equal(r.value, 0.04);
    assert.equal(r.baseline, 0.01);
    assert.match(
      r.detail,
      /^regression against the pre-deploy baseline: 0\.04 now vs 0\.01 in the \d+s before the deploy \(version 1\.0\.0\) \(\+0\.03, 4× the baseline\); the most allowed is 0\.015 \(baseline\.maxRatio 1\.5, baseline\.minDelta 0\)\. The absolute threshold alone would pass/,
    );
    assert.ok(r.detail.includes('version="1.0.0"'), `the detail shows the baseline query: ${r.detail}`);
  });

  test('within the ratio passes, and reports both values', async () => {
    const r = await evaluate(check(RATIO, '<', 0.05, { maxRatio: 1.5, minDelta: 0 }), { region: 'steady' });
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(r.value, 0.012);
    assert.equal(r.baseline, 0.01);
    assert.match(r.detail, /it was 0\.01 \(\+0\.002, 1\.2× the baseline\), within the allowed 0\.015/);
  });

  test('minDelta absorbs a rise that is large only in proportion', async () => {
    const r = await evaluate(check(RATIO, '<', 0.05, { maxRatio: 1.5, minDelta: 0.05 }));
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(r.baseline, 0.01);
  });

  test('an absolute breach fails whatever the baseline says', async () => {
    const r = await evaluate(check(RATIO, '<', 0.03, { maxRatio: 10, minDelta: 1 }));
    assert.equal(r.verdict, 'fail', r.detail);
    assert.match(r.detail, /^breach: 0\.04 is not < 0\.03 over the last \d+s; in the \d+s before the deploy \(version 1\.0\.0\) it was 0\.01\./);
  });

  test('no baseline data (a region without history, or a version never scraped) is inconclusive', async () => {
    const fresh = await evaluate(check(RATIO, '<', 0.05, { maxRatio: 1.5, minDelta: 0 }), { region: 'fresh' });
    assert.equal(fresh.verdict, 'inconclusive', fresh.detail);
    assert.equal(fresh.value, 0.02, 'the value now was measured');
    assert.equal(fresh.baseline, undefined);
    assert.match(fresh.detail, /^no baseline in the \d+s before the deploy \(version 1\.0\.0\): no data: the query returned no series/);

    const unknown = await evaluate(check(RATIO, '<', 0.05, { maxRatio: 1.5, minDelta: 0 }), { region: 'steady', baselineVersion: '0.9.0' });
    assert.equal(unknown.verdict, 'inconclusive', unknown.detail);
    assert.match(unknown.detail, /^no baseline .*\(version 0\.9\.0\): no data/);
  });

  test('{{version}} without the previous version is inconclusive, not a comparison with itself', async () => {
    const r = await evaluate(check(RATIO, '<', 0.05, { maxRatio: 1.5, minDelta: 0 }), { region: 'steady', baselineVersion: undefined });
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.equal(r.value, 0.012);
    assert.match(r.detail, /the deployer did not report the previous version/);
  });

  test('a baseline query that fails at the deploy time is an error, classified like any query', async () => {
    // Two series with one label set, but only before afterDeploy(): label_replace then
    // refuses the duplicate (an `execution` error), while the query now is fine.
    const query = `label_replace(vector(0.01) or label_replace(vector(0.02) and on() (vector(time()) < ${afterDeploy()}), "a", "{{region}}", "", ""), "a", "", "", "")`;
    const r = await evaluate(check(query, '<', 0.05, { maxRatio: 1.5, minDelta: 0 }));
    assert.equal(r.verdict, 'error', r.detail);
    assert.equal(r.retryable, false);
    assert.match(
      r.detail,
      /^the baseline query failed at http:\/\/127\.0\.0\.1:\d+: the query cannot be executed \(execution, HTTP 422\): vector cannot contain metrics with the same labelset/,
    );
  });

  test('higher is better, without {{version}}: a drop beyond ratio and minDelta fails, within minDelta passes', async () => {
    // 0.99 before the deploy, 0.97 after it; no previous version needed.
    const query = `label_replace(vector(0.99 - 0.02 * (time() > bool ${afterDeploy()})), "region", "{{region}}", "", "")`;
    const over = { baselineVersion: undefined };
    const drop = await evaluate(check(query, '>', 0.9, { maxRatio: 1.01, minDelta: 0.01 }), over);
    assert.equal(drop.verdict, 'fail', drop.detail);
    assert.equal(drop.value, 0.97);
    assert.equal(drop.baseline, 0.99);
    assert.match(
      drop.detail,
      /^regression against the pre-deploy baseline: 0\.97 now vs 0\.99 in the \d+s before the deploy \(-0\.02, 0\.9798× the baseline\); the least allowed is 0\.98 /,
    );

    const tolerated = await evaluate(check(query, '>', 0.9, { maxRatio: 1.01, minDelta: 0.05 }), over);
    assert.equal(tolerated.verdict, 'pass', tolerated.detail);
    assert.equal(tolerated.baseline, 0.99);
  });
});
