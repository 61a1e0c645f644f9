// Alerts as blockers, end to end with the real programs: a real Prometheus scrapes the
// region simulator and evaluates an error-ratio rule per region, a real Alertmanager routes
// the alert to the receiver of client/alert-receiver.ts (bearer token through a
// credentials_file, as docs/alert-blockers.md shows), and the receiver raises a blocker in
// the fleet policy that a rollout with the real activities consults; the simulator's
// ledger is the ground truth of what was deployed when. Then the receiver's edges: alerts
// without mrcd labels, bodies that are not Alertmanager's webhook, and a policy it cannot
// reach (a 503, which Alertmanager retries).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../../activities';
import { startAlertReceiver, type AlertReceiver, type AlertReceiverSummary } from '../../client/alert-receiver';
import { followRollout, getStatus, startRollout, type MrcdClient } from '../../client/rollouts';
import { showPolicy } from '../../client/policy';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { freePort } from '../../dev/ports';
import type { Freeze, PolicyState } from '../../domain/policy';
import type { RolloutStatus } from '../../domain/state';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager';
import { pollFor } from '../support/poll';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';
import { statusUntil, useTestServer } from '../support/rollout-harness';
import { simulatorPlan } from '../support/simulator-plan';

const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `alert-blockers-${process.pid}`;
const TOKEN = randomBytes(24).toString('hex');
const COOLDOWN_MS = 2_000;
// The fault: edge's newest release, so far in eu-west-1 only, starts failing there.
const EDGE_RELEASE = '1.0.1';
const RULE = {
  alert: 'RegionErrorRatioHigh',
  expr: 'sum by (region) (rate(mrcd_sim_requests_total{code="500"}[5s])) / sum by (region) (rate(mrcd_sim_requests_total[5s])) > 0.05',
  for: '0s',
  labels: { mrcd_region: '{{ $labels.region }}', severity: 'page' },
  annotations: { summary: '5xx above 5% of requests in {{ $labels.region }}' },
};
const ALERT_REASON = 'RegionErrorRatioHigh: 5xx above 5% of requests in eu-west-1';

let sim: Simulator;
let m: MrcdClient;
useTestServer({}, async (s) => {
  sim = await startSimulator({ regions: REGIONS, deployDelayMs: 100, initialVersions: { checkout: '1.9.0', edge: '1.0.0' } });
  sim.setVersion('edge', 'eu-west-1', EDGE_RELEASE);
  m = await s.serve(TASK_QUEUE, createActivities());
});

after(async () => {
  await sim?.close();
});

function plan(service: string, version: string) {
  // The first region soaks long enough for the alert to make its way while it does (~5 s).
  return simulatorPlan(sim.url, { service, version, soak: '1s', regions: REGIONS, region: (_, i) => (i === 0 ? { soak: '12s' } : {}) });
}

const waitFor = (service: string, ok: (s: RolloutStatus) => boolean, what: string, ms = 60_000) => statusUntil(m, service, ok, what, ms);
const deploys = (service: string) =>
  sim
    .ledger()
    .filter((e) => e.service === service && e.kind === 'deploy')
    .map((e) => ({ region: e.region, at: e.at }));
const policyUntil = (what: string, ok: (p: PolicyState) => boolean, timeoutMs = 30_000) => pollFor(what, () => showPolicy(m), ok, { timeoutMs, everyMs: 200 });

