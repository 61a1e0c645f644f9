// `mrcd plan --power` against a real Prometheus 2.42 scraping the simulator's random traffic:
// a small region whose short soak cannot tell 1.5× (and how long it would need), a big one
// whose soak can, the control chosen as the check would (the first candidate with traffic),
// a Prometheus that does not answer (a problem, never enough), and the command's warning
// line and exit code. Then Prometheus' envelope edge cases with a stub fetch, which a real
// Prometheus does not produce on demand (warnings, two series, NaN, an error envelope).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { freePort } from '../../dev/ports';
import { validatePlan, type NormalizedPlan } from '../../plan';
import { soakPower } from '../../client/comparison-power';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';

const ROOT = resolve(__dirname, '../..');
const COUNT = (extra: string) => `sum(increase(mrcd_sim_requests_total{service="{{service}}",region="{{region}}"${extra}}[{{window}}]))`;
const HISTORY_MS = 10_000;

/** ap-small (20 req/s at 5 %, a 10s soak) against eu-big; eu-big (4,000 req/s at 0.5 %, a 30s soak) against us-big. */
function planDoc(prometheusUrl: string): Record<string, unknown> {
  const vsControl = (control: string[]) => ({
    checks: [
      { name: 'vs-control', source: { type: 'comparison', errors: COUNT(',code="500"'), requests: COUNT(''), control }, comparator: '<', threshold: 1.5 },
    ],
  });
  return {
    service: 'shop',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments', runbook: 'https://runbooks.example.com/shop' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:9' },
    prometheus: { url: prometheusUrl },
    notifications: [{ type: 'webhook', url: 'https://hooks.example.com/payments' }],
    growthReason: 'a control for each soaking region',
    defaults: { soakReason: 'seconds-long soaks for a test', checkInterval: '5s' },
    regions: [
      // sa-quiet serves nothing: no series, so the check would take the next candidate.
      { name: 'ap-small', size: 1, soak: '10s', maxSoak: '20s', gate: vsControl(['sa-quiet', 'eu-big']) },
      { name: 'eu-big', size: 10, soak: '30s', gate: vsControl(['us-big']) },
      {
        name: 'us-big',
        size: 20,
        soak: '10s',
        gate: { checks: [{ name: 'ratio', source: { type: 'prometheus', query: 'vector(0)' }, comparator: '<', threshold: 0.01 }] },
      },
    ],
  };
}

function normalized(prometheusUrl: string): NormalizedPlan {
  const r = validatePlan(planDoc(prometheusUrl));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.plan;
}

