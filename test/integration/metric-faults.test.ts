// The metric provider's fault matrix end to end (issue 13 item 3): real rollouts on a dev
// server, the worker's real activities, the http deployer against region simulators, and
// gates that query real Prometheus 2.42 servers scraping those simulators. Each fault of
// the metric source gets its own service (and, where the fault belongs to a simulator or a
// Prometheus, its own one of those); all rollouts run at once. None of them may promote
// the faulted region: each must halt when the plan's limit (maxSoak) runs out, with a
// cause that names the fault. A control rollout on the same plan with no fault promotes
// everywhere, so the matrix cannot pass by never promoting anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import { errorRatioQuery, requestCountQuery } from '../../plan/promql';
import { getStatus, startRollout, type MrcdClient, type RolloutStatus } from '../../client/rollouts';
import type { GateResult } from '../../domain/activity-contract';
import { freePort } from '../../dev/ports';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { startPrometheus, waitForSeries, type RunningPrometheus } from '../support/prometheus';
import { startTestServer, type TestServer } from '../support/rollout-harness';
import { forTheFile } from '../support/temporal';
import { pollFor, pollUntil } from '../support/poll';

const REGIONS = ['ap-1', 'eu-1'];
const [FIRST, SECOND] = REGIONS as [string, string];
const VERSION = '2.0.0';
const METRIC = 'mrcd_sim_requests_total';
const SOAK_MS = 3000;
const MAX_SOAK_MS = 6000;
/**
 * Faults injected mid-soak need their first good readings before the soak's end, on a loaded
 * machine too: those take 4.5–5 s here (two scrapes of a counter that moved), and at a 5 s
 * soak a fault landed after the soak's end, testing nothing.
 */
const MID_SOAK = { soakMs: 8000, maxSoakMs: 11000 };

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Stack {
  server: TestServer;
  m: MrcdClient;
  /** Healthy traffic for most cases. */
  sim: Simulator;
  /** No traffic at all: every rate is 0, the error ratio 0/0. */
  quiet: Simulator;
  /** Its /metrics answers 503 from the start: Prometheus sees the target down. */
  down: Simulator;
  /** Healthy until its /metrics goes down mid-soak. */
  dying: Simulator;
  /** Scrapes sim, quiet, down and dying. */
  prom: RunningPrometheus;
  /** Scrapes sim; stopped mid-soak. */
  doomedProm: RunningPrometheus;
  /** Scrapes sim; its remote read points at a closed port, so every answer carries a warning. */
  warnProm: RunningPrometheus;
  /** Scrapes sim; its remote read never answers, so every query outlasts the provider's timeout. */
  slowProm: RunningPrometheus;
  silent: Server;
  startupMs: number;
}

const ALL_SERVICES = ['ctl', 'stopped', 'down', 'nan', 'empty', 'stale', 'warn', 'slow'];
const initialVersions = Object.fromEntries(ALL_SERVICES.map((s) => [s, '1.0.0']));

