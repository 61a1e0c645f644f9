// The deploy/rollback fault matrix end to end (issue 13 item 2). One dev server, one worker
// with the real activities, a Prometheus for the gates, and a region simulator per case so
// per-region faults cannot collide; every case is its own rollout of its own service, and
// all of them run at once. Each case checks the final status (state, halt cause, actions),
// the simulator's ledger (each intended deploy or rollback happened once, under the key the
// workflow gave it), the attempts Temporal recorded (ActivityTaskStarted's attempt and last
// failure, ActivityTaskFailed) and what the owner was told (the plan's webhook is the
// simulator's /_sim/notifications).
//
// What the product does, as these cases pin it down (activities/http-errors.ts, the deploy
// activities' retry policy in workflows/rollout/activities.ts, compensation.ts):
// - timeouts, 5xx, refused connections and 429 are retried by Temporal (8 attempts, 2 s
//   doubling to 1 min; a 429's Retry-After replaces the backoff); a retry re-attaches to the
//   operation (heartbeat, else the idempotency key), so a region is deployed once;
// - 4xx and an operation that ends `failed` (partial deploy, failed rollback) are not retried;
// - a rollback whose operation fails is not retried by Temporal either (the same key would
//   hand back the same failed operation): the rollout stops in rollback-failed, the owner is
//   told, and each operator retry is a new operation. A rollback call that meets a 5xx is
//   retried like any other call, without bothering anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import { act, getStatus, rolloutHandle, startRollout, waitForVerdict, type MrcdClient } from '../../client/rollouts';
import { PARTIAL_DEPLOY_ERROR, FAILED_ROLLBACK_ERROR, startSimulator, type LedgerEntry, type Simulator, type SimulatorOptions } from '../../dev/simulator';
import type { RolloutStatus } from '../../domain/state';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';
import { useTestServer } from '../support/rollout-harness';
import { pollUntil } from '../support/poll';

const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'] as const;
const [R0, R1, R2] = REGIONS;
const OLD = '1.0.0';
const NEW = '2.0.0';
const TASK_QUEUE = `deploy-faults-${process.pid}`;
const who = { reason: 'fault matrix', by: 'oncall' };

const CASES = [
  'timeout-hang',
  'timeout-lost-reply',
  'http-5xx',
  'http-429',
  'http-4xx',
  'refused',
  'slow',
  'partial-deploy',
  'rollback-5xx',
  'rollback-fails-twice',
  'rollback-fails',
] as const;
type CaseName = (typeof CASES)[number];
const serviceOf = (c: CaseName) => `f-${c}`;

const SIM_OPTIONS: Partial<Record<CaseName, Partial<SimulatorOptions>>> = {
  // Wide enough for the test to set the rollback's fault between the first promotion and the failure that rolls it back.
  'rollback-5xx': { deployDelayMs: 800 },
};
const simOptions = (c: CaseName): SimulatorOptions => ({
  regions: [...REGIONS],
  initialVersions: { [serviceOf(c)]: OLD },
  deployDelayMs: 100,
  tickMs: 200,
  ...SIM_OPTIONS[c],
});

const sims = new Map<CaseName, Simulator>();
let prom: RunningPrometheus | undefined;
let m: MrcdClient;
/** The port of the refused case's simulator, closed until the case brings it back. */
let refusedPort = 0;

useTestServer({}, async (server) => {
  const began = Date.now();
  for (const c of CASES) sims.set(c, await startSimulator(simOptions(c)));
  const refused = sims.get('refused')!;
  refusedPort = refused.port;
  await refused.close();
  prom = await startPrometheus({ scrapeTargets: [...sims.values()].map((s) => `127.0.0.1:${s.port}`), scrapeIntervalSeconds: 1 });
  // Every simulator that is up has been scraped before a gate can ask.
  await waitForSeries(prom.url, `count(count by (instance) (mrcd_sim_requests_total)) >= ${CASES.length - 1}`);
  m = await server.serve(TASK_QUEUE, createActivities());
  setupSeconds = (Date.now() - began) / 1000;
});

// Registered after the server's hooks, so it runs after them: the worker stops before the simulators.
test.after(async () => {
  for (const s of sims.values()) await s.close();
  await prom?.stop();
});

