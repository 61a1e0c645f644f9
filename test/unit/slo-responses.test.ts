// Answers a real Prometheus will not give on demand (warnings, 5xx, garbage, slow bodies,
// +Inf, several series), and the HTTP JSON provider, against a loopback stub.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import type { Check } from '../../plan';
import type { SloContext } from '../../domain/activity-contract';
import { sloContext } from '../support/slo-context';
import { evaluatePrometheusCheck, type PrometheusCheck } from '../../activities/slo/prometheus';
import { burnRateQuery, errorRatioQuery, latencyQuantileQuery, promDuration, renderPromQL, requestCountQuery } from '../../plan/promql';
import { parsePromValue } from '../../activities/slo/prometheus-api';
import { TemplateError, evaluateHttpCheck, parsePath, type HttpJsonCheck } from '../../activities/slo/http';
import { evaluateGate } from '../../activities/slo/gate';
import { aggregate, compare } from '../../activities/slo/verdict';
import { freePort } from '../../dev/ports';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server;
let base: string;
let handler: Handler;
const seen: { url: URL; headers: IncomingMessage['headers'] }[] = [];

const NOW = 1_800_000_000_000;
const SINCE = NOW - 44_001; // -> {{window}} = "45s"
const nowSec = NOW / 1000;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function vector(...samples: { metric?: Record<string, string>; value: string; ts?: number }[]) {
  return {
    status: 'success',
    data: { resultType: 'vector', result: samples.map((s) => ({ metric: s.metric ?? {}, value: [s.ts ?? nowSec, s.value] })) },
  };
}

/** Every Prometheus request answers `body` with `status`. */
function answer(status: number, body: unknown): void {
  handler = (_req, res) => (typeof body === 'string' ? res.writeHead(status).end(body) : json(res, status, body));
}

function ctx(over: Partial<SloContext> = {}): SloContext {
  return sloContext({ prometheus: { url: base }, since: SINCE, ...over });
}

function prom(comparator: Check['comparator'] = '<', threshold = 0.05, extra: Partial<PrometheusCheck> = {}): PrometheusCheck {
  return {
    name: 'error-ratio',
    source: { type: 'prometheus', query: 'ratio{service="{{service}}",region="{{region}}"}[{{window}}]' },
    comparator,
    threshold,
    ...extra,
  };
}

const opts = { now: () => NOW, timeoutMs: 2000 };

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    // The current-series query (activities/slo/prometheus.ts, freshnessQuery) is left out: these tests count the check's own queries.
    if (!url.searchParams.get('query')?.startsWith('group(')) seen.push({ url, headers: req.headers });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  handler = (_req, res) => res.writeHead(599).end('no handler set');
});