async function closeServer(s: Server | undefined): Promise<void> {
  if (!s?.listening) return;
  s.closeAllConnections();
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

const parts: { stop(): Promise<unknown> }[] = [];
async function stopAll(): Promise<void> {
  // Newest first: the worker and server go before the targets they poll.
  for (const p of parts.splice(0).reverse()) await p.stop().catch(() => {});
}

const stack = forTheFile<Stack>(async () => {
  const t0 = Date.now();
  try {
    const silentServer = createServer(() => {
      // Accepts and never answers: a remote-read backend that hangs.
    });
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    parts.push({ stop: () => closeServer(silentServer) });
    const closedPort = await freePort();
    const simOpts = { regions: REGIONS, initialVersions, deployDelayMs: 200 };
    const [server, sim, quiet, down, dying] = await Promise.all([
      startTestServer(),
      startSimulator(simOpts),
      startSimulator({ ...simOpts, requestsPerTick: 0 }),
      startSimulator(simOpts),
      startSimulator(simOpts),
    ]);
    parts.push(server, { stop: () => sim.close() }, { stop: () => quiet.close() }, { stop: () => down.close() }, { stop: () => dying.close() });
    down.setFaults({ metricsOutage: true });
    const target = (s: Simulator) => `127.0.0.1:${s.port}`;
    const proms = await Promise.allSettled([
      startPrometheus({ scrapeTargets: [sim, quiet, down, dying].map(target) }),
      startPrometheus({ scrapeTargets: [target(sim)] }),
      startPrometheus({ scrapeTargets: [target(sim)], remoteRead: [{ url: `http://127.0.0.1:${closedPort}/read` }] }),
      startPrometheus({
        scrapeTargets: [target(sim)],
        remoteRead: [{ url: `http://127.0.0.1:${(silentServer.address() as AddressInfo).port}/read`, remoteTimeout: '2m' }],
      }),
    ]);
    for (const p of proms) if (p.status === 'fulfilled') parts.push(p.value);
    const failed = proms.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
    const [prom, doomedProm, warnProm, slowProm] = proms.map((p) => (p as PromiseFulfilledResult<RunningPrometheus>).value) as [
      RunningPrometheus,
      RunningPrometheus,
      RunningPrometheus,
      RunningPrometheus,
    ];
    // The real activities, as the worker process registers them.
    const m = await server.serve(`metric-faults-${process.pid}`, createActivities());
    return { server, m, sim, quiet, down, dying, prom, doomedProm, warnProm, slowProm, silent: silentServer, startupMs: Date.now() - t0 };
  } catch (e) {
    await stopAll();
    throw e;
  }
}, stopAll);

/** The same plan for every case but its service and Prometheus (and, for "empty", the label its query selects by). */
function plan(c: Case) {
  const labels = { service: c.serviceLabel ?? 'service' };
  const { soakMs, maxSoakMs } = c.midSoak ? MID_SOAK : { soakMs: SOAK_MS, maxSoakMs: MAX_SOAK_MS };
  return {
    service: c.service,
    version: VERSION,
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/metric-faults' },
    deployer: { type: 'http', baseUrl: c.sim().url, pollInterval: '200ms', timeout: '1m' },
    prometheus: { url: c.prom().url },
    defaults: {
      soak: `${soakMs}ms`,
      checkInterval: '1s',
      soakReason: 'a test: seconds stand for the real soak',
      gate: {
        // Higher than the checks a soak can run: the limit that ends these rollouts is maxSoak.
        maxInconclusive: 20,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'prometheus', query: errorRatioQuery(METRIC, { labels }) },
            comparator: '<',
            threshold: 0.05,
            minTraffic: { query: requestCountQuery(METRIC, { labels }), min: 10 },
          },
        ],
      },
    },
    regions: REGIONS.map((name, i) => ({ name, size: (i + 1) * 10, maxSoak: `${maxSoakMs}ms` })),
  };
}

interface Case {
  name: string;
  service: string;
  sim: () => Simulator;
  prom: () => RunningPrometheus;
  serviceLabel?: string;
  /** What the fault's cause must say (the worst check's detail). */
  cause?: RegExp;
  verdict?: 'inconclusive' | 'error';
  /**
   * What the cause must say instead when Prometheus held fewer than two samples of the
   * version in the last gate's window (read back from Prometheus after the halt).
   */
  unscrapedCause?: RegExp;
  /** Injects the fault once the first region is deployed (at `since`) and Prometheus has its first readings. */
  midSoak?: (since: number) => Promise<void>;
}

/**
 * Resolves once Prometheus holds two samples of the new version's traffic taken after the
 * deploy (the gate's window starts there): the first good readings, enough for a rate().
 */