/** A notification as Alertmanager posts it (webhook version 4). */
function webhook(alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; fingerprint: string; summary?: string; endsAt?: string }[]) {
  return {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'direct',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.summary ? { summary: a.summary } : {},
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph',
      fingerprint: a.fingerprint,
    })),
  };
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('alerts raise and end blockers through the receiver', { timeout: 300_000 }, () => {
  let receiver: AlertReceiver;
  let alertmanager: RunningAlertmanager;
  let prometheus: RunningPrometheus;
  const received: string[] = [];

  before(async () => {
    receiver = await startAlertReceiver(m, { cooldownMs: COOLDOWN_MS, token: TOKEN, log: (line) => received.push(line) });
    alertmanager = await startAlertmanager({ webhookUrl: receiver.url, token: TOKEN });
    prometheus = await startPrometheus({
      scrapeTargets: [`127.0.0.1:${sim.port}`],
      scrapeIntervalSeconds: 1,
      alertmanagers: [alertmanager.target],
      ruleGroups: [{ name: 'mrcd-test', interval: '1s', rules: [RULE] }],
    });
    // Prometheus finds its scrape targets and Alertmanagers through discovery, which it
    // throttles to every 5 s: the alert's way is timed from when both are known.
    await waitForSeries(prometheus.url, 'rate(mrcd_sim_requests_total{region="eu-west-1"}[5s])', 30_000);
    await pollFor(
      'Prometheus knows the Alertmanager',
      async () => (await (await fetch(`${prometheus.url}/api/v1/alertmanagers`)).json()) as { data?: { activeAlertmanagers?: unknown[] } },
      (b) => (b.data?.activeAlertmanagers?.length ?? 0) > 0,
      { timeoutMs: 30_000, everyMs: 200 },
    );
  });

  after(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await receiver?.close();
  });

  test('an alert firing for eu-west-1 holds its deploy; resolved, the blocker ends after the cool-down and the rollout finishes', async () => {
    await startRollout(m, plan('checkout', '2.0.0'), { startedBy: 'ci' });
    await waitFor('checkout', (s) => s.regions[0]!.status === 'soaking', 'first region soaking');
    sim.markBad(EDGE_RELEASE, 'edge');

    // Prometheus → Alertmanager → receiver → policy, while the first region still soaks.
    const raised = await policyUntil('a blocker raised by the alert', (p) => p.freezes.some((f) => f.source === 'alert'));
    const blocker = raised.freezes.find((f) => f.source === 'alert')!;
    assert.deepEqual(blocker.scope, { regions: ['eu-west-1'] });
    assert.equal(blocker.reason, ALERT_REASON);
    assert.equal(blocker.by, 'alertmanager (mrcd)');
    assert.match(blocker.alert?.fingerprint ?? '', /^[0-9a-f]{16}$/, 'Alertmanager’s fingerprint of the alert');
    assert.equal(blocker.until, undefined, 'a firing alert holds until it resolves');
    const when = await getStatus(m, 'checkout');
    assert.equal(when.regions[1]!.deployedAt, undefined, 'the blocker came before the deploy it is to hold (else this test proves nothing)');

    const held = await waitFor('checkout', (s) => s.regions[1]!.status === 'blocked', 'eu-west-1 deploy blocked');
    assert.equal(held.state, 'running');
    assert.equal(held.regions[0]!.status, 'promoted', 'the region outside the scope was promoted');
    assert.deepEqual(
      held.regions[1]!.blockedBy?.map((b) => ({ kind: b.kind, id: b.id, reason: b.reason })),
      [{ kind: 'freeze', id: blocker.id, reason: ALERT_REASON }],
    );
    assert.match(held.regions[1]!.waitingFor ?? '', /its deploy: held by freeze F-\d+ \(RegionErrorRatioHigh: .*, by alertmanager \(mrcd\)\)/);
    // Still firing: nothing reaches eu-west-1.
    await delay(3_000);
    assert.equal((await getStatus(m, 'checkout')).regions[1]!.status, 'blocked');
    assert.deepEqual(
      deploys('checkout').map((d) => d.region),
      ['ap-southeast-2'],
      'no deploy to eu-west-1 while the alert fires',
    );

    sim.markGood(EDGE_RELEASE, 'edge');
    const resolved = await policyUntil(
      'the alert resolved',
      (p) => [...p.freezes, ...p.ended].some((f) => f.id === blocker.id && f.alert?.resolvedAt !== undefined),
      40_000,
    );
    const cooling = [...resolved.freezes, ...resolved.ended].find((f) => f.id === blocker.id)!;
    assert.equal(cooling.until, cooling.alert!.resolvedAt! + COOLDOWN_MS, 'the blocker ends a cool-down after the alert resolved');

    const done = await followRollout(m, 'checkout', () => {}, 200);
    assert.equal(done.status.state, 'succeeded', done.status.summary);
    assert.deepEqual(
      REGIONS.map((r) => sim.versionOf('checkout', r)),
      ['2.0.0', '2.0.0', '2.0.0'],
    );
    const ended: Freeze | undefined = (await showPolicy(m)).ended.find((f) => f.id === blocker.id);
    assert.ok(ended, 'the blocker ended');
    const eu = deploys('checkout').find((d) => d.region === 'eu-west-1')!;
    assert.ok(eu.at >= cooling.until! - 50, `eu-west-1 deployed at ${eu.at}, after the cool-down that ended at ${cooling.until}`);
    assert.ok((await showPolicy(m)).log.some((e) => e.action === 'expire' && e.detail === blocker.id));
    // The receiver heard it fire, then resolve (and the firing alone once: Alertmanager's repeat_interval is long).
    const heard = received.filter((l) => l.includes(ALERT_REASON)).map((l) => l.split(' ')[0]);
    assert.deepEqual(heard, ['firing', 'resolved'], received.join('\n'));
  });

  test('alerts without mrcd labels change nothing; comma-separated labels scope one blocker; a batch lands whole but for the one refused; a late firing one resolves', async () => {
    const before = await showPolicy(m);
    const plain = await post(
      receiver.url,
      webhook([{ status: 'firing', labels: { alertname: 'DiskFull', instance: 'db-1', region: 'eu-west-1' }, fingerprint: 'aaaa000000000001' }]),
    );
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.json, { sent: 0, ignored: 1, blockers: [] } satisfies AlertReceiverSummary);
    const after = await showPolicy(m);
    assert.deepEqual(after.freezes, before.freezes);
    assert.deepEqual(after.log, before.log, 'nothing reached the policy');

    const labels = { alertname: 'PaymentsDown', mrcd_service: 'search, cart', mrcd_team: 'payments', mrcd_region: '' };
    const fired = await post(
      receiver.url,
      webhook([
        { status: 'firing', labels, fingerprint: 'bbbb000000000002', summary: 'payments API failing' },
        { status: 'firing', labels: { alertname: 'Noise' }, fingerprint: 'cccc000000000003' },
      ]),
    );
    assert.equal(fired.status, 200, JSON.stringify(fired.json));
    const summary = fired.json as AlertReceiverSummary;
    assert.equal(summary.sent, 1);
    assert.equal(summary.ignored, 1);
    const id = summary.blockers[0]!.freeze!;
    const f = (await showPolicy(m)).freezes.find((x) => x.id === id)!;
    assert.deepEqual(f.scope, { services: ['search', 'cart'], teams: ['payments'] });
    assert.equal(f.reason, 'PaymentsDown: payments API failing');
    assert.equal(f.by, 'alertmanager (direct)');

    const resolved = await post(receiver.url, webhook([{ status: 'resolved', labels, fingerprint: 'bbbb000000000002' }]));
    assert.deepEqual((resolved.json as AlertReceiverSummary).blockers, [{ fingerprint: 'bbbb000000000002', status: 'resolved', freeze: id }]);
    const ending = (await showPolicy(m)).freezes.find((x) => x.id === id)!;
    assert.equal(ending.until, ending.alert!.resolvedAt! + COOLDOWN_MS);

    // A batch as an incident makes it, with one alert the policy cannot take (a name past its
    // 200 characters): the others land, and the answer is a 422 naming the one refused.
    const batch = Array.from({ length: 20 }, (_, i) => ({
      status: 'firing' as const,
      labels: { alertname: 'Batch', mrcd_service: `batch-${i}` },
      fingerprint: `9999${String(i).padStart(12, '0')}`,
    }));
    const tooLong = { status: 'firing' as const, labels: { alertname: 'Batch', mrcd_service: 'x'.repeat(201) }, fingerprint: '8888000000000000' };
    const many = await post(receiver.url, webhook([...batch, tooLong]));
    assert.equal(many.status, 422, JSON.stringify(many.json));
    const manySummary = many.json as AlertReceiverSummary;
    assert.equal(manySummary.sent, 20);
    assert.deepEqual(manySummary.refused, [{ fingerprint: '8888000000000000', problem: 'scope.services[0]: at most 200 characters (got 201)' }]);
    const open = (await showPolicy(m)).freezes.filter((x) => x.reason === 'Batch' && x.source === 'alert');
    assert.deepEqual(open.map((x) => x.scope.services![0]).sort(), batch.map((b) => b.labels.mrcd_service).sort());
    const ended = await post(receiver.url, webhook(batch.map((b) => ({ ...b, status: 'resolved' as const }))));
    assert.equal(ended.status, 200);
    assert.ok((ended.json as AlertReceiverSummary).blockers.every((b) => b.status === 'resolved' && b.freeze !== null));

    // A firing notification whose endsAt has passed arrives late (a retry): it must not raise a blocker.
    const late = await post(
      receiver.url,
      webhook([
        {
          status: 'firing',
          labels: { alertname: 'Late', mrcd_region: 'us-east-1' },
          fingerprint: 'dddd000000000004',
          endsAt: new Date(Date.now() - 5_000).toISOString(),
        },
      ]),
    );
    assert.deepEqual((late.json as AlertReceiverSummary).blockers, [{ fingerprint: 'dddd000000000004', status: 'resolved', freeze: null }]);
    assert.equal((await showPolicy(m)).freezes.filter((x) => x.alert?.fingerprint === 'dddd000000000004').length, 0);
  });

  test('what is not Alertmanager’s webhook is refused: 400 for the body, 401 without the token, 404/405/413', async () => {
    const log = (await showPolicy(m)).log.length;
    const bad: [unknown, RegExp][] = [
      ['{"alerts": [', /^body: not JSON/],
      [[1, 2], /^body: must be Alertmanager's webhook JSON/],
      [{ version: '4' }, /^alerts: must be a list/],
      [{ version: '3', alerts: [] }, /^version: "3" is not Alertmanager's webhook version "4"/],
      [{ alerts: [{ status: 'pending', labels: {}, fingerprint: 'x' }] }, /^alerts\[0\]\.status: must be firing or resolved/],
      [{ alerts: [{ status: 'firing', labels: { mrcd_region: 7 }, fingerprint: 'x' }] }, /^alerts\[0\]\.labels: must be an object of strings/],
      [{ alerts: [{ status: 'firing', labels: { mrcd_region: 'eu-west-1' } }] }, /^alerts\[0\]\.fingerprint: must be a non-empty string/],
    ];
    for (const [body, message] of bad) {
      const r = await post(receiver.url, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match((r.json as { error: string }).error, message);
    }
    const firing = webhook([{ status: 'firing', labels: { alertname: 'X', mrcd_region: 'eu-west-1' }, fingerprint: 'eeee000000000005' }]);
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Record<string, string>[]) {
      const r = await post(receiver.url, firing, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
    assert.equal((await post(receiver.url.replace(/\/alertmanager$/, '/webhook'), firing)).status, 404);
    assert.equal((await fetch(receiver.url)).status, 405);
    assert.equal((await post(receiver.url, 'x'.repeat(1024 * 1024 + 1))).status, 413);
    assert.equal((await showPolicy(m)).log.length, log, 'nothing reached the policy');
  });

  test('a policy it cannot reach is a 503, which Alertmanager retries: Temporal gone, or no worker serving the policy', async () => {
    const firing = webhook([{ status: 'firing', labels: { alertname: 'X', mrcd_region: 'eu-west-1' }, fingerprint: 'ffff000000000006' }]);
    // Without the SDK's retries: they outlive the 503 by ~20 s (close() would wait them out).
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
    const gone: MrcdClient = { client: new Client({ connection }), taskQueue: TASK_QUEUE, close: () => connection.close() };
    const noWorker: MrcdClient = { client: m.client, taskQueue: `${TASK_QUEUE}-nobody`, close: async () => {} };
    for (const [what, client, why] of [
      ['Temporal gone', gone, /: Workflow Update failed \(14 UNAVAILABLE: .*ECONNREFUSED/],
      ['no worker', noWorker, /: no answer from the fleet policy within 1500 ms$/],
    ] as const) {
      const r = await startAlertReceiver(client, { timeoutMs: 1_500, token: TOKEN });
      try {
        const started = Date.now();
        const res = await post(r.url, firing);
        assert.equal(res.status, 503, `${what}: ${JSON.stringify(res.json)}`);
        assert.match((res.json as { error: string }).error, /^the fleet policy did not take the alerts \(Alertmanager retries\)/);
        assert.match((res.json as { error: string }).error, why);
        assert.ok(Date.now() - started < 10_000, `${what}: answered within Alertmanager's notification deadline`);
      } finally {
        await r.close();
      }
    }
    await gone.close();
    assert.equal((await showPolicy(m)).freezes.filter((f) => f.alert?.fingerprint === 'ffff000000000006').length, 0);
  });
});