/** The gate: the region's error ratio from Prometheus. The versions here are good, so it passes unless evidence is missing. */
const ERROR_RATIO =
  'sum(mrcd_sim_requests_total{service="{{service}}",region="{{region}}",code="500"}) / sum(mrcd_sim_requests_total{service="{{service}}",region="{{region}}"})';

function plan(c: CaseName, deployer: { timeout?: string; baseUrl?: string } = {}, failurePolicy: 'halt' | 'rollback-all' = 'halt') {
  const sim = sims.get(c)!;
  const baseUrl = deployer.baseUrl ?? sim.url;
  return {
    service: serviceOf(c),
    version: NEW,
    owner: { team: 'payments', contact: '#payments-oncall', runbook: `https://runbooks.example.com/${serviceOf(c)}` },
    deployer: { type: 'http', baseUrl, pollInterval: '100ms', timeout: deployer.timeout ?? '5s' },
    prometheus: { url: prom!.url },
    failurePolicy,
    defaults: {
      soak: '1s',
      checkInterval: '500ms',
      gate: { maxInconclusive: 30, checks: [{ name: 'error-ratio', source: { type: 'prometheus', query: ERROR_RATIO }, comparator: '<', threshold: 0.05 }] },
    },
    // maxSoak: a gate that finds no evidence yet (a scrape not taken) extends the soak rather than halting the case.
    regions: REGIONS.map((name, i) => ({ name, size: (i + 1) * 10, maxSoak: '10s' })),
    notifications: [{ type: 'webhook', url: `${baseUrl}/_sim/notifications` }],
  };
}

// --- what Temporal recorded --------------------------------------------------------------

interface FailureView {
  type?: string;
  message: string;
  nonRetryable?: boolean;
}

/** One activity as its history tells it: the input, the last attempt, how it ended. */
interface ActivityRun {
  activityId: string;
  type: string;
  region?: string;
  key?: string;
  scheduledAt: number;
  /** The last attempt's start (the server writes one ActivityTaskStarted, for the last attempt). */
  startedAt?: number;
  endedAt?: number;
  attempt?: number;
  lastFailure?: FailureView;
  outcome: 'pending' | 'completed' | 'failed' | 'cancelled' | 'timed-out';
  failure?: FailureView;
}

function failureView(f: temporal.api.failure.v1.IFailure | null | undefined): FailureView | undefined {
  if (!f) return undefined;
  const app = f.applicationFailureInfo;
  return { message: f.message ?? '', ...(app?.type ? { type: app.type } : {}), ...(app ? { nonRetryable: !!app.nonRetryable } : {}) };
}

function activityRuns(events: temporal.api.history.v1.IHistoryEvent[]): ActivityRun[] {
  const byScheduled = new Map<string, ActivityRun>();
  for (const e of events) {
    const at = tsToMs(e.eventTime);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const payload = s.input?.payloads?.[0];
      const input = payload ? defaultPayloadConverter.fromPayload<{ region?: string; idempotencyKey?: string }>(payload) : {};
      byScheduled.set(String(e.eventId), {
        activityId: s.activityId ?? '',
        type: s.activityType?.name ?? '?',
        ...(input.region ? { region: input.region } : {}),
        ...(input.idempotencyKey ? { key: input.idempotencyKey } : {}),
        scheduledAt: at,
        outcome: 'pending',
      });
      continue;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const run = byScheduled.get(String(started.scheduledEventId))!;
      run.startedAt = at;
      run.attempt = started.attempt ?? 1;
      const last = failureView(started.lastFailure);
      if (last) run.lastFailure = last;
      continue;
    }
    const end =
      (e.activityTaskCompletedEventAttributes && { id: e.activityTaskCompletedEventAttributes.scheduledEventId, outcome: 'completed' as const }) ||
      (e.activityTaskFailedEventAttributes && {
        id: e.activityTaskFailedEventAttributes.scheduledEventId,
        outcome: 'failed' as const,
        failure: e.activityTaskFailedEventAttributes.failure,
      }) ||
      (e.activityTaskCanceledEventAttributes && { id: e.activityTaskCanceledEventAttributes.scheduledEventId, outcome: 'cancelled' as const }) ||
      (e.activityTaskTimedOutEventAttributes && {
        id: e.activityTaskTimedOutEventAttributes.scheduledEventId,
        outcome: 'timed-out' as const,
        failure: e.activityTaskTimedOutEventAttributes.failure,
      });
    if (end) {
      const run = byScheduled.get(String(end.id))!;
      run.outcome = end.outcome;
      run.endedAt = at;
      const f = failureView('failure' in end ? end.failure : undefined);
      if (f) run.failure = f;
    }
  }
  return [...byScheduled.values()];
}