async function firstReadings(promUrl: string, service: string, since: number): Promise<void> {
  const sel = `${METRIC}{service="${service}",region="${FIRST}",version="${VERSION}",code="200"}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const sinceDeploy = `${Math.floor((Date.now() - since) / 1000)}s`;
    if (sinceDeploy !== '0s') {
      const found = await waitForSeries(promUrl, `count_over_time(${sel}[${sinceDeploy}]) >= 2 and rate(${sel}[${sinceDeploy}]) > 0`, 1).catch(() => []);
      if (found.length > 0) return;
    }
    if (Date.now() > deadline) throw new Error(`${service}: no readings of ${VERSION} in Prometheus 20 s after the deploy`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const CASES: Case[] = [
  { name: 'control (no fault)', service: 'ctl', sim: () => stack.sim, prom: () => stack.prom },
  {
    name: 'Prometheus stopped mid-soak',
    service: 'stopped',
    sim: () => stack.sim,
    prom: () => stack.doomedProm,
    verdict: 'error',
    cause: /^Prometheus at http:\/\/127\.0\.0\.1:\d+: connection refused/,
    midSoak: async (since) => {
      await firstReadings(stack.doomedProm.url, 'stopped', since);
      await stack.doomedProm.stop();
    },
  },
  {
    name: 'target down',
    service: 'down',
    sim: () => stack.down,
    prom: () => stack.prom,
    verdict: 'inconclusive',
    // Prometheus cannot tell a down target from a label typo; the words name both.
    cause: /^no data: the query returned no series \(.*its scrape target is down/,
  },
  {
    name: 'NaN (zero traffic)',
    service: 'nan',
    sim: () => stack.quiet,
    prom: () => stack.prom,
    verdict: 'inconclusive',
    cause: /^no usable value: the query returned NaN/,
    // On a loaded machine Prometheus can miss the quiet target's scrapes (a 1 s timeout):
    // then the last gate truly had no series, and saying so is the right answer.
    unscrapedCause: /^no data: the query returned no series/,
  },
  {
    name: 'empty (label matches nothing)',
    service: 'empty',
    sim: () => stack.sim,
    prom: () => stack.prom,
    serviceLabel: 'app',
    verdict: 'inconclusive',
    cause: /^no data: the query returned no series/,
  },
  {
    name: 'stale (target died mid-soak)',
    service: 'stale',
    sim: () => stack.dying,
    prom: () => stack.prom,
    verdict: 'inconclusive',
    cause: /^stale data: /,
    midSoak: async (since) => {
      await firstReadings(stack.prom.url, 'stale', since);
      stack.dying.setFaults({ metricsOutage: true });
    },
  },
  {
    name: 'warnings (remote read down)',
    service: 'warn',
    sim: () => stack.sim,
    prom: () => stack.warnProm,
    verdict: 'inconclusive',
    cause: /^Prometheus returned warnings, so the answer may be partial: remote_read: .*connection refused/,
  },
  {
    name: 'slow (beyond the provider timeout)',
    service: 'slow',
    sim: () => stack.sim,
    prom: () => stack.slowProm,
    verdict: 'error',
    cause: /^Prometheus at http:\/\/127\.0\.0\.1:\d+: (no complete answer within \d+ ms \(timeout\)|Prometheus timeout error .*timed out)/,
  },
];

const ENDED: ReadonlySet<RolloutStatus['state']> = new Set(['halted', 'succeeded', 'failed', 'rolled-back', 'aborted', 'rollback-failed']);

function untilSettled(m: MrcdClient, service: string, ms: number): Promise<RolloutStatus> {
  return pollFor(
    `${service}: a verdict`,
    () => getStatus(m, service),
    (s) => ENDED.has(s.state),
    { timeoutMs: ms },
  );
}

/** When the first region was deployed, as the rollout recorded it. */
function untilDeployed(m: MrcdClient, service: string): Promise<number> {
  return pollUntil(`${service}: ${FIRST} deployed`, async () => (await getStatus(m, service)).regions.find((r) => r.name === FIRST)?.deployedAt, {
    everyMs: 100,
  });
}

/** SLO readings the rollout took: every check attempt of its watches and every gate activity. */
function readings(events: HistoryEvent[]): number {
  const typeOf = new Map<string, string>();
  let n = 0;
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (!started) continue;
    const type = typeOf.get(String(started.scheduledEventId));
    if (type === 'checkRegion') n += started.attempt ?? 1;
    if (type === 'evaluateGate') n += 1;
  }
  return n;
}

/**
 * Whether Prometheus held fewer than two samples of the version's traffic in the window of
 * `gate` (the window read from its query, ending when the gate answered): then rate() had no
 * series to give, whatever the fault under test.
 */
async function unscraped(c: Case, gate: GateResult): Promise<boolean> {
  const window = /\[(\d+)s\]/.exec(gate.checks[0]!.detail)?.[1];
  assert.ok(window, `${c.name}: no window in ${gate.checks[0]!.detail}`);
  const sel = `${METRIC}{service="${c.service}",region="${FIRST}",version="${VERSION}",code="200"}`;
  const params = new URLSearchParams({ query: `count_over_time(${sel}[${window}s])`, time: (gate.at / 1000).toFixed(3) });
  const body = (await (await fetch(`${c.prom().url}/api/v1/query?${params.toString()}`)).json()) as { data: { result: { value: [number, string] }[] } };
  const samples = Number(body.data.result[0]?.value[1] ?? 0);
  if (samples < 2) console.log(`${c.name}: Prometheus held ${samples} sample(s) in the last gate's ${window}s window; its cause is "no data"`);
  return samples < 2;
}

interface Outcome {
  c: Case;
  status: RolloutStatus;
  ms: number;
  /** How long after the deploy a mid-soak fault was injected. */
  injectedAfterMs?: number;
  readings: number;
  taskFailures: string[];
}

async function run(c: Case): Promise<Outcome> {
  const { m } = stack;
  const t0 = Date.now();
  await startRollout(m, plan(c), { startedBy: 'metric-faults' });
  let injectedAfterMs: number | undefined;
  if (c.midSoak) {
    const since = await untilDeployed(m, c.service);
    await c.midSoak(since);
    injectedAfterMs = Date.now() - since;
  }
  const status = await untilSettled(m, c.service, 60_000);
  const ms = Date.now() - t0;
  const history = await m.client.workflow.getHandle(status.rolloutId).fetchHistory();
  const events = history.events ?? [];
  const taskFailures = events.flatMap((e) => (e.workflowTaskFailedEventAttributes ? [e.workflowTaskFailedEventAttributes.failure?.message ?? '?'] : []));
  if (status.state === 'halted') await m.client.workflow.getHandle(status.rolloutId).terminate('metric-faults: done with it');
  return { c, status, ms, readings: readings(events), taskFailures, ...(injectedAfterMs !== undefined ? { injectedAfterMs } : {}) };
}

