// The simulator's random traffic (POST /_sim/traffic, /_sim/incident, graded /_sim/bad and
// the latency histogram), which the statistical comparison checks are tested against. The
// assertions are statistical: seeded streams, tolerances of several standard errors, wide
// enough never to flake and narrow enough that a wrong rate, factor or curve fails them.
// Ticks are counted with a region left on the deterministic default (exactly
// requestsPerTick requests a tick), which ticks in the same loop as the profiled ones.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../dev/simulator';
import { LATENCY_BUCKETS_SECONDS } from '../../dev/simulator/latency';
import { Rng, normalCdf, streamSeed } from '../../dev/simulator/random';

/** The deterministic default of the reference region. */
const DEFAULT_RPT = 20;
/** Standard errors a statistical assertion allows. */
const Z = 5;

async function start(t: TestContext, opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({ regions: ['r1', 'r2', 'ref'], initialVersions: { api: 'v1' }, deployDelayMs: 60, tickMs: 5, ...opts });
  t.after(() => sim.close());
  return sim;
}

async function call(sim: Simulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(sim.url + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

async function ok(sim: Simulator, method: string, path: string, body?: unknown): Promise<void> {
  const r = await call(sim, method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(sim: Simulator): Promise<Sample[]> {
  const r = await call(sim, 'GET', '/metrics');
  assert.equal(r.status, 200);
  return parse(r.body as string);
}

function sum(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** Requests and errors of the matching series between two scrapes. */
function traffic(a: Sample[], b: Sample[], labels: Record<string, string>): { requests: number; errors: number } {
  const n = (s: Sample[], extra: Record<string, string> = {}) => sum(s, 'mrcd_sim_requests_total', { ...labels, ...extra });
  return { requests: n(b) - n(a), errors: n(b, { code: '500' }) - n(a, { code: '500' }) };
}

/** Ticks between two scrapes, from the deterministic reference region. */
function ticks(a: Sample[], b: Sample[]): number {
  return traffic(a, b, { region: 'ref' }).requests / DEFAULT_RPT;
}

function assertRate(errors: number, requests: number, p: number, what: string): void {
  assert.ok(requests > 10_000, `${what}: only ${requests} requests`);
  const se = Math.sqrt((p * (1 - p)) / requests);
  const ratio = errors / requests;
  assert.ok(Math.abs(ratio - p) < Z * se, `${what}: error ratio ${ratio} (${errors}/${requests}), expected ${p} ± ${Z * se}`);
}

/** Per bucket bound, the cumulative count between two scrapes, plus the +Inf bucket and _count and _sum. */
function histogram(a: Sample[], b: Sample[], labels: Record<string, string>) {
  const name = 'mrcd_sim_request_duration_seconds';
  const d = (n: string, extra: Record<string, string> = {}) => sum(b, n, { ...labels, ...extra }) - sum(a, n, { ...labels, ...extra });
  return {
    cumulative: LATENCY_BUCKETS_SECONDS.map((le) => d(`${name}_bucket`, { le: String(le) })),
    inf: d(`${name}_bucket`, { le: '+Inf' }),
    count: d(`${name}_count`),
    sum: d(`${name}_sum`),
  };
}

/** The bucket (lower, upper] in which half the requests are reached. */
function medianBucket(cumulative: number[], count: number): [number, number] {
  const i = cumulative.findIndex((c) => c >= count / 2);
  assert.ok(i >= 0, 'the median lies beyond the largest bucket');
  return [i === 0 ? 0 : LATENCY_BUCKETS_SECONDS[i - 1]!, LATENCY_BUCKETS_SECONDS[i]!];
}

test('(a) without profiles the /metrics page is the deterministic one, byte for byte; a regional bad mark keeps badErrorRatio', async (t) => {
  const sim = await start(t, { regions: ['r1', 'r2'], tickMs: 10 });
  await sleep(50); // v1 serves in r1 before it is replaced
  // Marked before they run, so every tick of theirs is a bad one.
  await ok(sim, 'POST', '/_sim/bad', { version: 'v2', service: 'api' });
  // Without a profile a graded, regional mark is a plain one in its region: badErrorRatio, factors unused.
  await ok(sim, 'POST', '/_sim/bad', { version: 'w1', service: 'web', region: 'r2', errorFactor: 9, latencyFactor: 3 });
  await ok(sim, 'POST', '/_sim/set', { service: 'api', region: 'r1', version: 'v2' });
  await ok(sim, 'POST', '/_sim/set', { service: 'web', region: 'r2', version: 'w1' });
  await sleep(200);
  const text = (await call(sim, 'GET', '/metrics')).body as string;
  const s = parse(text);
  const v = (labels: Record<string, string>) => sum(s, 'mrcd_sim_requests_total', labels);
  const series = [
    ['api', 'r1', 'v1'],
    ['api', 'r1', 'v2'],
    ['api', 'r2', 'v1'],
    ['web', 'r2', 'w1'],
  ] as const;
  const lines = [
    '# HELP mrcd_sim_requests_total Synthetic requests served, by service, region, version and HTTP status code.',
    '# TYPE mrcd_sim_requests_total counter',
  ];
  for (const [service, region, version] of series) {
    const okCount = v({ service, region, version, code: '200' });
    const err = v({ service, region, version, code: '500' });
    assert.equal((okCount + err) % DEFAULT_RPT, 0, `${service}/${region}/${version}: whole ticks of ${DEFAULT_RPT}`);
    const bad = version === 'v2' || version === 'w1';
    assert.equal(err, bad ? ((okCount + err) / DEFAULT_RPT) * 6 : 0, `${service}/${region}/${version}: round(20 × 0.3) = 6 errors a tick when bad`);
    lines.push(`mrcd_sim_requests_total{service="${service}",region="${region}",version="${version}",code="200"} ${okCount}`);
    lines.push(`mrcd_sim_requests_total{service="${service}",region="${region}",version="${version}",code="500"} ${err}`);
  }
  lines.push(
    '# HELP mrcd_sim_region_version_info The version each region runs for each service; always 1.',
    '# TYPE mrcd_sim_region_version_info gauge',
    'mrcd_sim_region_version_info{service="api",region="r1",version="v2"} 1',
    'mrcd_sim_region_version_info{service="api",region="r2",version="v1"} 1',
    'mrcd_sim_region_version_info{service="web",region="r2",version="w1"} 1',
  );
  assert.equal(text, lines.join('\n') + '\n');
  assert.ok(v({ service: 'web', region: 'r2', code: '500' }) > 0, 'the regional mark applies in r2');
  assert.deepEqual((await call(sim, 'GET', '/_sim/traffic')).body, { all: null, regions: {} });
  assert.equal((await call(sim, 'GET', '/_sim/incident')).body, null);
});

test('(b) a profile: mean requests per tick and error ratio within a few standard errors; GET shows it', async (t) => {
  const sim = await start(t);
  const profile = { region: 'r1', requestsPerTick: 500, errorRate: 0.01, seed: 42 };
  await ok(sim, 'POST', '/_sim/traffic', profile);
  assert.deepEqual((await call(sim, 'GET', '/_sim/traffic')).body, { all: null, regions: { r1: { requestsPerTick: 500, errorRate: 0.01, seed: 42 } } });
  const a = await scrape(sim);
  await sleep(1500);
  const b = await scrape(sim);
  const n = ticks(a, b);
  assert.ok(n >= 50, `only ${n} ticks`);
  const r1 = traffic(a, b, { region: 'r1' });
  const mean = r1.requests / n;
  const se = Math.sqrt(500 / n);
  assert.ok(Math.abs(mean - 500) < Z * se, `mean ${mean} requests a tick over ${n} ticks, expected 500 ± ${Z * se}`);
  assertRate(r1.errors, r1.requests, 0.01, 'r1');
  // r2 has no profile: still exactly 20 a tick, no errors.
  assert.deepEqual(traffic(a, b, { region: 'r2' }), { requests: n * DEFAULT_RPT, errors: 0 });
  // /health sums the same drawn counts.
  const health = (await call(sim, 'GET', '/health/r1?service=api')).body;
  assert.ok(health.requests > 0 && health.errors > 0 && health.errorRatio < 0.05, JSON.stringify(health));
});

test('(b) the generator: a seed replays its draws, streams differ by name, Poisson and binomial have the right spread', () => {
  const draw = (seed: number, stream: string) => {
    const rng = new Rng(streamSeed(seed, stream));
    return Array.from({ length: 5 }, () => rng.poisson(100));
  };
  assert.deepEqual(draw(1, 'r1'), draw(1, 'r1'));
  assert.notDeepEqual(draw(1, 'r1'), draw(1, 'r2'));
  assert.notDeepEqual(draw(1, 'r1'), draw(2, 'r1'));
  const rng = new Rng(7);
  const N = 4000;
  for (const [label, sampler, mean, variance] of [
    ['poisson(5)', () => rng.poisson(5), 5, 5],
    ['poisson(400)', () => rng.poisson(400), 400, 400],
    ['binomial(50, 0.2)', () => rng.binomial(50, 0.2), 10, 8],
    ['binomial(5000, 0.001)', () => rng.binomial(5000, 0.001), 5, 4.995],
    ['binomial(5000, 0.3)', () => rng.binomial(5000, 0.3), 1500, 1050],
  ] as const) {
    const xs = Array.from({ length: N }, sampler);
    const m = xs.reduce((a, x) => a + x, 0) / N;
    const v = xs.reduce((a, x) => a + (x - m) ** 2, 0) / (N - 1);
    assert.ok(Math.abs(m - mean) < Z * Math.sqrt(variance / N), `${label}: mean ${m}`);
    // The sample variance's standard error is about variance·sqrt(2/N) (less for the skewed small means).
    assert.ok(Math.abs(v - variance) < Z * variance * Math.sqrt(2 / N) * 1.5, `${label}: variance ${v}, expected ${variance}`);
  }
});

test('(c) a diurnal profile: traffic follows the curve', async (t) => {
  const sim = await start(t);
  const periodMs = 1500;
  const amplitude = 0.8;
  const before = Date.now();
  await ok(sim, 'POST', '/_sim/traffic', { region: 'r1', requestsPerTick: 200, errorRate: 0, diurnal: { amplitude, periodMs, phaseMs: 0 } });
  const setAt = (before + Date.now()) / 2;
  const observed: number[] = [];
  const expected: number[] = [];
  let prev = await scrape(sim);
  let prevAt = Date.now();
  while (Date.now() - setAt < 2 * periodMs) {
    await sleep(60);
    const next = await scrape(sim);
    const at = Date.now();
    const n = ticks(prev, next);
    if (n >= 3) {
      observed.push(traffic(prev, next, { region: 'r1' }).requests / n);
      expected.push(200 * (1 + amplitude * Math.sin((2 * Math.PI * ((prevAt + at) / 2 - setAt)) / periodMs)));
    }
    [prev, prevAt] = [next, at];
  }
  assert.ok(observed.length >= 15, `only ${observed.length} windows`);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const [mo, me] = [mean(observed), mean(expected)];
  let cov = 0;
  let vo = 0;
  let ve = 0;
  observed.forEach((o, i) => {
    cov += (o - mo) * (expected[i]! - me);
    vo += (o - mo) ** 2;
    ve += (expected[i]! - me) ** 2;
  });
  const corr = cov / Math.sqrt(vo * ve);
  assert.ok(corr > 0.9, `correlation with the curve ${corr}; observed ${observed.map(Math.round).join(' ')}`);
  assert.ok(Math.max(...observed) > 200 * 1.5 && Math.min(...observed) < 200 * 0.5, `range ${Math.min(...observed)}..${Math.max(...observed)}`);
});

test('(d) an incident multiplies errors and latency in the listed regions only, whatever they run; DELETE ends it', async (t) => {
  const sim = await start(t, { regions: ['r1', 'r2', 'r3', 'ref'] });
  const profile = { requestsPerTick: 500, errorRate: 0.01, latency: { medianMs: 50, sigma: 0.3 }, seed: 7 };
  for (const region of ['r1', 'r2', 'r3']) await ok(sim, 'POST', '/_sim/traffic', { ...profile, region });
  await ok(sim, 'POST', '/_sim/incident', { errorFactor: 5, latencyFactor: 4, regions: ['r1', 'r2'] });
  assert.deepEqual((await call(sim, 'GET', '/_sim/incident')).body, { errorFactor: 5, latencyFactor: 4, regions: ['r1', 'r2'] });
  const a = await scrape(sim);
  await sleep(1200);
  const b = await scrape(sim);
  for (const [region, factor] of [
    ['r1', 5],
    ['r2', 5],
    ['r3', 1],
  ] as const) {
    const r = traffic(a, b, { region });
    assertRate(r.errors, r.requests, 0.01 * factor, region);
    const h = histogram(a, b, { region });
    // 200 ms lies in (0.17, 0.29], 50 ms in (0.038, 0.063].
    assert.deepEqual(medianBucket(h.cumulative, h.count), factor === 5 ? [0.17, 0.29] : [0.038, 0.063], `${region} median`);
  }
  await ok(sim, 'DELETE', '/_sim/incident');
  assert.equal((await call(sim, 'GET', '/_sim/incident')).body, null);
  const c = await scrape(sim);
  await sleep(800);
  const d = await scrape(sim);
  const r1 = traffic(c, d, { region: 'r1' });
  assertRate(r1.errors, r1.requests, 0.01, 'r1 after the incident');
});

test('(e) bad with errorFactor and region raises errors by about that factor, only there', async (t) => {
  const sim = await start(t, { regions: ['r1', 'r2', 'r3', 'ref'] });
  for (const region of ['r1', 'r2', 'r3']) await ok(sim, 'POST', '/_sim/traffic', { region, requestsPerTick: 500, errorRate: 0.01, seed: 11 });
  for (const region of ['r1', 'r2']) await ok(sim, 'POST', '/_sim/set', { service: 'api', region, version: 'v2' });
  await ok(sim, 'POST', '/_sim/bad', { version: 'v2', service: 'api', region: 'r1', errorFactor: 4 });
  const a = await scrape(sim);
  await sleep(1200);
  const b = await scrape(sim);
  const r1 = traffic(a, b, { region: 'r1', version: 'v2' });
  const r2 = traffic(a, b, { region: 'r2', version: 'v2' });
  const r3 = traffic(a, b, { region: 'r3', version: 'v1' });
  assertRate(r1.errors, r1.requests, 0.04, 'r1 (v2 bad here, ×4)');
  assertRate(r2.errors, r2.requests, 0.01, 'r2 (v2, not bad here)');
  assertRate(r3.errors, r3.requests, 0.01, 'r3 (v1)');
  // A plain mark under a profile keeps its fixed share (badErrorRatio 0.3); the graded one is more specific in r1.
  await ok(sim, 'POST', '/_sim/bad', { version: 'v2', service: 'api' });
  const c = await scrape(sim);
  await sleep(600);
  const d = await scrape(sim);
  const plain = traffic(c, d, { region: 'r2', version: 'v2' });
  assertRate(plain.errors, plain.requests, 0.3, 'r2 (v2 plainly bad)');
  const graded = traffic(c, d, { region: 'r1', version: 'v2' });
  assertRate(graded.errors, graded.requests, 0.04, 'r1 (the graded mark wins)');
  // good clears graded marks as well as plain ones.
  await ok(sim, 'POST', '/_sim/good', { version: 'v2', service: 'api' });
  const e = await scrape(sim);
  await sleep(600);
  const f = await scrape(sim);
  for (const region of ['r1', 'r2']) {
    const r = traffic(e, f, { region, version: 'v2' });
    assertRate(r.errors, r.requests, 0.01, `${region} after good`);
  }
});

test('(f) the latency histogram is well-formed, _count equals the requests, and the median bucket holds medianMs', async (t) => {
  const sim = await start(t);
  // r1 draws its bucket counts as a multinomial (1000 a tick), r2 request by request (100 a tick).
  await ok(sim, 'POST', '/_sim/traffic', { region: 'r1', requestsPerTick: 1000, errorRate: 0.01, latency: { medianMs: 130, sigma: 0.4 }, seed: 3 });
  await ok(sim, 'POST', '/_sim/traffic', { region: 'r2', requestsPerTick: 100, errorRate: 0.01, latency: { medianMs: 130, sigma: 0.4 }, seed: 4 });
  await sleep(50);
  const a = await scrape(sim);
  await sleep(1200);
  const b = await scrape(sim);
  const text = (await call(sim, 'GET', '/metrics')).body as string;
  assert.match(text, /^# TYPE mrcd_sim_request_duration_seconds histogram$/m);
  assert.equal(
    b.filter((s) => s.name.startsWith('mrcd_sim_request_duration_seconds') && s.labels.region === 'ref').length,
    0,
    'no histogram without a latency profile',
  );
  for (const region of ['r1', 'r2']) {
    const labels = { service: 'api', region, version: 'v1' };
    for (const s of [a, b]) {
      const h = histogram([], s, labels);
      h.cumulative.forEach((c, i) => assert.ok(i === 0 || c >= h.cumulative[i - 1]!, `${region}: buckets must not decrease`));
      assert.ok(h.inf >= h.cumulative.at(-1)!);
      assert.equal(h.inf, h.count, `${region}: +Inf bucket = _count`);
    }
    const h = histogram(a, b, labels);
    assert.equal(h.count, traffic(a, b, labels).requests, `${region}: _count grows with the requests`);
    assert.ok(h.count > 10_000, `${region}: ${h.count} requests`);
    assert.deepEqual(medianBucket(h.cumulative, h.count), [0.1, 0.17], `${region}: 130 ms lies in (0.1, 0.17]`);
    // The share at or under each bound is the lognormal's CDF there.
    for (const le of [0.1, 0.17, 0.29]) {
      const p = normalCdf(Math.log(le / 0.13) / 0.4);
      const got = h.cumulative[LATENCY_BUCKETS_SECONDS.indexOf(le)]! / h.count;
      assert.ok(Math.abs(got - p) < Z * Math.sqrt((p * (1 - p)) / h.count), `${region}: share <= ${le}s ${got}, expected ${p}`);
    }
    const mean = h.sum / h.count;
    const expectedMean = 0.13 * Math.exp(0.08);
    assert.ok(Math.abs(mean - expectedMean) < 0.02 * expectedMean, `${region}: mean ${mean}s, expected ${expectedMean}s`);
  }
});

test('(g) every invalid body is refused with a 400 naming the field; unknown regions 404; nothing is set', async (t) => {
  const sim = await start(t);
  const base = { requestsPerTick: 10, errorRate: 0.01 };
  const cases: [string, unknown, string][] = [
    ['/_sim/traffic', {}, 'requestsPerTick'],
    ['/_sim/traffic', { ...base, requestsPerTick: -1 }, 'requestsPerTick'],
    ['/_sim/traffic', { ...base, requestsPerTick: '10' }, 'requestsPerTick'],
    ['/_sim/traffic', { requestsPerTick: 10 }, 'errorRate'],
    ['/_sim/traffic', { ...base, errorRate: 1.5 }, 'errorRate'],
    ['/_sim/traffic', { ...base, diurnal: 5 }, 'diurnal'],
    ['/_sim/traffic', { ...base, diurnal: { amplitude: 1, periodMs: 100 } }, 'diurnal.amplitude'],
    ['/_sim/traffic', { ...base, diurnal: { amplitude: 0.5, periodMs: 0 } }, 'diurnal.periodMs'],
    ['/_sim/traffic', { ...base, diurnal: { amplitude: 0.5, periodMs: 10, phaseMs: 'x' } }, 'diurnal.phaseMs'],
    ['/_sim/traffic', { ...base, diurnal: { amplitude: 0.5, periodMs: 10, period: 1 } }, 'diurnal.period'],
    ['/_sim/traffic', { ...base, latency: { medianMs: 0, sigma: 1 } }, 'latency.medianMs'],
    ['/_sim/traffic', { ...base, latency: { medianMs: 10, sigma: -1 } }, 'latency.sigma'],
    ['/_sim/traffic', { ...base, latency: { medianMs: 10 } }, 'latency.sigma'],
    ['/_sim/traffic', { ...base, seed: 1.5 }, 'seed'],
    ['/_sim/traffic', { ...base, seed: -1 }, 'seed'],
    ['/_sim/traffic', { ...base, region: 3 }, 'region'],
    ['/_sim/traffic', { ...base, rps: 3 }, 'rps'],
    ['/_sim/incident', {}, 'errorFactor'],
    ['/_sim/incident', { errorFactor: -1 }, 'errorFactor'],
    ['/_sim/incident', { latencyFactor: 0 }, 'latencyFactor'],
    ['/_sim/incident', { errorFactor: 2, regions: 'r1' }, 'regions'],
    ['/_sim/incident', { errorFactor: 2, regions: [] }, 'regions'],
    ['/_sim/incident', { errorFactor: 2, region: 'r1' }, 'region'],
    ['/_sim/bad', { version: 'v2', errorFactor: -1 }, 'errorFactor'],
    ['/_sim/bad', { version: 'v2', latencyFactor: 0 }, 'latencyFactor'],
    ['/_sim/bad', { version: 'v2', region: 7 }, 'region'],
  ];
  for (const [path, body, field] of cases) {
    const r = await call(sim, 'POST', path, body);
    const what = `${path} ${JSON.stringify(body)}`;
    assert.equal(r.status, 400, what);
    assert.ok((r.body.error as string).includes(`"${field}"`), `${what}: ${r.body.error}`);
  }
  for (const [path, body] of [
    ['/_sim/traffic', { ...base, region: 'mars' }],
    ['/_sim/incident', { errorFactor: 2, regions: ['r1', 'mars'] }],
    ['/_sim/bad', { version: 'v2', region: 'mars', errorFactor: 2 }],
  ] as const) {
    const r = await call(sim, 'POST', path, body);
    assert.equal(r.status, 404, path);
    assert.equal(r.body.error, 'unknown region "mars"');
  }
  assert.equal((await call(sim, 'DELETE', '/_sim/traffic?region=mars')).status, 404);
  assert.equal((await call(sim, 'PUT', '/_sim/traffic', base)).status, 405);
  assert.deepEqual((await call(sim, 'GET', '/_sim/traffic')).body, { all: null, regions: {} });
  assert.equal((await call(sim, 'GET', '/_sim/incident')).body, null);
  assert.throws(() => sim.setTraffic({ requestsPerTick: Number.NaN, errorRate: 0 }), /"requestsPerTick"/);
});

test('(h) reset clears profiles and the incident; counters and histograms keep their values; DELETE per region falls back', async (t) => {
  const sim = await start(t);
  await ok(sim, 'POST', '/_sim/traffic', { requestsPerTick: 300, errorRate: 0.02, latency: { medianMs: 20, sigma: 0.5 } });
  await ok(sim, 'POST', '/_sim/traffic', { region: 'r2', requestsPerTick: 50, errorRate: 0.5, seed: 9 });
  // ref is under the all-regions profile now; tick counting is not needed here.
  assert.deepEqual((await call(sim, 'GET', '/_sim/traffic')).body, {
    all: { requestsPerTick: 300, errorRate: 0.02, latency: { medianMs: 20, sigma: 0.5 } },
    regions: { r2: { requestsPerTick: 50, errorRate: 0.5, seed: 9 } },
  });
  await ok(sim, 'DELETE', '/_sim/traffic?region=r2');
  assert.deepEqual((await call(sim, 'GET', '/_sim/traffic')).body.regions, {});
  await ok(sim, 'POST', '/_sim/incident', { errorFactor: 3 });
  await ok(sim, 'POST', '/_sim/bad', { version: 'v1', region: 'r1', errorFactor: 2 });
  await sleep(200);
  const before = await scrape(sim);
  assert.ok(sum(before, 'mrcd_sim_request_duration_seconds_count', { region: 'r2' }) > 0, 'r2 fell back to the all-regions profile');
  await ok(sim, 'POST', '/_sim/reset');
  const after = await scrape(sim);
  assert.deepEqual((await call(sim, 'GET', '/_sim/traffic')).body, { all: null, regions: {} });
  assert.equal((await call(sim, 'GET', '/_sim/incident')).body, null);
  for (const s of before) {
    const later = after.find((x) => x.name === s.name && JSON.stringify(x.labels) === JSON.stringify(s.labels));
    assert.ok(later && later.value >= s.value, `${s.name}${JSON.stringify(s.labels)} went from ${s.value} to ${later?.value}`);
  }
  await sleep(200);
  const later = await scrape(sim);
  const n = ticks(after, later);
  assert.ok(n > 0);
  for (const region of ['r1', 'r2', 'ref']) {
    assert.deepEqual(traffic(after, later, { region }), { requests: n * DEFAULT_RPT, errors: 0 }, `${region} is deterministic and good again`);
    assert.equal(histogram(after, later, { region }).count, 0, `${region}: no latency drawn after reset`);
  }
});