describe('mrcd plan --power against a real Prometheus', () => {
  let sim: Simulator;
  let prom: RunningPrometheus;

  before(async () => {
    sim = await startSimulator({ regions: ['ap-small', 'eu-big', 'us-big'], tickMs: 100, initialVersions: { shop: '1.0.0' } });
    sim.setTraffic({ region: 'ap-small', requestsPerTick: 2, errorRate: 0.05, seed: 21 });
    sim.setTraffic({ region: 'eu-big', requestsPerTick: 400, errorRate: 0.005, seed: 22 });
    sim.setTraffic({ region: 'us-big', requestsPerTick: 400, errorRate: 0.005, seed: 23 });
    prom = await startPrometheus({ scrapeTargets: [new URL(sim.url).host], scrapeIntervalSeconds: 1 });
    await waitForSeries(prom.url, 'mrcd_sim_requests_total{service="shop"}');
    // A history of HISTORY_MS needs that much scraped traffic behind it.
    await sleep(HISTORY_MS + 1500);
  });

  after(async () => {
    await prom?.stop();
    await sim?.close();
  });

  test('the small region cannot tell 1.5× in its soak and says how long it would need; the big one can', async () => {
    const [small, big, ...rest] = await soakPower(normalized(prom.url), { history: HISTORY_MS });
    assert.equal(rest.length, 0, 'us-big has no comparison check');
    assert.ok(small && big);
    assert.equal(small.problem, undefined, small.problem);
    assert.equal(small.path, 'regions[0].gate.checks[0]');
    assert.equal(small.control?.region, 'eu-big', 'sa-quiet served nothing: the next candidate');
    // Poisson traffic over 10 s: wide bounds around 20 req/s at 5 % and 4,000 req/s at 0.5 %.
    assert.ok(small.here!.requestsPerSecond > 12 && small.here!.requestsPerSecond < 30, JSON.stringify(small.here));
    assert.ok(small.here!.errorRatio > 0.004 && small.here!.errorRatio < 0.12, JSON.stringify(small.here));
    assert.ok(small.control!.requestsPerSecond > 3000 && small.control!.requestsPerSecond < 5000, JSON.stringify(small.control));
    assert.equal(small.enough, false, JSON.stringify(small));
    assert.ok(small.detectableRatio! > 1.5, JSON.stringify(small));
    assert.ok(small.neededSoakMs! > small.soakMs && small.neededSoakMs! < 30 * 60_000, JSON.stringify(small));

    assert.equal(big.problem, undefined, big.problem);
    assert.equal(big.control?.region, 'us-big');
    assert.equal(big.enough, true, JSON.stringify(big));
    assert.ok(big.detectableRatio! < 1.5 && big.neededSoakMs! <= big.soakMs, JSON.stringify(big));
  });

  test('a Prometheus that does not answer: a problem for every check, never enough', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const power = await soakPower(normalized(dead), { history: HISTORY_MS, timeoutMs: 2000 });
    assert.equal(power.length, 2);
    for (const p of power) {
      assert.equal(p.enough, false);
      assert.equal(p.detectableRatio, undefined);
      assert.match(p.problem ?? '', new RegExp(`Prometheus at ${dead} is unreachable: .*ECONNREFUSED`));
    }
  });

  test('the command: the power lines after the preview, a comparison-power warning, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrcd-power-'));
    try {
      const file = join(dir, 'plan.json');
      writeFileSync(file, JSON.stringify(planDoc(prom.url)));
      // Asynchronously: the simulator in this process must go on ticking and being scraped.
      const r = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/mrcd.js'), 'plan', file, '--power', '--history', '10s'], { cwd: ROOT });
      const ratio = String.raw`\d+(\.\d+)?×`;
      const rate = String.raw`[\d.,]+ req/s at [\d.]+ %`;
      assert.match(
        r.stdout,
        new RegExp(
          String.raw`\n {2}warning regions\[0\]\.gate\.checks\[0\]: ap-small vs-control: its 10s soak can tell ${ratio}, not the target 1\.5×: too little traffic, needs ≈ \d+[ms]( \d+s)? \(maxSoak 20s\) \[comparison-power\]\n`,
        ),
      );
      assert.doesNotMatch(r.stdout, /regions\[1\][^\n]*comparison-power/);
      assert.match(
        r.stdout,
        new RegExp(
          String.raw`\nap-small vs-control: its 10s soak can tell ${ratio} \(control eu-big: ${rate} here, ${rate} there, over the last 10s\); target 1\.5×: too little`,
        ),
      );
      assert.match(r.stdout, /\neu-big vs-control: its 30s soak can tell 1\.\d\d× \(control us-big: .*\); target 1\.5×: enough \(≈ \d+s would do\)$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("soakPower reads Prometheus' envelope with care (stub answers)", () => {
  const answer = (body: unknown, status = 200) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;
  const vector = (values: string[], warnings?: string[]) => ({
    status: 'success',
    data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1, v] })) },
    ...(warnings ? { warnings } : {}),
  });
  const plan = () => normalized('http://prometheus.invalid:9090');
  const first = async (f: typeof fetch, env: NodeJS.ProcessEnv = {}) => (await soakPower(plan(), { history: 60_000, fetch: f, env }))[0]!;

  test('NaN, two series, no series, an error envelope, a non-envelope: problems, never enough', async () => {
    const cases: [unknown, RegExp, number?][] = [
      [vector(['NaN']), /returned NaN, which is no count/],
      [vector(['1', '2']), /returned 2 series; aggregate it to one/],
      [vector([]), /requests query for ap-small returned no series/],
      [{ status: 'error', errorType: 'bad_data', error: 'parse error' }, /refused the query \(bad_data, HTTP 400\): parse error/, 400],
      [{ hello: 'world' }, /not Prometheus' API envelope/],
      [{ status: 'success', data: { resultType: 'matrix', result: [] } }, /answered a matrix, not an instant vector/],
    ];
    for (const [body, re, status] of cases) {
      const p = await first(answer(body, status));
      assert.equal(p.enough, false);
      assert.match(p.problem ?? '', re);
    }
  });

  test('warnings are said; a tokenEnv not set is a problem before any query; the token is sent when set', async () => {
    const warned = await first(answer(vector(['600'], ['remote read failed'])));
    assert.deepEqual(warned.warnings?.slice(0, 1), ['ap-small requests: remote read failed']);
    const doc = planDoc('http://prometheus.invalid:9090');
    (doc.prometheus as Record<string, string>).tokenEnv = 'PROM_TOKEN';
    const r = validatePlan(doc);
    assert.ok(r.ok);
    let asked = 0;
    const seen: string[] = [];
    const counting = (async (_url: string, init: RequestInit) => {
      asked++;
      seen.push(new Headers(init.headers).get('authorization') ?? '');
      return new Response(JSON.stringify(vector(['600'])));
    }) as unknown as typeof fetch;
    const [unset] = await soakPower(r.plan, { history: 60_000, fetch: counting, env: {} });
    assert.match(unset!.problem ?? '', /\$PROM_TOKEN is not set/);
    assert.equal(asked, 0);
    await soakPower(r.plan, { history: 60_000, fetch: counting, env: { PROM_TOKEN: 's3cret' } });
    assert.ok(seen.length > 0 && seen.every((h) => h === 'Bearer s3cret'));
  });
});