describe('renderPromQL', () => {
  const vars = { service: 'svc', region: 'eu-west-1', version: '1.0', window: '45s' };

  test('fills every variable and escapes label values for a double-quoted string', () => {
    const out = renderPromQL('x{s="{{service}}",r="{{ region }}",v="{{version}}"}[{{window}}]', {
      ...vars,
      service: 'a"b\\c\nd',
    });
    assert.equal(out, 'x{s="a\\"b\\\\c\\nd",r="eu-west-1",v="1.0"}[45s]');
  });

  test('a value that looks like a template variable is not expanded again', () => {
    assert.equal(renderPromQL('{{service}}/{{region}}', { ...vars, service: '{{region}}' }), '{{region}}/eu-west-1');
  });

  test('an unknown variable is refused instead of reaching Prometheus', () => {
    assert.throws(
      () => renderPromQL('x{a="{{servce}}"}', vars),
      (e: unknown) => e instanceof TemplateError && /servce/.test(e.message),
    );
  });

  test('window: whole seconds rounded up, never below 1s', () => {
    assert.equal(promDuration(44_001), '45s');
    assert.equal(promDuration(45_000), '45s');
    assert.equal(promDuration(1), '1s');
    assert.equal(promDuration(-5000), '1s');
  });

  test('Prometheus float text, including the special values', () => {
    assert.ok(Number.isNaN(parsePromValue('NaN')));
    assert.equal(parsePromValue('+Inf'), Infinity);
    assert.equal(parsePromValue('-Inf'), -Infinity);
    assert.equal(parsePromValue('1.5e-3'), 0.0015);
    assert.equal(parsePromValue(''), undefined);
    assert.equal(parsePromValue('0x10'), undefined);
    assert.equal(parsePromValue(3), undefined);
  });

  test('ready-made templates', () => {
    assert.equal(
      errorRatioQuery('http_requests_total'),
      '(sum(rate(http_requests_total{service="{{service}}",region="{{region}}",version="{{version}}",code=~"5.."}[{{window}}])) or vector(0))' +
        ' / sum(rate(http_requests_total{service="{{service}}",region="{{region}}",version="{{version}}"}[{{window}}]))',
    );
    assert.equal(
      latencyQuantileQuery('rpc_seconds_bucket', 0.95, { labels: { service: 'app' } }),
      'histogram_quantile(0.95, sum by (le) (rate(rpc_seconds_bucket{app="{{service}}",region="{{region}}",version="{{version}}"}[{{window}}])))',
    );
    assert.match(burnRateQuery('reqs', 0.999), /^\(\(sum\(rate\(reqs\{.*\) \/ \(1 - 0\.999\)$/);
    assert.equal(requestCountQuery('reqs'), 'sum(increase(reqs{service="{{service}}",region="{{region}}",version="{{version}}"}[{{window}}]))');
    assert.throws(() => errorRatioQuery('bad-name'), TypeError);
    assert.throws(() => burnRateQuery('reqs', 1), RangeError);
  });
});

describe('Prometheus provider: request', () => {
  test('sends the rendered query with the window since the deploy', async () => {
    answer(200, vector({ value: '0.01' }));
    const r = await evaluatePrometheusCheck(prom(), ctx({ region: 'eu "west"' }), opts);
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url.pathname, '/api/v1/query');
    assert.equal(seen[0]!.url.searchParams.get('query'), 'ratio{service="checkout",region="eu \\"west\\""}[45s]');
    assert.equal(seen[0]!.headers.authorization, undefined);
  });

  test("a later window start (a promoted region's look-back) shortens {{window}}", async () => {
    answer(200, vector({ value: '0.01' }));
    const r = await evaluatePrometheusCheck(prom(), ctx({ since: NOW - 2 * 86_400_000, windowStart: NOW - 29_500 }), opts);
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(seen.at(-1)!.url.searchParams.get('query'), 'ratio{service="checkout",region="eu-west-1"}[30s]');
  });

  test('sends the bearer token from tokenEnv and never puts it in the result', async () => {
    process.env.MRCD_TEST_PROM_TOKEN = 'sekrit-token-123';
    try {
      answer(200, vector({ value: '0.01' }));
      const r = await evaluatePrometheusCheck(prom(), ctx({ prometheus: { url: base, tokenEnv: 'MRCD_TEST_PROM_TOKEN' } }), opts);
      assert.equal(r.verdict, 'pass', r.detail);
      assert.equal(seen[0]!.headers.authorization, 'Bearer sekrit-token-123');
      assert.ok(!JSON.stringify(r).includes('sekrit'));

      answer(401, { status: 'error', errorType: 'unauthorized', error: 'bad token' });
      const denied = await evaluatePrometheusCheck(prom(), ctx({ prometheus: { url: base, tokenEnv: 'MRCD_TEST_PROM_TOKEN' } }), opts);
      assert.equal(denied.verdict, 'error');
      assert.equal(denied.retryable, false);
      assert.ok(!JSON.stringify(denied).includes('sekrit'));
    } finally {
      delete process.env.MRCD_TEST_PROM_TOKEN;
    }
  });

  test('the plan token is not sent to a check URL on another origin', async () => {
    process.env.MRCD_TEST_PROM_TOKEN = 'sekrit-token-123';
    try {
      answer(200, vector({ value: '0.01' }));
      const other = base.replace('127.0.0.1', 'localhost');
      const check = prom('<', 0.05, { source: { type: 'prometheus', query: 'up', url: other } });
      const r = await evaluatePrometheusCheck(check, ctx({ prometheus: { url: base, tokenEnv: 'MRCD_TEST_PROM_TOKEN' } }), opts);
      assert.equal(r.verdict, 'pass', r.detail);
      assert.equal(seen[0]!.headers.authorization, undefined);
    } finally {
      delete process.env.MRCD_TEST_PROM_TOKEN;
    }
  });

  test("a check's own tokenEnv (a plan normalized now) is sent, with no plan-level settings in the context", async () => {
    process.env.MRCD_TEST_PROM_TOKEN = 'sekrit-token-456';
    try {
      answer(200, vector({ value: '0.01' }));
      const check = prom('<', 0.05, { source: { type: 'prometheus', query: 'up', url: base, tokenEnv: 'MRCD_TEST_PROM_TOKEN' } });
      const r = await evaluatePrometheusCheck(check, ctx({ prometheus: undefined }), opts);
      assert.equal(r.verdict, 'pass', r.detail);
      assert.equal(seen[0]!.headers.authorization, 'Bearer sekrit-token-456');
    } finally {
      delete process.env.MRCD_TEST_PROM_TOKEN;
    }
  });

  test('a missing token variable is a config error naming the variable, and nothing is sent', async () => {
    delete process.env.MRCD_MISSING_TOKEN;
    const r = await evaluatePrometheusCheck(prom(), ctx({ prometheus: { url: base, tokenEnv: 'MRCD_MISSING_TOKEN' } }), opts);
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.match(r.detail, /MRCD_MISSING_TOKEN/);
    assert.equal(seen.length, 0);
  });

  test('no Prometheus URL anywhere is a config error', async () => {
    const r = await evaluatePrometheusCheck(prom(), ctx({ prometheus: undefined }), opts);
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.match(r.detail, /prometheus\.url/);
  });

  test('an unknown template variable is a config error', async () => {
    const check = prom('<', 0.05, { source: { type: 'prometheus', query: 'x{a="{{cluster}}"}' } });
    const r = await evaluatePrometheusCheck(check, ctx(), opts);
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.match(r.detail, /\{\{cluster\}\}/);
    assert.equal(seen.length, 0);
  });

  test('cancellation rejects with the CancelledFailure instead of becoming a verdict', async () => {
    handler = () => undefined; // never answers
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new CancelledFailure('CANCELLED')), 50);
    await assert.rejects(evaluatePrometheusCheck(prom(), ctx(), { ...opts, signal: ac.signal }), CancelledFailure);
    assert.ok(Date.now() - started < 1000);
  });
});

describe('Prometheus provider: answer classes', () => {
  const cases: {
    name: string;
    status: number;
    body: unknown;
    comparator?: Check['comparator'];
    verdict: string;
    retryable?: boolean;
    detail: RegExp;
    value?: number;
  }[] = [
    { name: 'in threshold', status: 200, body: vector({ value: '0.01' }), verdict: 'pass', detail: /^0\.01 < 0\.05 over the last 45s$/, value: 0.01 },
    {
      name: 'warnings make a pass inconclusive',
      status: 200,
      body: { ...vector({ value: '0.01' }), warnings: ['remote read partial'] },
      verdict: 'inconclusive',
      detail: /warnings.*remote read partial.*Query: ratio/,
      value: 0.01,
    },
    {
      name: 'warnings do not hide a breach',
      status: 200,
      body: { ...vector({ value: '0.5' }), warnings: ['remote read partial'] },
      verdict: 'fail',
      detail: /^breach: 0\.5 is not < 0\.05/,
      value: 0.5,
    },
    {
      name: 'breach',
      status: 200,
      body: vector({ value: '0.2' }),
      verdict: 'fail',
      detail: /^breach: 0\.2 is not < 0\.05 over the last 45s\. Query: ratio\{/,
      value: 0.2,
    },
    { name: '+Inf with lower-is-better fails', status: 200, body: vector({ value: '+Inf' }), verdict: 'fail', detail: /^breach: \+Inf/ },
    {
      name: '+Inf with higher-is-better is no evidence',
      status: 200,
      body: vector({ value: '+Inf' }),
      comparator: '>',
      verdict: 'inconclusive',
      detail: /\+Inf/,
    },
    { name: '-Inf with higher-is-better fails', status: 200, body: vector({ value: '-Inf' }), comparator: '>=', verdict: 'fail', detail: /^breach: -Inf/ },
    { name: 'NaN', status: 200, body: vector({ value: 'NaN' }), verdict: 'inconclusive', detail: /NaN.*zero traffic.*Query: /s },
    { name: 'empty vector', status: 200, body: vector(), verdict: 'inconclusive', detail: /^no data: the query returned no series.*Query: ratio/ },
    {
      name: 'two series are ambiguous',
      status: 200,
      body: vector({ metric: { pod: 'a' }, value: '0.01' }, { metric: { pod: 'b' }, value: '0.02' }),
      verdict: 'inconclusive',
      detail: /^ambiguous: the query returned 2 series \(\{pod="a"\}, \{pod="b"\}\)/,
    },
    {
      name: 'stale sample',
      status: 200,
      body: vector({ value: '0.01', ts: nowSec - 120 }),
      verdict: 'inconclusive',
      detail: /^stale data: the sample is 120s old \(limit 60s\)/,
    },
    {
      name: 'a 30 s old sample is fresh enough',
      status: 200,
      body: vector({ value: '0.01', ts: nowSec - 30 }),
      verdict: 'pass',
      detail: /^0\.01 </,
      value: 0.01,
    },
    {
      name: 'scalar in threshold',
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [nowSec, '0.02'] } },
      verdict: 'pass',
      detail: /^0\.02 </,
      value: 0.02,
    },
    {
      name: 'scalar breach',
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [nowSec, '7'] } },
      verdict: 'fail',
      detail: /^breach: 7 /,
      value: 7,
    },
    {
      name: 'matrix',
      status: 200,
      body: { status: 'success', data: { resultType: 'matrix', result: [] } },
      verdict: 'error',
      retryable: false,
      detail: /range vector/,
    },
    {
      name: '500 internal',
      status: 500,
      body: { status: 'error', errorType: 'internal', error: 'boom' },
      verdict: 'error',
      retryable: true,
      detail: /internal.*boom/,
    },
    {
      name: '503 unavailable',
      status: 503,
      body: { status: 'error', errorType: 'unavailable', error: 'tsdb not ready' },
      verdict: 'error',
      retryable: true,
      detail: /unavailable/,
    },
    {
      name: '503 timeout',
      status: 503,
      body: { status: 'error', errorType: 'timeout', error: 'query timed out' },
      verdict: 'error',
      retryable: true,
      detail: /timeout/,
    },
    {
      name: '400 bad_data',
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'parse error' },
      verdict: 'error',
      retryable: false,
      detail: /bad_data.*parse error.*Query: ratio/,
    },
    {
      name: '422 execution',
      status: 422,
      body: { status: 'error', errorType: 'execution', error: 'many-to-many' },
      verdict: 'error',
      retryable: false,
      detail: /execution/,
    },
    { name: '502 HTML from a proxy', status: 502, body: '<html>bad gateway</html>', verdict: 'error', retryable: true, detail: /HTTP 502/ },
    { name: '404 plain text', status: 404, body: 'not found', verdict: 'error', retryable: false, detail: /404.*URL/ },
    { name: 'malformed JSON', status: 200, body: '{"status":"success","data":', verdict: 'error', retryable: true, detail: /malformed JSON/ },
    { name: 'JSON that is not an envelope', status: 200, body: { hello: 'world' }, verdict: 'error', retryable: true, detail: /not a Prometheus API envelope/ },
    { name: 'value that is not a number', status: 200, body: vector({ value: 'lots' }), verdict: 'error', retryable: true, detail: /unexpected answer/ },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      answer(c.status, c.body);
      const r = await evaluatePrometheusCheck(prom(c.comparator ?? '<', c.comparator === '>' || c.comparator === '>=' ? 1 : 0.05), ctx(), opts);
      assert.equal(r.verdict, c.verdict, r.detail);
      assert.equal(r.retryable, c.retryable);
      assert.match(r.detail, c.detail);
      assert.equal(r.value, c.value);
    });
  }

  test('a body that trickles past the deadline is a retryable timeout', { timeout: 5000 }, async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"success",');
      // Bytes keep coming, so a per-socket idle timeout alone would never fire.
      const drip = setInterval(() => res.write(' '), 50);
      // Ends on its own, so a missing deadline fails the test instead of hanging it.
      const end = setTimeout(() => res.end('}'), 2000);
      req.socket.once('close', () => {
        clearInterval(drip);
        clearTimeout(end);
      });
    };
    const started = Date.now();
    const r = await evaluatePrometheusCheck(prom(), ctx(), { ...opts, timeoutMs: 300 });
    const took = Date.now() - started;
    assert.equal(r.verdict, 'error', r.detail);
    assert.equal(r.retryable, true);
    assert.match(r.detail, /within 300 ms \(timeout\)/);
    assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  });
});

