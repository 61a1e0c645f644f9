// Workflow tests with scripted activities on a real Temporal server: a dev server with
// soaks of seconds, or the time-skipping test server with real-length soaks (durations
// skipped). The SLO watch is long-running in production; the scripted one is too: it
// heartbeats until cancelled and reports a breach when the script says so.
// (Why not the time-skipping server for everything: docs/architecture.md, "Testing
// long-running watches".) The plan is prepared by the real preparePlan activity.
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { startDevServer, type DevServerOptions } from '../../dev/temporal-server';
import type { GateResult, QuarantineRecord, RolloutActivities, Verdict, WatchInput, WatchOutcome } from '../../domain/activity-contract';
import { preparePlan } from '../../activities/plan';
import { calendarPeriods, consultPolicy, endedRollouts } from '../../activities/policy';
import { withPrepareRollout } from '../../activities/prepare-rollout';
import { defaultWorkflowTaskSlots } from '../../worker/slots';
import { statusQuery } from '../../domain/definitions';
import type { RolloutStatus } from '../../domain/state';
import { forTheFile, workflowBundle } from './temporal';
import { getStatus, type MrcdClient } from '../../client/rollouts';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import { pollFor, pollUntil } from './poll';

export interface Script {
  /** Deploys to these regions fail for good. */
  deployFails?: string[];
  /** The watch reports a breach this long (server time) after the region's deploy. */
  breachAfterMs?: Record<string, number>;
  /**
   * The watch of a region reports a breach once another step has happened: e.g. `{ r1:
   * { after: 'deploy', of: 'r3' } }` breaks r1 while r3 soaks, however long steps take.
   */
  breachWhen?: Record<string, { after: Call['kind']; of: string }>;
  /** The watch gives up for lack of evidence this long after deploy. */
  inconclusiveAfterMs?: Record<string, number>;
  /** Verdicts of successive final gate evaluations per region; pass once the list runs out. */
  gate?: Record<string, Verdict[]>;
  /** Each rollback takes this long (a window to act while a rollout rolls back). */
  rollbackMs?: number;
  /** Rollbacks of these regions fail this many times. */
  rollbackFails?: Record<string, number>;
  /** What the quarantine check finds (none by default). */
  quarantined?: QuarantineRecord[];
  /** The quarantine check fails for good (visibility down). */
  quarantineCheckFails?: boolean;
  /** Breaches (breachAfterMs) happen on a region's first deploy only; a redeploy is healthy. */
  breachOnce?: boolean;
  /** Per region, successive deploy-window waits in ms (0 = open now); open once the list runs out. */
  windowWaitMs?: Record<string, number[]>;
  /** Like a check from a worker before the patch soak-ends-in-its-watch: ignores `finalGate` and ends at `until`. */
  ignoreFinalGate?: boolean;
  /** Like a watch from an older worker: ignores `phase`, so it can report inconclusive after promotion. */
  ignorePhase?: boolean;
  /** Each migration step takes this long. */
  migrationMs?: number;
  /** A redeploy of a region reports the version itself as what ran before (a real deployer's answer when the region still runs it). */
  redeployReportsItself?: boolean;
  /** Regions that read as running 1.0.0 when the workflow reads what they run (after a hold, before success). */
  drifted?: string[];
  /** Migration steps ("name:apply" / "name:revert") that fail this many times. */
  migrationFails?: Record<string, number>;
}

/**
 * Where a rollout runs: a dev server (startTestServer, useTestServer) or the time-skipping
 * test server (startTimeSkipping, onOwnTimeSkipping, useTimeSkipping in ./temporal).
 */
export interface RolloutServer {
  client: Client;
  nativeConnection: NativeConnection;
}

/** A real dev server to run rollouts on. */
export interface TestServer extends RolloutServer {
  address: string;
  /** The dev server's process. */
  pid?: number;
  /**
   * Runs a worker for `taskQueue` until the server stops (it is shut down first); returns a
   * library client for that queue, as `mrcd` would use.
   */
  serve(taskQueue: string, activities: object, options?: Partial<WorkerOptions>): Promise<MrcdClient>;
  stop(): Promise<void>;
}