test('metric provider faults never promote; each halts at maxSoak naming its fault, and the control promotes', { timeout: 120_000 }, async (t) => {
  const t0 = Date.now();
  const outcomes = await Promise.all(CASES.map(run));
  t.diagnostic(`startup ${stack.startupMs} ms, rollouts ${Date.now() - t0} ms`);
  t.diagnostic('case | readings | verdict | cause | time');
  for (const o of outcomes) {
    const first = o.status.regions.find((r) => r.name === FIRST);
    const cause = o.status.halt?.cause;
    t.diagnostic(
      `${o.c.name}${o.injectedAfterMs !== undefined ? ` (at +${o.injectedAfterMs} ms)` : ''} | ${o.readings} | ${o.status.state}${cause ? ` (${cause.kind}, ${cause.verdict})` : ''} | ${(cause?.detail ?? first?.lastGate?.checks[0]?.detail ?? '').slice(0, 140)} | ${o.ms} ms`,
    );
  }

  for (const o of outcomes) {
    const { c, status } = o;
    const ledger = c
      .sim()
      .ledger()
      .filter((e) => e.service === c.service)
      .map((e) => `${e.kind} ${e.region} ${e.version}`);
    const first = status.regions.find((r) => r.name === FIRST)!;
    const second = status.regions.find((r) => r.name === SECOND)!;
    assert.deepEqual(o.taskFailures, [], `${c.name}: no workflow task failed`);
    // A fault that came after the soak's end would test nothing: this machine was too slow.
    if (o.injectedAfterMs !== undefined) assert.ok(o.injectedAfterMs < MID_SOAK.soakMs, `${c.name}: injected ${o.injectedAfterMs} ms after the deploy`);

    if (!c.cause) {
      assert.equal(status.state, 'succeeded', `${c.name}: ${status.summary}`);
      assert.deepEqual(ledger, [`deploy ${FIRST} ${VERSION}`, `deploy ${SECOND} ${VERSION}`], c.name);
      assert.equal(first.lastGate?.verdict, 'pass', `${c.name}: ${JSON.stringify(first.lastGate)}`);
      assert.match(first.lastGate!.checks[0]!.detail, /^0 < 0\.05 over the last \d+s with [\d.]+ requests \(>= 10\)/);
      continue;
    }

    // Deployed, never promoted, the next region never touched.
    assert.equal(status.state, 'halted', `${c.name}: ${status.summary}`);
    assert.deepEqual(ledger, [`deploy ${FIRST} ${VERSION}`], `${c.name}: only the first region was deployed`);
    assert.equal(first.status, 'inconclusive', `${c.name}: ${first.status}`);
    assert.equal(first.promotedAt, undefined, `${c.name}: never promoted`);
    assert.equal(second.status, 'pending', c.name);
    assert.equal(second.deployedAt, undefined, c.name);

    // Halted by the plan's limit: the soak was extended to maxSoak, not cut short.
    const halt = status.halt!;
    assert.equal(halt.region, FIRST, c.name);
    assert.match(halt.reason, new RegExp(`^gate ${c.verdict} in ${FIRST} until maxSoak: `), `${c.name}: ${halt.reason}`);
    const maxSoakMs = c.midSoak ? MID_SOAK.maxSoakMs : MAX_SOAK_MS;
    assert.ok(halt.at - first.deployedAt! >= maxSoakMs - 1000, `${c.name}: halted ${halt.at - first.deployedAt!} ms after the deploy, before maxSoak`);

    // The cause names the fault, and status shows the reading behind it.
    assert.equal(halt.cause?.kind, 'inconclusive', c.name);
    assert.equal(halt.cause?.check, 'error-ratio', c.name);
    assert.equal(halt.cause?.verdict, c.verdict, `${c.name}: ${halt.cause?.detail}`);
    const cause = c.unscrapedCause && (await unscraped(c, first.lastGate!)) ? c.unscrapedCause : c.cause;
    assert.match(halt.cause?.detail ?? '', cause, c.name);
    assert.equal(first.lastGate?.verdict, c.verdict, c.name);
    assert.match(first.lastGate!.checks[0]!.detail, cause, `${c.name}: the latest reading in status`);
    assert.ok(o.readings >= 2, `${c.name}: ${o.readings} readings`);
  }
});