describe('Prometheus provider: minTraffic', () => {
  const withTraffic = prom('<', 0.05, { minTraffic: { query: 'count{region="{{region}}"}', min: 100 } });

  function byQuery(main: unknown, traffic: unknown, trafficStatus = 200): void {
    handler = (_req, res, url) => {
      const q = url.searchParams.get('query') ?? '';
      if (q.startsWith('count')) json(res, trafficStatus, traffic);
      else json(res, 200, main);
    };
  }

  test('enough traffic passes and reports the count', async () => {
    byQuery(vector({ value: '0.01' }), vector({ value: '250' }));
    const r = await evaluatePrometheusCheck(withTraffic, ctx(), opts);
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(r.traffic, 250);
    assert.equal(seen.length, 2);
  });

  test('too little traffic is inconclusive with N < min and both queries', async () => {
    byQuery(vector({ value: '0.01' }), vector({ value: '12' }));
    const r = await evaluatePrometheusCheck(withTraffic, ctx(), opts);
    assert.equal(r.verdict, 'inconclusive');
    assert.match(r.detail, /^too little traffic: 12 < 100 .*Query: ratio.*Traffic query: count\{region="eu-west-1"\}/);
    assert.equal(r.traffic, 12);
    assert.equal(r.value, 0.01);
  });

  test('no traffic series counts as none', async () => {
    byQuery(vector({ value: '0.01' }), vector());
    const r = await evaluatePrometheusCheck(withTraffic, ctx(), opts);
    assert.equal(r.verdict, 'inconclusive');
    assert.match(r.detail, /^too little traffic: the traffic query returned no series \(0 < 100\)/);
  });

  test('a breach fails even with too little traffic', async () => {
    byQuery(vector({ value: '0.5' }), vector({ value: '3' }));
    const r = await evaluatePrometheusCheck(withTraffic, ctx(), opts);
    assert.equal(r.verdict, 'fail', r.detail);
    assert.equal(r.traffic, 3);
  });

  test('a failing traffic query is an error, classified like any query', async () => {
    byQuery(vector({ value: '0.01' }), { status: 'error', errorType: 'bad_data', error: 'parse error' }, 400);
    const r = await evaluatePrometheusCheck(withTraffic, ctx(), opts);
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.match(r.detail, /^traffic query failed.*bad_data/);
  });
});