const handleOf = (c: CaseName): WorkflowHandle => rolloutHandle(m, serviceOf(c));

async function runsOf(c: CaseName, type?: 'deployRegion' | 'rollbackRegion', region?: string): Promise<ActivityRun[]> {
  const runs = activityRuns((await handleOf(c).fetchHistory()).events ?? []);
  return runs.filter((r) => (type === undefined || r.type === type) && (region === undefined || r.region === region));
}

/** The one activity of this type for this region (asserted to be one). */
async function onlyRun(c: CaseName, type: 'deployRegion' | 'rollbackRegion', region: string): Promise<ActivityRun> {
  const runs = await runsOf(c, type, region);
  assert.equal(runs.length, 1, `${c}: one ${type} of ${region} scheduled, got ${runs.length}`);
  return runs[0]!;
}

/** A running activity's next attempt and the failure that made it, as the server reports while it is pending. */
interface Pending {
  attempt: number;
  lastFailure?: FailureView;
}

async function pendingOf(c: CaseName, type: 'deployRegion' | 'rollbackRegion', region: string): Promise<Pending | undefined> {
  const h = handleOf(c);
  const desc = await h.describe();
  const pending = desc.raw.pendingActivities ?? [];
  if (pending.length === 0) return undefined;
  const ids = new Set((await runsOf(c, type, region)).filter((r) => r.outcome === 'pending').map((r) => r.activityId));
  const p = pending.find((a) => ids.has(a.activityId ?? ''));
  if (!p) return undefined;
  const lastFailure = failureView(p.lastFailure);
  return { attempt: p.attempt ?? 1, ...(lastFailure ? { lastFailure } : {}) };
}

// A probe can fail while the rollout is not started or its plan not prepared yet: asked again.
const until = <T>(what: string, probe: () => Promise<T | undefined>, ms = 40_000, everyMs = 200): Promise<T> =>
  pollUntil(what, probe, { timeoutMs: ms, everyMs });

const statusWhen = (c: CaseName, ok: (s: RolloutStatus) => boolean, what: string) =>
  until(`${c}: ${what}`, async () => {
    const s = await getStatus(m, serviceOf(c));
    return s.regions.length > 0 && ok(s) ? s : undefined;
  });

const pendingWhen = (c: CaseName, type: 'deployRegion' | 'rollbackRegion', region: string, ok: (p: Pending) => boolean, what: string) =>
  until(`${c}: ${what}`, async () => {
    const p = await pendingOf(c, type, region);
    return p && ok(p) ? p : undefined;
  });