/** Starts a headless dev server with a client and a worker connection to it. */
export async function startTestServer(opts: DevServerOptions = {}): Promise<TestServer> {
  const server = await startDevServer({ uiPort: false, ...opts });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  const served: { worker: Worker; running: Promise<void> }[] = [];
  let stopped: Promise<void> | undefined;
  return {
    address: server.address,
    ...(server.pid !== undefined ? { pid: server.pid } : {}),
    client,
    nativeConnection,
    async serve(taskQueue, activities, options) {
      const worker = await createTestWorker({ client, nativeConnection }, taskQueue, activities, options);
      served.push({ worker, running: worker.run() });
      return { client, taskQueue, close: async () => {} };
    },
    stop() {
      stopped ??= (async () => {
        for (const w of served) w.worker.shutdown();
        await Promise.all(served.map((w) => w.running));
        await nativeConnection.close();
        await connection.close();
        await server.stop();
      })();
      return stopped;
    },
  };
}

/**
 * A dev server for the tests of one file: started before them, stopped (with the workers it
 * serves) after them. `setUp` runs once it has started, in the same hook: node 20 runs a
 * file's top-level before hooks concurrently, so another one cannot count on the server.
 */
export const useTestServer = (opts: DevServerOptions = {}, setUp?: (server: TestServer) => Promise<void>): TestServer =>
  forTheFile(
    async () => {
      const server = await startTestServer(opts);
      try {
        await setUp?.(server);
      } catch (e) {
        await server.stop();
        throw e;
      }
      return server;
    },
    (s) => s.stop(),
  );

/**
 * A worker for `taskQueue` on the server, with the workflows bundled once per process.
 * Cancellation reaches an activity with a heartbeat; by default those are throttled to most
 * of the heartbeat timeout. Tests want to see it promptly.
 */
export async function createTestWorker(server: RolloutServer, taskQueue: string, activities: object, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection: server.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    maxHeartbeatThrottleInterval: '200ms',
    // As the worker process has them: many rollouts at once must not starve the fleet policy.
    maxConcurrentWorkflowTaskExecutions: defaultWorkflowTaskSlots(),
    ...options,
  });
}

export interface Call {
  kind: 'deploy' | 'rollback' | 'watch' | 'watch-stopped' | 'gate' | 'migration' | 'notify' | 'read' | 'window';
  region?: string;
  detail?: string;
  /** The activity's input, where a test needs to see what the workflow passed. */
  input?: unknown;
  at: number;
}

export const TEST_GATE = {
  checks: [
    { name: 'error-ratio', source: { type: 'prometheus', query: 'ratio{region="{{region}}"}', url: 'http://127.0.0.1:9' }, comparator: '<', threshold: 0.01 },
  ],
};

/** A valid plan document with 3-second soaks, the shape tests vary. */
export function planDoc(
  overrides: Record<string, unknown> = {},
  regions: Record<string, unknown>[] = [
    { name: 'small', size: 1 },
    { name: 'medium', size: 10 },
    { name: 'large', size: 100 },
  ],
): Record<string, unknown> {
  return {
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/checkout' },
    deployer: { type: 'http', baseUrl: 'http://127.0.0.1:9' },
    defaults: { soak: '3s', checkInterval: '500ms', gate: TEST_GATE },
    regions,
    ...overrides,
  };
}

function gateResult(verdict: Verdict, region: string): GateResult {
  return {
    verdict,
    at: Date.now(),
    checks: [
      {
        name: 'error-ratio',
        verdict,
        comparator: '<',
        threshold: 0.01,
        ...(verdict === 'pass' ? { value: 0.001 } : verdict === 'fail' ? { value: 0.2 } : {}),
        detail: `${verdict} in ${region}`,
      },
    ],
  };
}

export interface ScriptOptions {
  /**
   * For the time-skipping server: times are the server's (virtual) clock, not the worker's.
   * Checks still run at the plan's cadence.
   */
  serverClock?: boolean;
  /**
   * For the time-skipping server, where a running activity stops the clock, in tests about
   * durations: the server's clock, and the watch answers at once (a breach once the script's
   * time has come, else `ended`); a check asks for its next attempt at the first check time
   * that will see something new instead of every interval.
   */
  instantWatch?: boolean;
}