describe('HTTP JSON provider', () => {
  function httpCheck(path: string, extra: Partial<HttpJsonCheck['source']> = {}, comparator: Check['comparator'] = '<', threshold = 0.05): HttpJsonCheck {
    return {
      name: 'json-slo',
      source: { type: 'http', url: `${base}/slo/{{service}}/{{region}}?v={{version}}`, path, ...extra },
      comparator,
      threshold,
    };
  }
  const doc = { data: { items: [{ ratio: 0.5 }, { ratio: 0.01, nothing: null, text: 'low' }] } };

  test('reads the number at a dotted path with indexes, URL-encoding the variables', async () => {
    answer(200, doc);
    const r = await evaluateHttpCheck(httpCheck('data.items[1].ratio'), ctx({ region: 'eu west/1', version: '2.0.0+b' }));
    assert.equal(r.verdict, 'pass', r.detail);
    assert.equal(r.value, 0.01);
    assert.ok(seen[0]!.url.pathname.endsWith('/slo/checkout/eu%20west%2F1'), seen[0]!.url.pathname);
    assert.equal(seen[0]!.url.searchParams.get('v'), '2.0.0+b');
  });

  test('a value outside the threshold fails', async () => {
    answer(200, doc);
    const r = await evaluateHttpCheck(httpCheck('data.items[0].ratio'), ctx());
    assert.equal(r.verdict, 'fail', r.detail);
    assert.equal(r.value, 0.5);
    assert.match(r.detail, /^breach: 0\.5 is not < 0\.05/);
  });

  for (const [path, why] of [
    ['data.items[5].ratio', /no value at data\.items\[5\]\.ratio .*nothing at data\.items\[5\]/],
    ['data.missing', /no value at data\.missing/],
    ['data.items[1].nothing', /is null/],
    ['data.items[1].text', /is a string .*not a number/],
    ['data.items', /is a object/],
  ] as const) {
    test(`inconclusive when ${path} is not a number`, async () => {
      answer(200, doc);
      const r = await evaluateHttpCheck(httpCheck(path), ctx());
      assert.equal(r.verdict, 'inconclusive', r.detail);
      assert.match(r.detail, why);
    });
  }

  for (const [status, retryable] of [
    [500, true],
    [503, true],
    [408, true],
    [429, true],
    [404, false],
    [400, false],
  ] as const) {
    test(`HTTP ${status} is an error, retryable ${retryable}`, async () => {
      answer(status, { error: 'nope' });
      const r = await evaluateHttpCheck(httpCheck('data.items[1].ratio'), ctx());
      assert.equal(r.verdict, 'error');
      assert.equal(r.retryable, retryable);
      assert.match(r.detail, new RegExp(`HTTP ${status}`));
    });
  }

  test('401 is a non-retryable error that points at the token variable', async () => {
    process.env.MRCD_TEST_JSON_TOKEN = 'json-sekrit';
    try {
      answer(401, { error: 'unauthorized' });
      const r = await evaluateHttpCheck(httpCheck('x', { tokenEnv: 'MRCD_TEST_JSON_TOKEN' }), ctx());
      assert.equal(r.verdict, 'error');
      assert.equal(r.retryable, false);
      assert.match(r.detail, /HTTP 401.*\$MRCD_TEST_JSON_TOKEN/);
      assert.equal(seen[0]!.headers.authorization, 'Bearer json-sekrit');
      assert.ok(!JSON.stringify(r).includes('json-sekrit'));
    } finally {
      delete process.env.MRCD_TEST_JSON_TOKEN;
    }
  });

  test('a missing token variable is named and nothing is sent', async () => {
    delete process.env.MRCD_MISSING_JSON_TOKEN;
    const r = await evaluateHttpCheck(httpCheck('x', { tokenEnv: 'MRCD_MISSING_JSON_TOKEN' }), ctx());
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.match(r.detail, /MRCD_MISSING_JSON_TOKEN/);
    assert.equal(seen.length, 0);
  });

  test('a closed port is a retryable error', async () => {
    const port = await freePort();
    const r = await evaluateHttpCheck(httpCheck('x', { url: `http://127.0.0.1:${port}/slo` }), ctx());
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, true);
    assert.match(r.detail, /connection refused/);
  });

  test('a body that is not JSON is a retryable error', async () => {
    answer(200, '<html>');
    const r = await evaluateHttpCheck(httpCheck('x'), ctx());
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, true);
    assert.match(r.detail, /not JSON/);
  });

  test('a redirect is not followed (it would carry the token elsewhere)', async () => {
    handler = (_req, res) => res.writeHead(302, { Location: 'http://127.0.0.1:1/elsewhere' }).end();
    const r = await evaluateHttpCheck(httpCheck('x'), ctx());
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.match(r.detail, /HTTP 302: redirected/);
    assert.equal(seen.length, 1);
  });

  test('path syntax', () => {
    assert.deepEqual(parsePath('a.b[0].c'), ['a', 'b', 0, 'c']);
    assert.deepEqual(parsePath('[2][0]'), [2, 0]);
    assert.deepEqual(parsePath('errorRatio'), ['errorRatio']);
    for (const bad of ['', 'a.', '.a', 'a..b', 'a[x]', 'a[0]b', 'a[']) assert.equal(parsePath(bad), undefined, bad);
  });

  test('an unparseable path is a config error', async () => {
    const r = await evaluateHttpCheck(httpCheck('a..b'), ctx());
    assert.equal(r.verdict, 'error');
    assert.equal(r.retryable, false);
    assert.equal(seen.length, 0);
  });
});

