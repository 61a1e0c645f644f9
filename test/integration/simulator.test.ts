import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, PARTIAL_DEPLOY_ERROR, type Simulator, type SimulatorOptions } from '../../dev/simulator';
import { parseSimulatorArgs } from '../../dev/simulator-main';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function start(t: TestContext, opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({
    regions: ['r1', 'r2'],
    initialVersions: { api: 'v1' },
    deployDelayMs: 60,
    tickMs: 20,
    ...opts,
  });
  t.after(() => sim.close());
  return sim;
}

async function call(sim: Simulator, method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(sim.url + path, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    ...init,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // /metrics and injected plain-text errors are not JSON.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function waitForOp(sim: Simulator, region: string, operationId: string, init: RequestInit = {}): Promise<any> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const r = await call(sim, 'GET', `/regions/${region}/operations/${operationId}`, undefined, init);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.status !== 'in-progress') return r.body;
    if (Date.now() > deadline) assert.fail(`operation ${operationId} still in progress`);
    await sleep(10);
  }
}

async function deployAndWait(
  sim: Simulator,
  region: string,
  service: string,
  version: string,
  key: string,
  kind: 'deploy' | 'rollback' = 'deploy',
): Promise<any> {
  const r = await call(sim, 'POST', `/regions/${region}/${kind}`, { service, version, idempotencyKey: key });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return waitForOp(sim, region, r.body.operationId);
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*",?)*)\} (\S+)$/.exec(line);
    assert.ok(m, `not a valid exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of m[2]!.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

test('deploy: in progress, then the region runs the version and the ledger has exactly one entry', async (t) => {
  const sim = await start(t, { deployDelayMs: 150 });
  const r = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'k1' });
  assert.equal(r.status, 202);
  assert.equal(r.body.status, 'in-progress');
  assert.match(r.body.operationId, /\S/);

  const early = await call(sim, 'GET', `/regions/r1/operations/${r.body.operationId}`);
  assert.equal(early.body.status, 'in-progress');
  assert.equal(sim.versionOf('api', 'r1'), 'v1', 'the effect lands at completion, not at acceptance');
  assert.deepEqual(sim.ledger(), []);

  const op = await waitForOp(sim, 'r1', r.body.operationId);
  assert.deepEqual(
    { ...op },
    { operationId: r.body.operationId, kind: 'deploy', region: 'r1', service: 'api', version: 'v2', status: 'succeeded', previousVersion: 'v1' },
  );
  assert.equal(sim.versionOf('api', 'r1'), 'v2');
  assert.equal(sim.versionOf('api', 'r2'), 'v1', 'other regions are untouched');
  const status = await call(sim, 'GET', '/regions/r1/status?service=api');
  assert.deepEqual(status.body, { region: 'r1', service: 'api', version: 'v2', previousVersion: 'v1' });

  const ledger = sim.ledger();
  assert.equal(ledger.length, 1);
  assert.deepEqual(
    { ...ledger[0], at: 0 },
    { seq: 1, at: 0, region: 'r1', service: 'api', kind: 'deploy', version: 'v2', fromVersion: 'v1', idempotencyKey: 'k1' },
  );
  const viaHttp = await call(sim, 'GET', '/_sim/ledger');
  assert.deepEqual(viaHttp.body, ledger);
});

test('deploy: the same idempotency key returns the same operation, with no second effect', async (t) => {
  const sim = await start(t, { deployDelayMs: 150 });
  const body = { service: 'api', version: 'v2', idempotencyKey: 'same' };
  const first = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(first.status, 202);

  const during = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(during.status, 200);
  assert.equal(during.body.operationId, first.body.operationId);
  assert.equal(during.body.status, 'in-progress');

  await waitForOp(sim, 'r1', first.body.operationId);
  const after = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(after.status, 200);
  assert.equal(after.body.operationId, first.body.operationId);
  assert.equal(after.body.status, 'succeeded');
  await sleep(200);
  assert.equal(sim.ledger().length, 1, 'replays must not add effects');

  // The key is scoped to the region: r2 gets its own operation.
  const other = await deployAndWait(sim, 'r2', 'api', 'v2', 'same');
  assert.notEqual(other.operationId, first.body.operationId);

  // A new key for the version already running still takes effect and is recorded.
  const again = await deployAndWait(sim, 'r1', 'api', 'v2', 'fresh');
  assert.equal(again.status, 'succeeded');
  assert.deepEqual(
    sim.ledger().map((e) => [e.region, e.kind, e.version, e.idempotencyKey]),
    [
      ['r1', 'deploy', 'v2', 'same'],
      ['r2', 'deploy', 'v2', 'same'],
      ['r1', 'deploy', 'v2', 'fresh'],
    ],
  );

  const conflict = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v3', idempotencyKey: 'same' });
  assert.equal(conflict.status, 409);
  assert.match(conflict.body.error, /idempotencyKey "same"/);
});

test('rollback restores the previous version; a second rollback is a no-op', async (t) => {
  const sim = await start(t);
  await deployAndWait(sim, 'r1', 'api', 'v2', 'd1');
  await deployAndWait(sim, 'r1', 'api', 'v3', 'd2');

  const rb = await call(sim, 'POST', '/regions/r1/rollback', { service: 'api', version: 'v3', idempotencyKey: 'rb1' });
  assert.equal(rb.status, 202);
  assert.equal(rb.body.status, 'in-progress');
  const op = await waitForOp(sim, 'r1', rb.body.operationId);
  assert.equal(op.kind, 'rollback');
  assert.equal(op.status, 'succeeded');
  assert.equal(sim.versionOf('api', 'r1'), 'v2');
  assert.deepEqual((await call(sim, 'GET', '/regions/r1/status?service=api')).body, { region: 'r1', service: 'api', version: 'v2', previousVersion: 'v1' });
  const last = sim.ledger().at(-1)!;
  assert.deepEqual([last.kind, last.version, last.fromVersion, last.idempotencyKey], ['rollback', 'v2', 'v3', 'rb1']);
  assert.equal(sim.ledger().length, 3);

  const replay = await call(sim, 'POST', '/regions/r1/rollback', { service: 'api', version: 'v3', idempotencyKey: 'rb1' });
  assert.equal(replay.status, 200);
  assert.equal(replay.body.operationId, rb.body.operationId);

  const second = await deployAndWait(sim, 'r1', 'api', 'v3', 'rb2', 'rollback');
  assert.equal(second.status, 'succeeded');
  assert.equal(sim.versionOf('api', 'r1'), 'v2', 'a rollback of a version no longer running changes nothing');
  assert.equal(sim.ledger().length, 3, 'a no-op rollback leaves no ledger entry');

  // Rolling back the first deploy of a service empties the region.
  await deployAndWait(sim, 'r2', 'worker', 'w1', 'd3');
  await deployAndWait(sim, 'r2', 'worker', 'w1', 'rb3', 'rollback');
  assert.equal(sim.versionOf('worker', 'r2'), undefined);
  assert.deepEqual((await call(sim, 'GET', '/regions/r2/status?service=worker')).body, {
    region: 'r2',
    service: 'worker',
    version: null,
    previousVersion: null,
  });
  assert.deepEqual(
    { ...sim.ledger().at(-1)!, at: 0, seq: 0 },
    { seq: 0, at: 0, region: 'r2', service: 'worker', kind: 'rollback', version: '', fromVersion: 'w1', idempotencyKey: 'rb3' },
  );

  // The simulator knows nothing before an initial version, so it refuses to invent one.
  const noPast = await deployAndWait(sim, 'r2', 'api', 'v1', 'rb4', 'rollback');
  assert.equal(noPast.status, 'failed');
  assert.match(noPast.error, /no version before "v1"/);
  assert.equal(sim.versionOf('api', 'r2'), 'v1');
});

test('a bad version shows its error ratio in /health and /metrics; marking it good stops the errors', async (t) => {
  const sim = await start(t, { initialVersions: {} });
  // Marked before any traffic so the window holds only this version's requests.
  assert.equal((await call(sim, 'POST', '/_sim/bad', { version: 'v2', service: 'api' })).status, 200);
  await deployAndWait(sim, 'r1', 'api', 'v2', 'a');
  await deployAndWait(sim, 'r1', 'web', 'v2', 'b');
  await sleep(150);

  const api = await call(sim, 'GET', '/health/r1?service=api');
  assert.equal(api.status, 200);
  assert.equal(api.body.region, 'r1');
  assert.equal(api.body.service, 'api');
  assert.equal(api.body.version, 'v2');
  assert.ok(api.body.requests >= 60, `requests ${api.body.requests}`);
  assert.equal(api.body.requests % 20, 0);
  assert.equal(api.body.errors, (api.body.requests / 20) * 6);
  assert.equal(api.body.errorRatio, 0.3);

  const web = await call(sim, 'GET', '/health/r1?service=web');
  assert.ok(web.body.requests > 0);
  assert.equal(web.body.errors, 0, 'the bad mark is scoped to the api service');
  assert.equal(web.body.errorRatio, 0);

  const idle = await call(sim, 'GET', '/health/r2?service=api');
  assert.deepEqual(idle.body, { region: 'r2', service: 'api', version: null, requests: 0, errors: 0, errorRatio: null });

  const metrics = await call(sim, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(metrics.body, /^# HELP mrcd_sim_requests_total .+$/m);
  assert.match(metrics.body, /^# TYPE mrcd_sim_requests_total counter$/m);
  assert.match(metrics.body, /^# TYPE mrcd_sim_region_version_info gauge$/m);
  const samples = parseMetrics(metrics.body);
  const ok = find(samples, 'mrcd_sim_requests_total', { service: 'api', region: 'r1', version: 'v2', code: '200' });
  const err = find(samples, 'mrcd_sim_requests_total', { service: 'api', region: 'r1', version: 'v2', code: '500' });
  assert.ok(ok && err, metrics.body);
  assert.ok(err.value > 0);
  assert.equal(err.value / (ok.value + err.value), 0.3);
  assert.equal(find(samples, 'mrcd_sim_requests_total', { service: 'web', region: 'r1', code: '500' })?.value, 0);
  assert.equal(find(samples, 'mrcd_sim_region_version_info', { service: 'api', region: 'r1', version: 'v2' })?.value, 1);
  assert.equal(find(samples, 'mrcd_sim_requests_total', { region: 'r2' }), undefined, 'r2 runs nothing');

  assert.equal((await call(sim, 'POST', '/_sim/good', { version: 'v2' })).status, 200);
  const before = (await call(sim, 'GET', '/health/r1?service=api')).body;
  await sleep(100);
  const afterGood = (await call(sim, 'GET', '/health/r1?service=api')).body;
  assert.ok(afterGood.requests > before.requests);
  assert.equal(afterGood.errors, before.errors, 'no new errors once the version is good');
});

test('metrics: counters of a version that stopped running keep their value; label values are escaped', async (t) => {
  const odd = 'we"ird\\svc\nx';
  const sim = await start(t, { initialVersions: { api: 'v1', [odd]: 'o1' } });
  await sleep(80);
  const before = find(parseMetrics((await call(sim, 'GET', '/metrics')).body), 'mrcd_sim_requests_total', {
    service: 'api',
    region: 'r1',
    version: 'v1',
    code: '200',
  });
  assert.ok(before && before.value > 0);

  await deployAndWait(sim, 'r1', 'api', 'v2', 'k');
  await sleep(80);
  const text = (await call(sim, 'GET', '/metrics')).body as string;
  const samples = parseMetrics(text);
  const v1 = find(samples, 'mrcd_sim_requests_total', { service: 'api', region: 'r1', version: 'v1', code: '200' });
  assert.ok(v1 && v1.value >= before.value, 'counters never go down');
  await sleep(80);
  const v1Later = find(parseMetrics((await call(sim, 'GET', '/metrics')).body), 'mrcd_sim_requests_total', {
    service: 'api',
    region: 'r1',
    version: 'v1',
    code: '200',
  });
  assert.equal(v1Later?.value, v1.value, 'a version that stopped running stops counting');
  assert.ok((find(samples, 'mrcd_sim_requests_total', { service: 'api', region: 'r1', version: 'v2', code: '200' })?.value ?? 0) > 0);
  assert.equal(find(samples, 'mrcd_sim_region_version_info', { service: 'api', region: 'r1', version: 'v1' }), undefined);
  assert.ok(find(samples, 'mrcd_sim_region_version_info', { service: 'api', region: 'r1', version: 'v2' }));

  assert.ok(text.includes('service="we\\"ird\\\\svc\\nx"'), text);
  assert.ok(find(samples, 'mrcd_sim_region_version_info', { service: odd, region: 'r2', version: 'o1' }));
});

test('fault: latencyMs delays API responses of its region only', async (t) => {
  const sim = await start(t);
  assert.equal((await call(sim, 'POST', '/_sim/faults', { region: 'r1', latencyMs: 300 })).status, 200);
  let t0 = performance.now();
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200);
  const slow = performance.now() - t0;
  t0 = performance.now();
  assert.equal((await call(sim, 'GET', '/regions/r2/status?service=api')).status, 200);
  const fast = performance.now() - t0;
  assert.ok(slow >= 280, `r1 answered in ${slow}ms`);
  assert.ok(fast < 200, `r2 answered in ${fast}ms`);
  t0 = performance.now();
  await call(sim, 'GET', '/metrics');
  assert.ok(performance.now() - t0 < 200, '/metrics is not an API call');
});

test('fault: errorRate5xx answers 503 injected; faults merge and clear per region', async (t) => {
  const sim = await start(t);
  await call(sim, 'POST', '/_sim/faults', { region: 'r1', errorRate5xx: 1 });
  const r = await call(sim, 'GET', '/regions/r1/status?service=api');
  assert.equal(r.status, 503);
  assert.deepEqual(r.body, { error: 'injected' });
  assert.equal((await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'x' })).status, 503);
  assert.equal((await call(sim, 'GET', '/health/r1?service=api')).status, 503);
  assert.equal((await call(sim, 'GET', '/regions/r2/status?service=api')).status, 200);

  sim.setFaults({});
  sim.setFaults({ region: 'r1' });
  sim.setFaults({ region: 'r1', latencyMs: 0 });
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 503, 'setting other fields keeps the rate');

  sim.setFaults({ region: 'r1', errorRate5xx: 0.5 });
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await call(sim, 'GET', '/regions/r1/status?service=api')).status);
  assert.deepEqual(codes, [200, 503, 200, 503]);

  assert.equal((await call(sim, 'DELETE', '/_sim/faults?region=r1')).status, 200);
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200);

  // A global fault reaches every region; a region's own setting overrides it.
  sim.setFaults({ errorRate5xx: 1 });
  sim.setFaults({ region: 'r2', errorRate5xx: 0 });
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 503);
  assert.equal((await call(sim, 'GET', '/regions/r2/status?service=api')).status, 200);
  sim.clearFaults();
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200);
  assert.deepEqual(sim.ledger(), []);
});

test('fault: status429 answers the next N deploy/rollback calls with Retry-After, then lets them through', async (t) => {
  const sim = await start(t);
  sim.setFaults({ region: 'r1', status429: { retryAfterSeconds: 7, count: 2 } });
  const body = { service: 'api', version: 'v2', idempotencyKey: 'k' };
  for (let i = 0; i < 2; i++) {
    const r = await call(sim, 'POST', '/regions/r1/deploy', body);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    // Reads do not use up the budget.
    assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200);
  }
  const ok = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(ok.status, 202, 'the rejected calls created no operation for the key');
  await waitForOp(sim, 'r1', ok.body.operationId);
  assert.equal(sim.ledger().length, 1);
  assert.equal(sim.versionOf('api', 'r1'), 'v2');
});

test('fault: hang never answers until cleared; an abandoned call has no effect', async (t) => {
  const sim = await start(t);
  sim.setFaults({ region: 'r1', hang: true });
  const body = { service: 'api', version: 'v2', idempotencyKey: 'h1' };
  await assert.rejects(call(sim, 'POST', '/regions/r1/deploy', body, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
  assert.equal((await call(sim, 'GET', '/regions/r2/status?service=api')).status, 200);

  let settled = false;
  const pending = call(sim, 'GET', '/regions/r1/status?service=api', undefined, { signal: AbortSignal.timeout(5000) }).finally(() => {
    settled = true;
  });
  await sleep(100);
  assert.equal(settled, false);
  sim.clearFaults('r1');
  assert.equal((await pending).status, 200, 'a hung call goes on once the fault is cleared');

  const retry = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(retry.status, 202, 'the call the client gave up on never reached the service');
});

test('close() ends hung calls instead of waiting for them', async (t) => {
  const sim = await start(t);
  sim.setFaults({ hang: true });
  const pending = fetch(`${sim.url}/regions/r1/status?service=api`);
  pending.catch(() => undefined);
  await sleep(50);
  const t0 = performance.now();
  await sim.close();
  assert.ok(performance.now() - t0 < 1000);
  await assert.rejects(pending);
  await assert.rejects(fetch(`${sim.url}/metrics`), 'the server no longer listens');
});

test('fault: drop destroys the socket without a response', async (t) => {
  const sim = await start(t);
  sim.setFaults({ drop: true });
  await assert.rejects(call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'd' }), TypeError);
  await assert.rejects(call(sim, 'GET', '/regions/r2/status?service=api'), TypeError);
  assert.equal((await call(sim, 'GET', '/_sim/ledger')).status, 200, 'the control plane is never faulted');
  sim.clearFaults();
  const r = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'd' });
  assert.equal(r.status, 202, 'the dropped call had no effect');
});

test('fault: metricsOutage takes /metrics down (globally, or a region via /metrics/:region)', async (t) => {
  const sim = await start(t);
  await sleep(60);
  sim.setFaults({ metricsOutage: true });
  assert.equal((await call(sim, 'GET', '/metrics')).status, 503);
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200, 'the API stays up');
  sim.clearFaults();

  sim.setFaults({ region: 'r1', metricsOutage: true });
  const all = await call(sim, 'GET', '/metrics');
  assert.equal(all.status, 200);
  const samples = parseMetrics(all.body);
  assert.equal(find(samples, 'mrcd_sim_requests_total', { region: 'r1' }), undefined, 'r1 series vanish from the shared page');
  assert.ok(find(samples, 'mrcd_sim_requests_total', { region: 'r2' }));
  assert.equal((await call(sim, 'GET', '/metrics/r1')).status, 503);
  const r2 = await call(sim, 'GET', '/metrics/r2');
  assert.equal(r2.status, 200);
  assert.ok(parseMetrics(r2.body).every((s) => s.labels.region === 'r2'));
});

test('fault: partialDeploy fails the operation and leaves the version alone', async (t) => {
  const sim = await start(t);
  sim.setFaults({ region: 'r1', partialDeploy: true });
  const op = await deployAndWait(sim, 'r1', 'api', 'v2', 'p');
  assert.equal(op.status, 'failed');
  assert.equal(op.error, PARTIAL_DEPLOY_ERROR);
  assert.equal(op.error, 'partial deploy: 2/5 hosts updated');
  assert.equal(sim.versionOf('api', 'r1'), 'v1');
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).body.version, 'v1');
  assert.deepEqual(sim.ledger(), []);

  const replay = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'p' });
  assert.equal(replay.body.status, 'failed', 'a failed operation stays failed for its key');
  assert.equal((await deployAndWait(sim, 'r2', 'api', 'v2', 'p')).status, 'succeeded');
});

test('fault: failRollback fails rollback operations', async (t) => {
  const sim = await start(t);
  await deployAndWait(sim, 'r1', 'api', 'v2', 'd');
  sim.setFaults({ failRollback: true });
  assert.equal((await deployAndWait(sim, 'r1', 'api', 'v3', 'd2')).status, 'succeeded', 'deploys are unaffected');
  const op = await deployAndWait(sim, 'r1', 'api', 'v3', 'rb', 'rollback');
  assert.equal(op.status, 'failed');
  assert.ok(op.error);
  assert.equal(sim.versionOf('api', 'r1'), 'v3');
  assert.deepEqual(
    sim.ledger().map((e) => e.kind),
    ['deploy', 'deploy'],
  );
});

test('requireToken: the region API needs the bearer token; metrics and control plane do not', async (t) => {
  const sim = await start(t, { requireToken: 's3cret' });
  const auth = { headers: { authorization: 'Bearer s3cret' } };
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 401);
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api', undefined, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await call(sim, 'GET', '/health/r1?service=api')).status, 401);
  assert.equal((await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'a' })).status, 401);
  assert.equal((await call(sim, 'GET', '/regions/r1/operations/op-1')).status, 401);
  assert.deepEqual(sim.ledger(), []);

  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api', undefined, auth)).status, 200);
  assert.equal((await call(sim, 'GET', '/health/r1?service=api', undefined, auth)).status, 200);
  const r = await fetch(`${sim.url}/regions/r1/deploy`, {
    method: 'POST',
    headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'api', version: 'v2', idempotencyKey: 'a' }),
  });
  assert.equal(r.status, 202);
  const { operationId } = (await r.json()) as { operationId: string };
  assert.equal((await waitForOp(sim, 'r1', operationId, auth)).status, 'succeeded');

  assert.equal((await call(sim, 'GET', '/metrics')).status, 200);
  assert.equal((await call(sim, 'GET', '/_sim/ledger')).status, 200);
});

test('errors: unknown region 404, unknown operation 404, bad bodies 400 naming the field', async (t) => {
  const sim = await start(t);
  const unknown = await call(sim, 'POST', '/regions/mars/deploy', { service: 'api', version: 'v2', idempotencyKey: 'k' });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { error: 'unknown region "mars"' });
  for (const path of ['/regions/mars/status?service=api', '/health/mars?service=api', '/regions/mars/operations/op-1', '/metrics/mars']) {
    const r = await call(sim, 'GET', path);
    assert.equal(r.status, 404, path);
    assert.equal(r.body.error, 'unknown region "mars"', path);
  }
  const rb = await call(sim, 'POST', '/regions/mars/rollback', { service: 'api', version: 'v2', idempotencyKey: 'k' });
  assert.equal(rb.status, 404);

  const op = await call(sim, 'GET', '/regions/r1/operations/nope');
  assert.equal(op.status, 404);
  assert.match(op.body.error, /unknown operation "nope"/);
  // An operation is only visible under its own region.
  const started = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'k' });
  assert.equal((await call(sim, 'GET', `/regions/r2/operations/${started.body.operationId}`)).status, 404);

  const malformed = await call(sim, 'POST', '/regions/r1/deploy', '{"service":');
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.error, /malformed JSON/);
  const notObject = await call(sim, 'POST', '/regions/r1/deploy', '[1]');
  assert.equal(notObject.status, 400);
  for (const field of ['service', 'version', 'idempotencyKey']) {
    const body: Record<string, unknown> = { service: 'api', version: 'v2', idempotencyKey: 'k2' };
    delete body[field];
    const r = await call(sim, 'POST', '/regions/r1/rollback', body);
    assert.equal(r.status, 400, field);
    assert.ok(r.body.error.includes(`"${field}"`), r.body.error);
  }
  const wrongType = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 2, idempotencyKey: 'k3' });
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.body.error, /"version"/);

  for (const path of ['/regions/r1/status', '/health/r1']) {
    const r = await call(sim, 'GET', path);
    assert.equal(r.status, 400, path);
    assert.match(r.body.error, /"service"/);
  }
  const badFault = await call(sim, 'POST', '/_sim/faults', { region: 'r1', hangs: true });
  assert.equal(badFault.status, 400);
  assert.match(badFault.body.error, /"hangs"/);
  assert.equal((await call(sim, 'POST', '/_sim/faults', { region: 'mars', hang: true })).status, 404);
  assert.equal((await call(sim, 'POST', '/_sim/bad', {})).status, 400);
  assert.equal((await call(sim, 'GET', '/regions/r1/deploy')).status, 405);
  assert.equal((await call(sim, 'GET', '/nowhere')).status, 404);
});

test('reset: initial versions, empty ledger, no faults, no bad marks, in-flight operations cancelled', async (t) => {
  const sim = await start(t, { deployDelayMs: 100 });
  await deployAndWait(sim, 'r1', 'api', 'v2', 'a');
  sim.markBad('v1');
  sim.setFaults({ region: 'r2', errorRate5xx: 1 });
  const inflight = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v3', idempotencyKey: 'b' });
  assert.equal(inflight.status, 202);
  assert.equal((await call(sim, 'POST', '/_sim/reset')).status, 200);
  await sleep(200);

  assert.equal(sim.versionOf('api', 'r1'), 'v1');
  assert.deepEqual(sim.ledger(), []);
  assert.equal((await call(sim, 'GET', '/regions/r2/status?service=api')).status, 200);
  const health = (await call(sim, 'GET', '/health/r1?service=api')).body;
  assert.ok(health.requests > 0);
  assert.equal(health.errors, 0, 'the bad mark is gone');
  const again = await call(sim, 'POST', '/regions/r1/deploy', { service: 'api', version: 'v2', idempotencyKey: 'a' });
  assert.equal(again.status, 202, 'idempotency keys are forgotten too');
  await waitForOp(sim, 'r1', again.body.operationId);
  assert.equal(sim.ledger()[0]?.seq, 1);
});

test('simulator-main parses flags over environment variables', () => {
  assert.deepEqual(parseSimulatorArgs(['--port', '0', '--regions', 'a, b,c'], { MRCD_SIM_REGIONS: 'x', MRCD_SIM_TOKEN: 't' }), {
    regions: ['a', 'b', 'c'],
    port: 0,
    requireToken: 't',
  });
  assert.deepEqual(parseSimulatorArgs([], { MRCD_SIM_REGIONS: 'x', MRCD_SIM_PORT: '8099', MRCD_SIM_INITIAL: 'api=v1,web=w=2' }), {
    regions: ['x'],
    port: 8099,
    initialVersions: { api: 'v1', web: 'w=2' },
  });
  assert.throws(() => parseSimulatorArgs(['--port', 'eighty'], {}), /--port/);
  assert.throws(() => parseSimulatorArgs(['--initial', 'api'], {}), /service=version/);
  assert.throws(() => parseSimulatorArgs(['--bogus'], {}));
});

test('fault: status4xx refuses the next N deploy/rollback calls with that status, then lets them through', async (t) => {
  const sim = await start(t);
  sim.setFaults({ region: 'r1', status4xx: { status: 409, count: 2 } });
  const body = { service: 'api', version: 'v2', idempotencyKey: 'k4' };
  const first = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(first.status, 409);
  assert.match(first.body.error, /injected HTTP 409/);
  // Reads do not use up the budget, and other regions are not refused.
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200);
  assert.equal((await call(sim, 'POST', '/regions/r2/deploy', { ...body, idempotencyKey: 'other' })).status, 202);
  assert.equal((await call(sim, 'POST', '/regions/r1/rollback', body)).status, 409, 'rollbacks are refused too');
  const ok = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(ok.status, 202, 'the refused calls created no operation for the key');
  await waitForOp(sim, 'r1', ok.body.operationId);
  assert.equal(sim.versionOf('api', 'r1'), 'v2');

  await call(sim, 'POST', '/_sim/faults', { status4xx: { status: 403, count: 1 } });
  assert.equal((await call(sim, 'POST', '/regions/r2/deploy', { ...body, idempotencyKey: 'k5' })).status, 403, 'a global setting reaches every region');
  assert.equal((await call(sim, 'POST', '/regions/r2/deploy', { ...body, idempotencyKey: 'k5' })).status, 202);

  for (const [bad, field] of [
    [{ status: 500, count: 1 }, 'status4xx.status'],
    [{ status: 404.5, count: 1 }, 'status4xx.status'],
    [{ status: 404 }, 'status4xx.count'],
    [{ status: 404, count: -1 }, 'status4xx.count'],
    [{ status: 404, count: 1, retryAfterSeconds: 2 }, 'status4xx.retryAfterSeconds'],
    [404, 'status4xx'],
    [[404, 1], 'status4xx'],
  ] as const) {
    const r = await call(sim, 'POST', '/_sim/faults', { region: 'r1', status4xx: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.ok(r.body.error.includes(`"${field}"`), `${JSON.stringify(bad)}: ${r.body.error}`);
  }
  assert.throws(() => sim.setFaults({ status4xx: { status: 302, count: 1 } }), /"status4xx.status"/);
});

test('fault: failRollback {times} fails the next N rollback operations, then rollbacks work; replays use up nothing', async (t) => {
  const sim = await start(t);
  await deployAndWait(sim, 'r1', 'api', 'v2', 'd');
  sim.setFaults({ region: 'r1', failRollback: { times: 2 } });
  const a = await deployAndWait(sim, 'r1', 'api', 'v2', 'rb1', 'rollback');
  assert.equal(a.status, 'failed');
  assert.match(a.error, /rollback failed/);
  const replay = await call(sim, 'POST', '/regions/r1/rollback', { service: 'api', version: 'v2', idempotencyKey: 'rb1' });
  assert.equal(replay.status, 200);
  assert.equal(replay.body.status, 'failed', 'the same key hands back the same failed operation');
  assert.equal((await deployAndWait(sim, 'r1', 'api', 'v2', 'rb2', 'rollback')).status, 'failed', 'the second of two fails too');
  assert.equal(sim.versionOf('api', 'r1'), 'v2');
  const third = await deployAndWait(sim, 'r1', 'api', 'v2', 'rb3', 'rollback');
  assert.equal(third.status, 'succeeded', 'the third rollback works: the fault is used up');
  assert.equal(sim.versionOf('api', 'r1'), 'v1');
  assert.deepEqual(
    sim.ledger().map((e) => [e.kind, e.version, e.idempotencyKey]),
    [
      ['deploy', 'v2', 'd'],
      ['rollback', 'v1', 'rb3'],
    ],
  );

  // A region's own `false` overrides a global count, which other regions still use up.
  await deployAndWait(sim, 'r1', 'api', 'v2', 'd2');
  await deployAndWait(sim, 'r2', 'api', 'v2', 'd3');
  await call(sim, 'POST', '/_sim/faults', { failRollback: { times: 1 } });
  sim.setFaults({ region: 'r1', failRollback: false });
  assert.equal((await deployAndWait(sim, 'r1', 'api', 'v2', 'rb4', 'rollback')).status, 'succeeded');
  assert.equal((await deployAndWait(sim, 'r2', 'api', 'v2', 'rb5', 'rollback')).status, 'failed');
  assert.equal((await deployAndWait(sim, 'r2', 'api', 'v2', 'rb6', 'rollback')).status, 'succeeded');

  for (const [bad, field] of [
    [{ times: 0 }, 'failRollback.times'],
    [{ times: 1.5 }, 'failRollback.times'],
    [{}, 'failRollback.times'],
    [{ times: 2, count: 1 }, 'failRollback.count'],
    ['yes', 'failRollback'],
    [2, 'failRollback'],
  ] as const) {
    const r = await call(sim, 'POST', '/_sim/faults', { failRollback: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.ok(r.body.error.includes(`"${field}"`), `${JSON.stringify(bad)}: ${r.body.error}`);
  }
});

test('fault: hangAfterAccept carries out the next N deploy/rollback calls without answering them', async (t) => {
  const sim = await start(t);
  sim.setFaults({ region: 'r1', hangAfterAccept: { count: 1 } });
  const body = { service: 'api', version: 'v2', idempotencyKey: 'lost' };
  // Reads are answered: only mutating calls lose their response.
  assert.equal((await call(sim, 'GET', '/regions/r1/status?service=api')).status, 200);
  await assert.rejects(call(sim, 'POST', '/regions/r1/deploy', body, { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
  const again = await call(sim, 'POST', '/regions/r1/deploy', body);
  assert.equal(again.status, 200, 'the unanswered call did start the operation: the same key finds it');
  assert.equal((await waitForOp(sim, 'r1', again.body.operationId)).status, 'succeeded');
  assert.equal(sim.versionOf('api', 'r1'), 'v2');
  assert.deepEqual(
    sim.ledger().map((e) => [e.region, e.kind, e.idempotencyKey]),
    [['r1', 'deploy', 'lost']],
  );

  // Refused calls (a 4xx from the handler) are answered and use up nothing.
  sim.setFaults({ hangAfterAccept: { count: 1 } });
  assert.equal((await call(sim, 'POST', '/regions/r2/deploy', { service: 'api', idempotencyKey: 'x' })).status, 400);
  const closing = call(sim, 'POST', '/regions/r2/rollback', { service: 'api', version: 'v1', idempotencyKey: 'rb' });
  closing.catch(() => undefined);
  await sleep(100);
  const t0 = performance.now();
  await sim.close();
  assert.ok(performance.now() - t0 < 1000, 'close() does not wait for unanswered calls');
  await assert.rejects(closing);

  for (const [bad, field] of [
    [{ count: -1 }, 'hangAfterAccept.count'],
    [{}, 'hangAfterAccept.count'],
    [{ count: 1, ms: 5 }, 'hangAfterAccept.ms'],
    [true, 'hangAfterAccept'],
  ] as const) {
    assert.throws(() => sim.setFaults({ hangAfterAccept: bad as never }), new RegExp(`"${field.replace('.', '\\.')}"`), JSON.stringify(bad));
  }
});