export function scriptedActivities(script: Script, calls: Call[], opts: ScriptOptions = {}): RolloutActivities {
  const gateCalls = new Map<string, number>();
  const rollbackCalls = new Map<string, number>();
  const windowCalls = new Map<string, number>();
  const migrationCalls = new Map<string, number>();
  const firstDeploy = new Map<string, number>();
  const serverClock = opts.serverClock || opts.instantWatch;
  const now = async () => (serverClock ? Context.current().info.currentAttemptScheduledTimestampMs : Date.now());
  /** When the script makes a watch of this region see a breach or an evidence gap (absolute times). */
  const eventsOf = (input: WatchInput): { breachAt?: number; inconclusiveAt?: number } => {
    if (!firstDeploy.has(input.region)) firstDeploy.set(input.region, input.since);
    const breachAfter = script.breachOnce && firstDeploy.get(input.region) !== input.since ? undefined : script.breachAfterMs?.[input.region];
    // Like the real watch: after promotion only a breach ends it.
    const inconclusiveAfter = input.phase === 'promoted' && !script.ignorePhase ? undefined : script.inconclusiveAfterMs?.[input.region];
    return {
      ...(breachAfter !== undefined ? { breachAt: input.since + breachAfter } : {}),
      ...(inconclusiveAfter !== undefined ? { inconclusiveAt: input.since + inconclusiveAfter } : {}),
    };
  };
  /** What the script says a watch of this region sees at time t: a breach, an evidence gap, or nothing yet. */
  const verdictAt = (input: WatchInput, t: number): WatchOutcome | undefined => {
    const { breachAt, inconclusiveAt } = eventsOf(input);
    const when = script.breachWhen?.[input.region];
    const firstRun = !script.breachOnce || firstDeploy.get(input.region) === input.since;
    if (when && firstRun && calls.some((c) => c.kind === when.after && c.region === when.of))
      return { kind: 'breach', result: gateResult('fail', input.region), checksRun: 1 };
    if (breachAt !== undefined && t >= breachAt) return { kind: 'breach', result: gateResult('fail', input.region), checksRun: 1 };
    if (inconclusiveAt !== undefined && t >= inconclusiveAt)
      return { kind: 'inconclusive-limit', result: gateResult('inconclusive', input.region), checksRun: 4 };
    return undefined;
  };
  /**
   * When a check made at t should run next: one interval later, or at `until` if that
   * comes first (like the real check). With instantWatch a check a minute over days of
   * skipped time would be slow, so the scripted check skips the checks that would see
   * nothing new: the next one runs at the first check time (t plus whole intervals) at or
   * after the script's next event, or at `until`.
   */
  const nextCheckDelay = (input: WatchInput, t: number): number => {
    const untilLeft = input.until !== undefined ? input.until - t : Infinity;
    const { breachAt, inconclusiveAt } = eventsOf(input);
    const event = Math.min(...[breachAt, inconclusiveAt].filter((x): x is number => x !== undefined && x > t));
    const toEvent = opts.instantWatch ? Math.ceil((event - t) / input.intervalMs) * input.intervalMs : input.intervalMs;
    const delay = Math.min(toEvent, untilLeft);
    return Number.isFinite(delay) ? Math.max(1, delay) : input.intervalMs;
  };
  /** A final gate evaluation of the region at t, as the script says. */
  const gateAt = (region: string, t: number): GateResult => {
    calls.push({ kind: 'gate', region, at: t });
    const n = gateCalls.get(region) ?? 0;
    gateCalls.set(region, n + 1);
    return gateResult(script.gate?.[region]?.[n] ?? 'pass', region);
  };
  const activities: Omit<RolloutActivities, 'prepareRollout'> = {
    // The real one: every test's plan goes through the validation and normalization a rollout gets.
    preparePlan,
    // The real ones: every test's rollout asks the fleet policy of its own task queue.
    consultPolicy,
    endedRollouts,
    calendarPeriods,
    async deployRegion(input) {
      calls.push({ kind: 'deploy', region: input.region, input, at: await now() });
      if (script.deployFails?.includes(input.region)) throw ApplicationFailure.nonRetryable(`deployer refused ${input.region}`, ACTIVITY_FAILURE.deployFailed);
      const again = script.redeployReportsItself && calls.filter((c) => c.kind === 'deploy' && c.region === input.region).length > 1;
      return {
        region: input.region,
        version: input.version,
        previousVersion: again ? input.version : '1.0.0',
        idempotencyKey: `${input.rolloutId}:${input.region}:${input.version}:deploy`,
      };
    },
    async rollbackRegion(input) {
      calls.push({ kind: 'rollback', region: input.region, input, at: await now() });
      if (script.rollbackMs) await new Promise((r) => setTimeout(r, script.rollbackMs));
      const n = (rollbackCalls.get(input.region) ?? 0) + 1;
      rollbackCalls.set(input.region, n);
      if (n <= (script.rollbackFails?.[input.region] ?? 0))
        throw ApplicationFailure.nonRetryable(`rollback of ${input.region} failed (${n})`, 'RollbackFailed');
      return { region: input.region, version: input.version, idempotencyKey: 'k' };
    },
    async watchRegion(input): Promise<WatchOutcome> {
      calls.push({ kind: 'watch', region: input.region, detail: input.phase ?? 'soak', at: await now() });
      if (opts.instantWatch) return verdictAt(input, await now()) ?? { kind: 'ended', checksRun: 0 };
      for (;;) {
        Context.current().heartbeat();
        const t = Date.now();
        const out = verdictAt(input, t);
        if (out) return out;
        if (input.until !== undefined && t >= input.until) return { kind: 'ended', checksRun: 1 };
        // Rejects with the cancellation once the workflow cancels the watch.
        const ctx = Context.current();
        await ctx.sleep(50).catch((e: unknown) => {
          const d = ctx.cancellationDetails;
          const why = d?.cancelRequested ? 'requested' : d?.notFound ? 'workflow-gone' : d?.workerShutdown ? 'worker-shutdown' : 'other';
          calls.push({ kind: 'watch-stopped', region: input.region, detail: `${input.phase ?? 'soak'}:${why}`, at: Date.now() });
          throw e;
        });
      }
    },
    // Like the real checkRegion: one check per attempt, "healthy" is a benign retry at the
    // interval (with instantWatch, at the next check that sees something new), and with
    // `finalGate` the attempt at `until` is the gate. A watch is recorded once, at its first
    // attempt.
    async checkRegion(input): Promise<WatchOutcome> {
      const ctx = Context.current();
      const info = ctx.info;
      // The time-skipping server stamps a retry with the time it was scheduled, not the time
      // it runs. At the plan's cadence the attempts run one interval apart (the last one at
      // `until`); instantWatch's checks skip ahead, so each carries the time it asked for in
      // its heartbeat details (they reach the next attempt).
      const planned = (info.heartbeatDetails as { nextCheckAt?: number } | undefined)?.nextCheckAt;
      const t =
        info.attempt === 1 || !serverClock
          ? await now()
          : opts.instantWatch && planned !== undefined
            ? planned
            : Math.min(info.scheduledTimestampMs + (info.attempt - 1) * input.intervalMs, input.until ?? Infinity);
      if (info.attempt === 1) calls.push({ kind: 'watch', region: input.region, detail: input.phase ?? 'soak', at: t });
      const out = verdictAt(input, t);
      if (out) return out;
      if (input.until !== undefined && t >= input.until)
        return input.finalGate && !script.ignoreFinalGate
          ? { kind: 'gated', result: gateAt(input.region, t), checksRun: info.attempt }
          : { kind: 'ended', checksRun: info.attempt };
      const delay = nextCheckDelay(input, t);
      if (opts.instantWatch) ctx.heartbeat({ nextCheckAt: t + delay });
      throw ApplicationFailure.create({
        type: 'SloWatchNextCheck',
        message: 'healthy',
        nonRetryable: false,
        nextRetryDelay: delay,
        category: ApplicationFailureCategory.BENIGN,
      });
    },
    async evaluateGate(ctx) {
      return gateAt(ctx.region, await now());
    },
    async readRegionVersions(input) {
      calls.push({ kind: 'read', detail: input.regions.join(','), input, at: await now() });
      return input.regions.map((region) =>
        script.drifted?.includes(region)
          ? { verdict: 'fail' as const, running: '1.0.0', detail: `${region} runs 1.0.0 of ${input.service}, not ${input.version}` }
          : { verdict: 'pass' as const, running: input.version, detail: `${region} runs ${input.version}` },
      );
    },
    async notify(input) {
      calls.push({ kind: 'notify', detail: input.event.kind, input, at: await now() });
      return [];
    },
    async runMigration(input) {
      calls.push({ kind: 'migration', detail: `${input.name}:${input.direction}`, input, at: await now() });
      if (script.migrationMs) await new Promise((r) => setTimeout(r, script.migrationMs));
      const key = `${input.name}:${input.direction}`;
      const n = (migrationCalls.get(key) ?? 0) + 1;
      migrationCalls.set(key, n);
      if (n <= (script.migrationFails?.[key] ?? 0)) throw ApplicationFailure.nonRetryable(`${key} failed (${n})`, 'MigrationFailed');
    },
    async nextDeployWindow(input) {
      const region = input.region;
      calls.push({ kind: 'window', ...(region ? { region } : {}), at: await now() });
      if (!region || !script.windowWaitMs?.[region]) return { startAt: input.now };
      const n = windowCalls.get(region) ?? 0;
      windowCalls.set(region, n + 1);
      const wait = script.windowWaitMs![region]![n] ?? 0;
      return wait > 0 ? { startAt: input.now + wait, reason: `scripted window of ${region}` } : { startAt: input.now };
    },
    async checkQuarantine() {
      if (script.quarantineCheckFails) throw ApplicationFailure.nonRetryable('visibility unavailable', 'Unavailable');
      return script.quarantined ?? [];
    },
  };
  // The real step, made of the scripted lookup: a caller replacing a part composes it again.
  return withPrepareRollout(activities);
}