describe('gate', () => {
  test('compare follows the comparator, boundaries included or not', () => {
    assert.equal(compare(0.05, '<', 0.05), false);
    assert.equal(compare(0.05, '<=', 0.05), true);
    assert.equal(compare(0.05, '>', 0.05), false);
    assert.equal(compare(0.05, '>=', 0.05), true);
    assert.equal(compare(0.01, '<', 0.05), true);
    assert.equal(compare(0.99, '>', 0.9), true);
    assert.equal(compare(Infinity, '<', 0.05), false);
    assert.throws(() => compare(NaN, '<', 1), RangeError);
  });

  test('aggregation: fail > error > inconclusive > pass, nothing is inconclusive', () => {
    assert.equal(aggregate(['pass', 'error', 'fail', 'inconclusive']), 'fail');
    assert.equal(aggregate(['pass', 'inconclusive', 'error']), 'error');
    assert.equal(aggregate(['pass', 'inconclusive']), 'inconclusive');
    assert.equal(aggregate(['pass', 'pass']), 'pass');
    assert.equal(aggregate([]), 'inconclusive');
  });

  // Each path answers after 300 ms; the answer depends on the query or URL.
  function slowRoutes(): void {
    handler = (_req, res, url) => {
      const q = url.searchParams.get('query') ?? url.pathname;
      void delay(300).then(() => {
        if (q.includes('good')) json(res, 200, vector({ value: '0.01' }));
        else if (q.includes('bad')) json(res, 200, vector({ value: '0.9' }));
        else if (q.includes('empty')) json(res, 200, vector());
        else if (q.includes('down')) json(res, 503, { status: 'error', errorType: 'unavailable', error: 'down' });
        else json(res, 200, { data: { ratio: 0.01 } });
      });
    };
  }
  const pc = (name: string, query: string): Check => ({ name, source: { type: 'prometheus', query }, comparator: '<', threshold: 0.05 });
  const hc = (name: string): Check => ({ name, source: { type: 'http', url: `${base}/json`, path: 'data.ratio' }, comparator: '<', threshold: 0.05 });

  for (const [names, expected] of [
    [['good', 'json', 'bad', 'down'], 'fail'],
    [['good', 'empty', 'down'], 'error'],
    [['good', 'json', 'empty'], 'inconclusive'],
    [['good', 'json'], 'pass'],
  ] as const) {
    test(`${names.join(' + ')} -> ${expected}, checks run in parallel`, async () => {
      slowRoutes();
      const checks = names.map((n) => (n === 'json' ? hc(n) : pc(n, `${n}{region="{{region}}"}`)));
      const started = Date.now();
      const g = await evaluateGate(ctx({ gate: { checks, maxInconclusive: 3 } }), opts);
      const took = Date.now() - started;
      assert.equal(g.verdict, expected);
      assert.deepEqual(
        g.checks.map((c) => c.name),
        [...names],
      );
      assert.ok(took < 300 * names.length - 100, `${names.length} checks of 300 ms took ${took} ms`);
      assert.equal(g.at, NOW);
    });
  }

  test('a cancelled gate rejects with the cancellation instead of reporting errors', async () => {
    slowRoutes();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new CancelledFailure('CANCELLED')), 50);
    const gate = { checks: [pc('a', 'good'), hc('b')], maxInconclusive: 3 };
    await assert.rejects(evaluateGate(ctx({ gate }), { ...opts, signal: ac.signal }), CancelledFailure);
  });

  test('a gate without checks is inconclusive, never a pass', async () => {
    const g = await evaluateGate(ctx({ gate: { checks: [], maxInconclusive: 3 } }), opts);
    assert.equal(g.verdict, 'inconclusive');
  });
});
