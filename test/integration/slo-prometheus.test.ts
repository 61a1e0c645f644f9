// The Prometheus provider against a real Prometheus 2.42 scraping a metrics endpoint this
// file serves, so every verdict here comes from answers Prometheus really gives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Check } from '../../plan';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import { sloContext } from '../support/slo-context';
import { evaluatePrometheusCheck, type PrometheusCheck } from '../../activities/slo/prometheus';
import { burnRateQuery, errorRatioQuery, latencyQuantileQuery, requestCountQuery } from '../../plan/promql';
import { evaluateGate } from '../../activities/slo/gate';
import { freePort } from '../../dev/ports';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';

const WEIRD_SERVICE = 'we"ird\\svc';

interface Counter {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Added every tick; 0 keeps the counter flat (rate 0). */
  step: number;
}

function exposition(counters: Counter[]): string {
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const names = [...new Set(counters.map((c) => c.name))];
  const lines: string[] = [];
  for (const name of names) {
    const base = name.replace(/_bucket$/, '');
    lines.push(`# TYPE ${base} ${name.endsWith('_bucket') ? 'histogram' : name.endsWith('_total') ? 'counter' : 'gauge'}`);
    for (const c of counters.filter((x) => x.name === name)) {
      const labels = Object.entries(c.labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
      lines.push(`${name}{${labels}} ${c.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

interface MetricsServer {
  target: string;
  close(): Promise<void>;
}

async function serveMetrics(counters: Counter[]): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(exposition(counters));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tick = setInterval(() => {
    for (const c of counters) c.value += c.step;
  }, 100);
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(tick);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function requests(service: string, region: string, code: string, step: number, value = 0): Counter {
  return { name: 'http_requests_total', labels: { service, region, version: '2.0.0', code }, value, step };
}

function bucket(le: string, step: number): Counter {
  return {
    name: 'http_request_duration_seconds_bucket',
    labels: { service: 'checkout', region: 'eu-west-1', version: '2.0.0', le },
    value: 0,
    step,
  };
}

const counters: Counter[] = [
  // eu-west-1: healthy, 1 error in 51 requests
  requests('checkout', 'eu-west-1', '200', 50),
  requests('checkout', 'eu-west-1', '500', 1),
  // us-east-1: half the requests fail
  requests('checkout', 'us-east-1', '200', 5),
  requests('checkout', 'us-east-1', '500', 5),
  // ap-south-1: series exist but nothing moves, so the ratio is 0/0
  requests('checkout', 'ap-south-1', '200', 0, 100),
  requests('checkout', 'ap-south-1', '500', 0, 3),
  // eu-north-1: never had an error, so no 5xx series exists at all
  requests('checkout', 'eu-north-1', '200', 20),
  // a service name that breaks a naively built query
  requests(WEIRD_SERVICE, 'eu-west-1', '200', 9),
  requests(WEIRD_SERVICE, 'eu-west-1', '500', 1),
  // latency: 40 of 50 under 100 ms, the rest under 500 ms -> p99 ≈ 0.48 s
  bucket('0.1', 40),
  bucket('0.5', 50),
  bucket('+Inf', 50),
];

const doomed: Counter[] = [{ name: 'mrcd_doomed_ratio', labels: { service: 'checkout', region: 'eu-west-1', version: '2.0.0' }, value: 0.01, step: 0 }];

let prom: RunningPrometheus;
let metrics: MetricsServer;
let doomedMetrics: MetricsServer;
const since = Date.now();

function ctx(over: Partial<SloContext> = {}): SloContext {
  return sloContext({ prometheus: { url: prom.url }, since, ...over });
}

function check(query: string, comparator: Check['comparator'], threshold: number, minTraffic?: Check['minTraffic']): PrometheusCheck {
  return {
    name: 'slo',
    source: { type: 'prometheus', query },
    comparator,
    threshold,
    ...(minTraffic ? { minTraffic } : {}),
  };
}

const ERROR_RATIO = errorRatioQuery('http_requests_total');

function evaluate(c: PrometheusCheck, over: Partial<SloContext> = {}): Promise<CheckResult> {
  return evaluatePrometheusCheck(c, ctx(over), { timeoutMs: 5000 });
}

describe('Prometheus provider against a real Prometheus', () => {
  before(async () => {
    metrics = await serveMetrics(counters);
    doomedMetrics = await serveMetrics(doomed);
    prom = await startPrometheus({ scrapeTargets: [metrics.target, doomedMetrics.target], scrapeIntervalSeconds: 1 });
    // Rates need two scrapes; wait until every series we judge has them.
    await waitForSeries(prom.url, 'sum(rate(http_requests_total{region="eu-west-1",code="500"}[1m])) > 0', 30_000);
    await waitForSeries(prom.url, 'count(rate(http_requests_total[1m])) >= 9', 30_000);
    await waitForSeries(prom.url, 'mrcd_doomed_ratio', 30_000);
  });

  after(async () => {
    await prom?.stop();
    await metrics?.close();
    await doomedMetrics?.close();
  });

  test('a healthy error ratio passes with its measured value', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05));
    assert.equal(r.verdict, 'pass', r.detail);
    assert.ok(r.value !== undefined && r.value > 0.005 && r.value < 0.04, `ratio ≈ 1/51, got ${r.value}`);
    assert.equal(r.retryable, undefined);
  });

  test('a breaching error ratio fails and names the query', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05), { region: 'us-east-1' });
    assert.equal(r.verdict, 'fail', r.detail);
    assert.ok(r.value !== undefined && r.value > 0.3 && r.value < 0.7, `ratio ≈ 0.5, got ${r.value}`);
    assert.match(r.detail, /^breach: /);
    assert.ok(r.detail.includes('region="us-east-1"'), r.detail);
  });

  test('zero traffic gives NaN, which is inconclusive, never a pass', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05), { region: 'ap-south-1' });
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /NaN/);
    assert.equal(r.value, undefined);
  });

  test('a missing series is "no data", not zero', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05), { region: 'nowhere-1' });
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^no data: the query returned no series/);
    assert.ok(r.detail.includes('region="nowhere-1"'), r.detail);
  });

  test('a service that never had a 5xx series has an error ratio of 0', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05), { region: 'eu-north-1' });
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(r.value, 0);
  });

  test('invalid PromQL is a bad_data error that retrying cannot fix', async () => {
    const r = await evaluate(check('sum(rate(http_requests_total{service="{{service}}"}[{{window}}])', '<', 1));
    assert.equal(r.verdict, 'error', r.detail);
    assert.equal(r.retryable, false);
    assert.match(r.detail, /bad_data/);
  });

  test('a query that fails while running is an execution error, not retryable', async () => {
    // Two series per `service` on each side: one-to-one matching cannot pair them.
    const r = await evaluate(check('http_requests_total{region="{{region}}"} / on(service) http_requests_total{region="{{region}}"}', '<', 1));
    assert.equal(r.verdict, 'error', r.detail);
    assert.equal(r.retryable, false);
    assert.match(r.detail, /execution/);
  });

  test('Prometheus not listening is a retryable error', async () => {
    const closed = await freePort();
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05), { prometheus: { url: `http://127.0.0.1:${closed}` } });
    assert.equal(r.verdict, 'error', r.detail);
    assert.equal(r.retryable, true);
    assert.match(r.detail, /connection refused/);
  });

  test('too little traffic makes an in-threshold value inconclusive', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05, { query: requestCountQuery('http_requests_total'), min: 1_000_000_000 }));
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^too little traffic: [\d.]+ < 1000000000/);
    assert.ok(r.traffic !== undefined && r.traffic > 0, `traffic was counted: ${r.traffic}`);
  });

  test('enough traffic lets it pass and reports the count', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.05, { query: requestCountQuery('http_requests_total'), min: 10 }));
    assert.equal(r.verdict, 'pass', r.detail);
    assert.ok(r.traffic !== undefined && r.traffic >= 10, `traffic ${r.traffic}`);
  });

  test('a label value with a quote and a backslash selects exactly its own series', async () => {
    const r = await evaluate(check(ERROR_RATIO, '<', 0.5), { service: WEIRD_SERVICE });
    assert.equal(r.verdict, 'pass', r.detail);
    // 1 error in 10 requests: the escaped matcher found this service's series, not another's.
    assert.ok(r.value !== undefined && r.value > 0.05 && r.value < 0.15, `ratio ≈ 0.1, got ${r.value}`);
  });

  test('latency quantile and burn rate templates work on real data', async () => {
    const p99 = await evaluate(check(latencyQuantileQuery('http_request_duration_seconds', 0.99), '<', 0.2));
    assert.equal(p99.verdict, 'fail', p99.detail);
    assert.ok(p99.value !== undefined && p99.value > 0.4 && p99.value <= 0.5, `p99 ≈ 0.48, got ${p99.value}`);

    const burn = await evaluate(check(burnRateQuery('http_requests_total', 0.99), '<', 14.4), { region: 'us-east-1' });
    assert.equal(burn.verdict, 'fail', burn.detail);
    assert.ok(burn.value !== undefined && burn.value > 30 && burn.value < 70, `burn ≈ 50, got ${burn.value}`);
  });

  test('a sample far behind the worker clock is stale, hence inconclusive', async () => {
    const r = await evaluatePrometheusCheck(check(ERROR_RATIO, '<', 0.05), ctx(), {
      timeoutMs: 5000,
      now: () => Date.now() + 5 * 60_000,
    });
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^stale data: the sample is 30\ds old \(limit 60s\)/);
  });

  test('a gate with one breaching check fails as a whole', async () => {
    const g = await evaluateGate(
      ctx({
        region: 'us-east-1',
        gate: {
          maxInconclusive: 3,
          checks: [
            { ...check(ERROR_RATIO, '<', 0.9), name: 'loose' },
            { ...check(ERROR_RATIO, '<', 0.05), name: 'strict' },
          ],
        },
      }),
      { timeoutMs: 5000 },
    );
    assert.equal(g.verdict, 'fail');
    assert.deepEqual(
      g.checks.map((c) => [c.name, c.verdict]),
      [
        ['loose', 'pass'],
        ['strict', 'fail'],
      ],
    );
  });

  // Last: it takes a scrape target down for good.
  test('when the target dies, its series go stale and the check stops passing', async () => {
    const gauge = check('mrcd_doomed_ratio{service="{{service}}",region="{{region}}",version="{{version}}"}', '<', 0.05);
    const alive = await evaluate(gauge);
    assert.equal(alive.verdict, 'pass', alive.detail);

    await doomedMetrics.close();
    const deadline = Date.now() + 15_000;
    let r = alive;
    while (r.verdict === 'pass' && Date.now() < deadline) {
      await delay(250);
      r = await evaluate(gauge);
    }
    assert.equal(r.verdict, 'inconclusive', r.detail);
    assert.match(r.detail, /^no data/);
  });
});