export interface Harness {
  calls: Call[];
  handle: WorkflowHandle;
  status(): Promise<RolloutStatus>;
  /**
   * Polls until the status satisfies `until` (a status that cannot be read yet, or regions
   * not known yet while the plan is being prepared, count as not yet). On the time-skipping
   * server time moves only after finish() or the environment's sleep().
   */
  waitUntil(until: (s: RolloutStatus) => boolean, ms?: number): Promise<RolloutStatus>;
  /**
   * Waits for the end; returns the final status and the failure type if any. The rollout's
   * result is first asked for here: on the time-skipping server a pending result is what
   * lets the clock skip, so before the first finish() time moves only as far as the test
   * sleeps (with nothing but an operator to wait for, it would skip to the workflow's timeout).
   */
  finish(ms?: number): Promise<{ status: RolloutStatus; failureType?: string }>;
}

/** A rollout's end as tests read it: the final status, and the failure type when it did not succeed. */
export function verdictOf(result: Promise<unknown>): Promise<{ status: RolloutStatus; failureType?: string }> {
  return result.then(
    (s) => ({ status: s as RolloutStatus }),
    (e) => {
      const cause = (e as { cause?: { type?: string; details?: unknown[] } }).cause;
      return { status: cause?.details?.[0] as RolloutStatus, ...(cause?.type ? { failureType: cause.type } : {}) };
    },
  );
}