async function finalStatus(c: CaseName): Promise<RolloutStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${c}: the rollout did not end within 45 s`)), 45_000);
  });
  try {
    return (await Promise.race([waitForVerdict(handleOf(c)), timeout])).status;
  } finally {
    clearTimeout(timer);
  }
}

// --- what the simulator saw --------------------------------------------------------------

const ledgerOf = (c: CaseName, sim = sims.get(c)!) => sim.ledger().filter((e) => e.service === serviceOf(c));
const entries = (l: LedgerEntry[], kind: LedgerEntry['kind'], region?: string) =>
  l.filter((e) => e.kind === kind && (region === undefined || e.region === region));
const versions = (c: CaseName, sim = sims.get(c)!) => REGIONS.map((r) => sim.versionOf(serviceOf(c), r));

interface NotificationBody {
  kind: string;
  service: string;
  region?: string;
  message: string;
  runbook?: string;
  owner?: { team: string; runbook?: string };
}
const notificationsOf = (c: CaseName, sim = sims.get(c)!) => (sim.notifications() as NotificationBody[]).filter((n) => n.service === serviceOf(c));
const kinds = (ns: NotificationBody[]) => ns.map((n) => `${n.kind}${n.region ? `@${n.region}` : ''}`);

/** What the owner was told, as a sorted list, once it is `expected` (notifications are sent in the background). */
async function assertNotified(c: CaseName, expected: string[]): Promise<void> {
  const want = [...expected].sort();
  const got = await until(`${c}: notifications ${want.join(', ')}`, async () => {
    const k = kinds(notificationsOf(c)).sort();
    return k.length >= want.length ? k : undefined;
  }).catch(() => kinds(notificationsOf(c)).sort());
  assert.deepEqual(got, want);
}

/**
 * Every deploy and rollback in the ledger happened under a key the workflow scheduled, and
 * no key twice: a retried activity that re-sent its call reached the same operation.
 */
async function assertExactlyOnce(c: CaseName, sim = sims.get(c)!): Promise<void> {
  const ledger = ledgerOf(c, sim);
  const keys = ledger.map((e) => e.idempotencyKey);
  assert.equal(new Set(keys).size, keys.length, `${c}: a key in the ledger twice: ${keys.join(', ')}`);
  const runs = await runsOf(c);
  for (const e of ledger) {
    const type = e.kind === 'deploy' ? 'deployRegion' : 'rollbackRegion';
    const run = runs.find((r) => r.type === type && r.key === e.idempotencyKey);
    assert.ok(run, `${c}: ${e.kind} of ${e.region} under key ${e.idempotencyKey}, which no ${type} was given`);
    assert.equal(run.region, e.region, `${c}: key ${e.idempotencyKey}`);
  }
}

// --- the table ---------------------------------------------------------------------------

/** The attempts that were more than one, or failed: `eu-west-1 deploy ×2 (DeployTimeout)`. */
async function attemptsText(c: CaseName): Promise<string> {
  const runs = await runsOf(c);
  const parts = runs
    .filter((r) => (r.type === 'deployRegion' || r.type === 'rollbackRegion') && ((r.attempt ?? 1) > 1 || r.outcome === 'failed'))
    .map((r) => {
      const why = r.outcome === 'failed' ? r.failure?.type : r.lastFailure?.type;
      return `${r.region} ${r.type === 'deployRegion' ? 'deploy' : 'rollback'} ×${r.attempt ?? '?'}${r.outcome === 'failed' ? ' failed' : ''}${why ? ` (${why})` : ''}`;
    });
  return parts.length ? parts.join('; ') : 'every step first try';
}

/** A figure a case measured, for the table. */
const notes = new Map<CaseName, string>();
let setupSeconds = 0;

interface Row {
  name: CaseName;
  attempts: string;
  verdict: string;
  seconds: number;
  ok: boolean;
}

const CASE_BODIES: Record<CaseName, () => Promise<RolloutStatus>> = {
  // The deploy API hangs past the deployer's timeout (1 s per attempt), then recovers.
  async 'timeout-hang'() {
    const c = 'timeout-hang';
    const sim = sims.get(c)!;
    sim.setFaults({ region: R1, hang: true });
    await start(c, plan(c, { timeout: '1s' }));
    const p = await pendingWhen(
      c,
      'deployRegion',
      R1,
      (x) => x.attempt >= 2 && x.lastFailure?.type === 'DeployTimeout',
      'a timed-out deploy of eu-west-1 retried',
    );
    assert.match(p.lastFailure!.message, /no result within 1s/);
    sim.clearFaults(R1);
    const s = await finalStatus(c);
    assert.equal(s.state, 'succeeded', s.summary);
    const run = await onlyRun(c, 'deployRegion', R1);
    assert.equal(run.outcome, 'completed');
    assert.ok(run.attempt! >= 2, `attempt ${run.attempt}`);
    assert.equal(run.lastFailure?.type, 'DeployTimeout');
    for (const r of REGIONS) assert.equal(entries(ledgerOf(c), 'deploy', r).length, 1, `${r} deployed once`);
    assert.deepEqual(versions(c), [NEW, NEW, NEW]);
    return s;
  },

  // The deploy call is carried out but its answer never comes: the retry must find the same operation by its key.
  async 'timeout-lost-reply'() {
    const c = 'timeout-lost-reply';
    sims.get(c)!.setFaults({ region: R1, hangAfterAccept: { count: 1 } });
    await start(c, plan(c, { timeout: '1s' }));
    const s = await finalStatus(c);
    assert.equal(s.state, 'succeeded', s.summary);
    const run = await onlyRun(c, 'deployRegion', R1);
    assert.ok(run.attempt! >= 2, `attempt ${run.attempt}`);
    assert.equal(run.lastFailure?.type, 'DeployTimeout');
    const deploys = entries(ledgerOf(c), 'deploy', R1);
    assert.equal(deploys.length, 1, `eu-west-1 deployed once although its first call started an operation: ${JSON.stringify(deploys)}`);
    assert.equal(deploys[0]!.idempotencyKey, run.key);
    for (const r of [R0, R2]) assert.equal(entries(ledgerOf(c), 'deploy', r).length, 1);
    assert.deepEqual(versions(c), [NEW, NEW, NEW]);
    return s;
  },

  // Every second call to eu-west-1's deploy API answers 503. A retried attempt makes two calls
  // (the poll, then the status read that confirms the deploy): before the status read was
  // tried again within the attempt, each one failed at it until the retries ran out.
  async 'http-5xx'() {
    const c = 'http-5xx';
    sims.get(c)!.setFaults({ region: R1, errorRate5xx: 0.5 });
    await start(c, plan(c));
    const s = await finalStatus(c);
    assert.equal(s.state, 'succeeded', s.summary);
    const run = await onlyRun(c, 'deployRegion', R1);
    assert.ok(run.attempt! >= 2, `a deploy that met a 503 was retried (attempt ${run.attempt})`);
    assert.equal(run.lastFailure?.type, 'DeployUnavailable', JSON.stringify(run.lastFailure));
    assert.match(run.lastFailure!.message, /HTTP 503/);
    assert.deepEqual(
      ledgerOf(c).map((e) => [e.kind, e.region]),
      REGIONS.map((r) => ['deploy', r]),
      'one ledger entry per region',
    );
    return s;
  },

  // The deploy API rate-limits eu-west-1's deploy once with Retry-After: 4 (the backoff would retry after 2 s).
  async 'http-429'() {
    const c = 'http-429';
    sims.get(c)!.setFaults({ region: R1, status429: { retryAfterSeconds: 4, count: 1 } });
    await start(c, plan(c));
    const s = await finalStatus(c);
    assert.equal(s.state, 'succeeded', s.summary);
    const run = await onlyRun(c, 'deployRegion', R1);
    assert.equal(run.attempt, 2);
    assert.equal(run.lastFailure?.type, 'DeployThrottled');
    assert.match(run.lastFailure!.message, /HTTP 429/);
    const waited = run.startedAt! - run.scheduledAt;
    notes.set(c, `retry ${(waited / 1000).toFixed(1)} s after the first try`);
    assert.ok(waited >= 3950, `the retry came ${waited} ms after the first attempt was scheduled, before Retry-After's 4 s`);
    assert.equal(entries(ledgerOf(c), 'deploy', R1).length, 1);
    return s;
  },

  // eu-west-1's deploy API refuses the deploy (403): not retried, the rollout halts naming the status; abort rolls back.
  async 'http-4xx'() {
    const c = 'http-4xx';
    sims.get(c)!.setFaults({ region: R1, status4xx: { status: 403, count: 1 } });
    await start(c, plan(c));
    const halted = await statusWhen(c, (x) => x.state === 'halted', 'halted');
    assert.deepEqual({ kind: halted.halt?.cause?.kind, region: halted.halt?.cause?.region }, { kind: 'deploy-failed', region: R1 });
    assert.match(halted.halt?.cause?.detail ?? '', /HTTP 403/);
    assert.match(halted.halt?.reason ?? '', /HTTP 403/);
    assert.deepEqual(
      halted.regions.map((r) => r.status),
      ['promoted', 'rolled-back', 'pending'],
    );
    const run = await onlyRun(c, 'deployRegion', R1);
    assert.equal(run.outcome, 'failed');
    assert.equal(run.attempt, 1, 'a 4xx is not retried');
    assert.deepEqual({ type: run.failure?.type, nonRetryable: run.failure?.nonRetryable }, { type: 'DeployRejected', nonRetryable: true });
    assert.equal((await runsOf(c, 'deployRegion', R2)).length, 0, 'nothing deployed after the refused region');
    await assertNotified(c, ['started', `rollback@${R1}`, `halted@${R1}`]);
    await act(m, serviceOf(c), 'abort', who);
    const s = await finalStatus(c);
    assert.equal(s.state, 'aborted', s.summary);
    assert.deepEqual(
      ledgerOf(c).map((e) => [e.kind, e.region, e.version]),
      [
        ['deploy', R0, NEW],
        ['rollback', R0, OLD],
      ],
    );
    assert.deepEqual(versions(c), [OLD, OLD, OLD]);
    return s;
  },

  // Nothing listens where the deployer points until the test starts the simulator there.
  async refused() {
    const c = 'refused';
    const began = Date.now();
    await start(c, plan(c, { baseUrl: `http://127.0.0.1:${refusedPort}` }));
    const p = await pendingWhen(c, 'deployRegion', R0, (x) => x.attempt >= 2, 'a refused deploy retried');
    assert.equal(p.lastFailure?.type, 'DeployUnavailable');
    assert.match(p.lastFailure!.message, /ECONNREFUSED/);
    const sim = await startSimulator({ ...simOptions(c), port: refusedPort });
    notes.set(c, `deployer back after ${((Date.now() - began) / 1000).toFixed(1)} s`);
    sims.set(c, sim);
    const s = await finalStatus(c);
    assert.equal(s.state, 'succeeded', s.summary);
    const run = await onlyRun(c, 'deployRegion', R0);
    assert.ok(run.attempt! >= 2, `attempt ${run.attempt}`);
    assert.equal(run.lastFailure?.type, 'DeployUnavailable');
    assert.deepEqual(
      ledgerOf(c).map((e) => [e.kind, e.region]),
      REGIONS.map((r) => ['deploy', r]),
    );
    return s;
  },

  // Every API call takes 300 ms, well under the 10 s timeout: slow is not failed.
  async slow() {
    const c = 'slow';
    sims.get(c)!.setFaults({ latencyMs: 300 });
    await start(c, plan(c, { timeout: '10s' }));
    const s = await finalStatus(c);
    assert.equal(s.state, 'succeeded', s.summary);
    const deploys = await runsOf(c, 'deployRegion');
    assert.equal(deploys.length, 3);
    notes.set(c, `deploys took ${deploys.map((r) => ((r.endedAt! - r.startedAt!) / 1000).toFixed(1)).join(', ')} s`);
    for (const r of deploys) {
      assert.equal(r.attempt, 1, `${r.region}: first try`);
      // A start, a poll and a status read at least, each 300 ms late.
      assert.ok(r.endedAt! - r.startedAt! >= 900, `${r.region}'s deploy took ${r.endedAt! - r.startedAt!} ms: the latency was not there`);
    }
    assert.equal(ledgerOf(c).length, 3);
    return s;
  },

  // eu-west-1's deploy ends failed half done: not retried, rolled back, halted with the deployer's words.
  async 'partial-deploy'() {
    const c = 'partial-deploy';
    sims.get(c)!.setFaults({ region: R1, partialDeploy: true });
    await start(c, plan(c));
    const halted = await statusWhen(c, (x) => x.state === 'halted', 'halted');
    assert.deepEqual({ kind: halted.halt?.cause?.kind, region: halted.halt?.cause?.region }, { kind: 'deploy-failed', region: R1 });
    assert.ok(halted.halt?.cause?.detail?.includes(PARTIAL_DEPLOY_ERROR), halted.halt?.cause?.detail);
    assert.deepEqual(
      halted.regions.map((r) => r.status),
      ['promoted', 'rolled-back', 'pending'],
    );
    const run = await onlyRun(c, 'deployRegion', R1);
    assert.deepEqual(
      { attempt: run.attempt, type: run.failure?.type, nonRetryable: run.failure?.nonRetryable },
      { attempt: 1, type: 'DeployFailed', nonRetryable: true },
    );
    assert.equal((await onlyRun(c, 'rollbackRegion', R1)).outcome, 'completed', 'the failed region is rolled back');
    assert.equal((await runsOf(c, 'deployRegion', R2)).length, 0);
    await assertNotified(c, ['started', `rollback@${R1}`, `halted@${R1}`]);
    await act(m, serviceOf(c), 'abort', who);
    const s = await finalStatus(c);
    assert.equal(s.state, 'aborted', s.summary);
    assert.deepEqual(versions(c), [OLD, OLD, OLD]);
    return s;
  },

  // Policy rollback-all; ap-southeast-2's rollback call meets 503 twice, then the API is back: Temporal retries it, nobody is paged.
  async 'rollback-5xx'() {
    const c = 'rollback-5xx';
    const sim = sims.get(c)!;
    sim.setFaults({ region: R1, partialDeploy: true });
    await start(c, plan(c, {}, 'rollback-all'));
    await statusWhen(c, (x) => x.regions[0]!.status === 'promoted', 'ap-southeast-2 promoted');
    sim.setFaults({ region: R0, errorRate5xx: 1 });
    await pendingWhen(c, 'rollbackRegion', R0, (x) => x.attempt >= 3, 'the rollback of ap-southeast-2 failing twice');
    sim.clearFaults(R0);
    const s = await finalStatus(c);
    assert.equal(s.state, 'rolled-back', s.summary);
    assert.deepEqual({ kind: s.halt?.cause?.kind, region: s.halt?.cause?.region }, { kind: 'deploy-failed', region: R1 });
    const run = await onlyRun(c, 'rollbackRegion', R0);
    assert.equal(run.outcome, 'completed');
    assert.equal(run.attempt, 3);
    assert.equal(run.lastFailure?.type, 'DeployUnavailable');
    assert.match(run.lastFailure!.message, /HTTP 503/);
    // A rollback retried by Temporal pages nobody: no rollback-failed.
    await assertNotified(c, ['started', `rollback@${R1}`, `rolled-back@${R1}`]);
    assert.deepEqual(
      entries(ledgerOf(c), 'rollback').map((e) => [e.region, e.version]),
      [[R0, OLD]],
    );
    assert.deepEqual(versions(c), [OLD, OLD, OLD]);
    return s;
  },

  // Policy rollback-all; eu-west-1's rollback operation fails twice, then works: each failure is rollback-failed and an operator retry.
  async 'rollback-fails-twice'() {
    const c = 'rollback-fails-twice';
    const sim = sims.get(c)!;
    sim.setFaults({ region: R1, failRollback: { times: 2 } });
    sim.setFaults({ region: R2, partialDeploy: true });
    await start(c, plan(c, {}, 'rollback-all'));
    for (const n of [1, 2]) {
      const stuck = await statusWhen(c, (x) => x.state === 'rollback-failed' && x.regions[1]!.rollbackAttempts === n, `rollback-failed after rollback ${n}`);
      assert.deepEqual(stuck.halt?.cause, { kind: 'rollback-failed', region: R1 });
      assert.deepEqual(
        stuck.regions.map((r) => r.status),
        ['rolled-back', 'rollback-failed', 'rolled-back'],
      );
      // The owner is told of every failed rollback.
      await until(`${c}: rollback-failed notification ${n}`, async () =>
        notificationsOf(c).filter((x) => x.kind === 'rollback-failed').length === n ? true : undefined,
      );
      assert.ok(notificationsOf(c).every((x) => x.kind !== 'rollback-failed' || x.region === R1));
      assert.equal(sim.versionOf(serviceOf(c), R1), NEW);
      await act(m, serviceOf(c), 'retry', { reason: `retry ${n}`, by: 'oncall' });
    }
    const s = await finalStatus(c);
    assert.equal(s.state, 'rolled-back', s.summary);
    const rollbacks = await runsOf(c, 'rollbackRegion', R1);
    assert.deepEqual(
      rollbacks.map((r) => [r.attempt, r.outcome, r.failure?.type]),
      [
        [1, 'failed', 'DeployFailed'],
        [1, 'failed', 'DeployFailed'],
        [1, 'completed', undefined],
      ],
    );
    assert.ok(rollbacks[0]!.failure!.message.includes(FAILED_ROLLBACK_ERROR), rollbacks[0]!.failure!.message);
    assert.equal(new Set(rollbacks.map((r) => r.key)).size, 3, 'each rollback asked for is its own operation');
    assert.deepEqual(
      entries(ledgerOf(c), 'rollback').map((e) => [e.region, e.version]),
      // The first round rolled back ap-southeast-2 (eu-west-1 failed), the third eu-west-1.
      [
        [R0, OLD],
        [R1, OLD],
      ],
    );
    assert.deepEqual(versions(c), [OLD, OLD, OLD]);
    return s;
  },

  // An abort's rollback of ap-southeast-2 fails for good: rollback-failed, owner told with the runbook; a retry after the fix ends it.
  async 'rollback-fails'() {
    const c = 'rollback-fails';
    const sim = sims.get(c)!;
    sim.setFaults({ region: R0, failRollback: true });
    await start(c, plan(c));
    await statusWhen(c, (x) => x.regions[1]!.status === 'soaking', 'eu-west-1 soaking');
    await act(m, serviceOf(c), 'abort', who);
    const stuck = await statusWhen(c, (x) => x.state === 'rollback-failed', 'rollback-failed');
    assert.deepEqual(stuck.halt?.cause, { kind: 'rollback-failed', region: R0 });
    assert.match(stuck.halt?.reason ?? '', new RegExp(`rollback failed in ${R0}`));
    assert.deepEqual(
      stuck.regions.map((r) => r.status),
      ['rollback-failed', 'rolled-back', 'pending'],
    );
    const told = await until(`${c}: the owner told`, async () => notificationsOf(c).find((x) => x.kind === 'rollback-failed'));
    assert.equal(told.region, R0);
    assert.equal(told.runbook, 'docs/runbook.md#rollback-failed');
    assert.equal(told.owner?.runbook, `https://runbooks.example.com/${serviceOf(c)}`);
    assert.match(told.message, new RegExp(R0));
    assert.equal(sim.versionOf(serviceOf(c), R0), NEW, 'the region still runs the new version');

    // Retried while the deployer is still broken: stuck again, told again.
    await act(m, serviceOf(c), 'retry', { reason: 'try again', by: 'oncall' });
    await statusWhen(c, (x) => x.state === 'rollback-failed' && x.regions[0]!.rollbackAttempts === 2, 'rollback-failed again');
    await until(`${c}: told again`, async () => (notificationsOf(c).filter((x) => x.kind === 'rollback-failed').length === 2 ? true : undefined));

    sim.clearFaults(R0);
    const ack = await act(m, serviceOf(c), 'retry', { reason: 'deployer fixed', by: 'oncall' });
    assert.equal(ack.state, 'rolling-back');
    const s = await finalStatus(c);
    assert.equal(s.state, 'aborted', s.summary);
    assert.equal(sim.versionOf(serviceOf(c), R0), OLD, 'the old version is back');
    const rollbacks = await runsOf(c, 'rollbackRegion', R0);
    assert.deepEqual(
      rollbacks.map((r) => [r.attempt, r.outcome]),
      [
        [1, 'failed'],
        [1, 'failed'],
        [1, 'completed'],
      ],
    );
    assert.deepEqual(
      ledgerOf(c).map((e) => [e.kind, e.region, e.version]),
      [
        ['deploy', R0, NEW],
        ['deploy', R1, NEW],
        ['rollback', R1, OLD],
        ['rollback', R0, OLD],
      ],
    );
    return s;
  },
};