let queueSeq = 0;
export interface RunOptions extends ScriptOptions {
  /** More fields of the workflow input, e.g. overrides. */
  input?: Record<string, unknown>;
  /** Real activities in place of scripted ones. */
  activities?: Partial<RolloutActivities>;
  /** Runs while the rollout's worker serves its task queue, before the rollout starts (e.g. to set the fleet policy of that queue). */
  beforeStart?: (m: MrcdClient) => Promise<void>;
}

/**
 * Runs one rollout of `doc` on the server, with a worker of its own whose activities follow
 * `script`; `body` drives it through the harness. Whatever `body` leaves running is
 * terminated. Returns the activity calls. For the time-skipping server pass `serverClock`
 * or `instantWatch` (ScriptOptions).
 */
export async function runRollout(
  server: RolloutServer,
  doc: unknown,
  script: Script,
  body: (h: Harness) => Promise<void>,
  opts: RunOptions = {},
): Promise<Call[]> {
  const calls: Call[] = [];
  const taskQueue = `test-${process.pid}-${++queueSeq}`;
  const worker = await createTestWorker(server, taskQueue, withPrepareRollout({ ...scriptedActivities(script, calls, opts), ...opts.activities }));
  await worker.runUntil(async () => {
    await opts.beforeStart?.({ client: server.client, taskQueue, close: async () => {} });
    const handle = await server.client.workflow.start('rolloutWorkflow', {
      taskQueue,
      workflowId: `rollout-${taskQueue}`,
      args: [{ plan: doc, startedBy: 'test', ...opts.input }],
    });
    const status = () => handle.query(statusQuery);
    let result: ReturnType<typeof verdictOf> | undefined;
    const h: Harness = {
      calls,
      handle,
      status,
      async waitUntil(until, ms = 30_000) {
        let last: RolloutStatus | undefined;
        // A status read can fail while the plan is being prepared (no regions yet): asked again.
        return pollUntil(
          'condition',
          async () => {
            last = await status();
            return until(last) ? last : undefined;
          },
          { timeoutMs: ms, everyMs: 50, describe: () => `status: ${last?.summary ?? 'never read'}` },
        );
      },
      async finish(ms = 60_000) {
        result ??= verdictOf(handle.result());
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`rollout did not end within ${ms} ms`)), ms);
        });
        try {
          return await Promise.race([result, timeout]);
        } finally {
          clearTimeout(timer);
        }
      },
    };
    try {
      await body(h);
    } finally {
      // Leave nothing running: an open result() long-poll outlives the test otherwise.
      const d = await handle.describe();
      if (d.status.name === 'RUNNING') await handle.terminate('test ended');
      await result;
    }
  });
  return calls;
}

export const regionsOf = (calls: Call[], kind: Call['kind']) => calls.filter((c) => c.kind === kind).map((c) => c.region);

/**
 * Asserts that an update was rejected (by its validator or handler: the workflow refused the
 * action) with a reason matching `reason`.
 */
export async function assertUpdateRejected(update: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(update, (e: unknown) => {
    assert.ok(e instanceof WorkflowUpdateFailedError, `not a rejected update: ${String(e)}`);
    assert.match(String(e.cause?.message), reason);
    return true;
  });
}

let scriptedSeq = 0;
/**
 * Runs `body` while a worker with scripted activities (plus `extra` real ones) serves a task
 * queue of its own; `body` gets a library client for it, as `mrcd` would use.
 */
export async function withScriptedWorker<T>(
  server: RolloutServer,
  script: Script,
  body: (m: MrcdClient, calls: Call[]) => Promise<T>,
  extra: Partial<RolloutActivities> = {},
): Promise<T> {
  const calls: Call[] = [];
  const taskQueue = `scripted-${process.pid}-${++scriptedSeq}`;
  const worker = await createTestWorker(server, taskQueue, withPrepareRollout({ ...scriptedActivities(script, calls), ...extra }));
  return worker.runUntil(() => body({ client: server.client, taskQueue, close: async () => {} }, calls));
}

/** Polls a service's rollout through the library until `ok` holds (regions are known once the plan is prepared). */
export async function statusUntil(m: MrcdClient, service: string, ok: (s: RolloutStatus) => boolean, what = 'condition', ms = 60_000): Promise<RolloutStatus> {
  return pollFor(
    what,
    () => getStatus(m, service),
    (s) => s.regions.length > 0 && ok(s),
    { timeoutMs: ms, everyMs: 100 },
  );
}

/** What a test asserts about a halt: its structured cause's kind and region (region omitted when the cause has none). */
export function causeOf(s: RolloutStatus): { kind?: string; region?: string } {
  const c = s.halt?.cause;
  return { kind: c?.kind, ...(c?.region !== undefined ? { region: c.region } : {}) };
}