async function start(c: CaseName, doc: unknown): Promise<void> {
  await startRollout(m, doc, { startedBy: `deploy-faults ${c}` });
}

test('deploy/rollback fault matrix: every case its own rollout, all at once', { timeout: 70_000, concurrency: true }, async (t) => {
  const t0 = Date.now();
  const rows: Row[] = [];
  await Promise.allSettled(
    CASES.map((name) =>
      t.test(name, { timeout: 60_000 }, async () => {
        const began = Date.now();
        let verdict = 'error';
        let ok = false;
        try {
          const s = await CASE_BODIES[name]();
          verdict = `${s.state}${s.halt?.cause ? ` (${s.halt.cause.kind}${s.halt.cause.region ? ` ${s.halt.cause.region}` : ''})` : ''}`;
          await assertExactlyOnce(name);
          ok = true;
          if (notes.has(name)) verdict += `; ${notes.get(name)}`;
        } catch (e) {
          verdict = `FAILED: ${(e as Error).message.split('\n')[0]!.slice(0, 120)}`;
          throw e;
        } finally {
          rows.push({ name, attempts: await attemptsText(name).catch(() => '?'), verdict, seconds: (Date.now() - began) / 1000, ok });
        }
      }),
    ),
  );
  rows.sort((a, b) => CASES.indexOf(a.name) - CASES.indexOf(b.name));
  for (const r of rows)
    t.diagnostic(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(21)} ${r.seconds.toFixed(1).padStart(5)} s  ${r.verdict.padEnd(62)} ${r.attempts}`);
  t.diagnostic(
    `${CASES.length} rollouts at once in ${((Date.now() - t0) / 1000).toFixed(1)} s, after ${setupSeconds.toFixed(1)} s of setup (dev server, simulators, Prometheus, worker)`,
  );
});
