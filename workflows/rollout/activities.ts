// The rollout's activity stubs and their timeouts and retries, one place per kind of step,
// and what a person reads for each step in the Temporal Web UI (its summary).
import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  type ActivityFunctionWithOptions,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { RolloutActivities } from '../../domain/activity-contract';
import type { NormalizedPlan, NormalizedRegion } from '../../plan';

type Stubs = ActivityInterfaceFor<RolloutActivities>;
type Summaries = { [K in keyof RolloutActivities]?: (...args: Parameters<RolloutActivities[K]>) => string };

/** A summary is one line; a long list of gate checks is cut here. */
const MAX_SUMMARY_CHARS = 160;
const clip = (s: string) => (s.length > MAX_SUMMARY_CHARS ? `${s.slice(0, MAX_SUMMARY_CHARS - 1)}…` : s);

/**
 * The summary of each step, from its input: "deploy checkout 2.0.0 to us-west-2", not the
 * activity type and an id. The Web UI shows it on the step's events and in the timeline.
 * The SLO checks (soak and watches) name theirs where their stubs are made (checkActivities).
 * A summary is user metadata on the command, which replay does not compare, so running
 * rollouts need no patch (the recorded histories replay: test/unit/replay.test.ts).
 */
const SUMMARIES: Summaries = {
  preparePlan: () => 'validate and normalize the plan',
  checkQuarantine: (q) => `quarantine check of ${q.service} ${q.version}`,
  nextDeployWindow: (w) => `deploy window of ${w.region ?? 'the region'} (${w.window.timezone})`,
  deployRegion: (d) => `deploy ${d.service} ${d.version} to ${d.region}`,
  rollbackRegion: (d) => `roll back ${d.region} from ${d.version} to ${d.previousVersion ?? 'its previous version'}`,
  evaluateGate: (g) => `gate of ${g.region}: ${g.gate.checks.map((c) => `${c.name} ${c.comparator} ${c.threshold}`).join(', ')}`,
  notify: (n) =>
    `notify ${n.event.kind}${n.event.region ? ` (${n.event.region})` : ''} to ${n.notifications.length} target${n.notifications.length === 1 ? '' : 's'}`,
  runMigration: (m) => `${m.phase} migration ${m.name}${m.direction === 'revert' ? ' (revert)' : ''}`,
};

/** The stubs with each call's summary (an input a summary cannot read gets none, never a failed task). */
function summarized(stubs: Stubs): Stubs {
  return new Proxy(stubs, {
    get(target, name, receiver) {
      const stub: unknown = Reflect.get(target, name, receiver);
      const summaryOf = SUMMARIES[name as keyof Summaries] as ((...args: unknown[]) => string) | undefined;
      if (!summaryOf) return stub;
      const fn = stub as ActivityFunctionWithOptions<(...args: unknown[]) => Promise<unknown>>;
      const withSummary = (args: unknown[], options: ActivityOptions = {}): ActivityOptions => {
        try {
          return { summary: clip(summaryOf(...args)), ...options };
        } catch {
          return options;
        }
      };
      return Object.assign((...args: unknown[]) => fn.executeWithOptions(withSummary(args), args), {
        executeWithOptions: (options: ActivityOptions, args: unknown[]) => fn.executeWithOptions(withSummary(args, options), args),
      });
    },
  });
}

/**
 * Calls `stub` for `region`: on the region's own task queue when it names one (a worker
 * inside the region, with its credentials only), else on the rollout's. Plans from before
 * region task queues have none, so their commands are as they were.
 */
export function inRegion<A extends unknown[], R>(
  stub: ActivityFunctionWithOptions<(...args: A) => Promise<R>>,
  region: NormalizedRegion,
  ...args: A
): Promise<R> {
  return region.taskQueue ? stub.executeWithOptions({ taskQueue: region.taskQueue }, args) : stub(...args);
}

/** Plan preparation and the quarantine lookup at start. */
export const prepActs = summarized(
  proxyActivities<RolloutActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5 },
  }),
);

/** Attempts of the one-step start: the last reports a failed quarantine lookup instead of failing. */
export const PREPARE_LOCAL_ATTEMPTS = 5;

/**
 * The one-step start (patch one-step-start-and-review-memo): a local activity, since it is
 * short, reads nothing a region owns, and runs on whichever worker runs the workflow task, so
 * it never waits in a task queue behind a release train's deploys and checks. Its retries
 * (1 s, 2 s, 4 s, 8 s) stay under the worker's local retry threshold, inside the first task.
 */
export const prepLocalActs = proxyLocalActivities<RolloutActivities>({
  summary: 'validate and normalize the plan, and check quarantine',
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: PREPARE_LOCAL_ATTEMPTS },
});

/** Deploy windows and gate evaluations: short, retried a few times. */
export const gateActs = summarized(
  proxyActivities<RolloutActivities>({
    startToCloseTimeout: '2m',
    retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
  }),
);

export const notifyActs = summarized(
  proxyActivities<RolloutActivities>({
    startToCloseTimeout: '1m',
    retry: { maximumAttempts: 3 },
  }),
);

/** A check (a few SLO queries, each bounded by its own timeout) must end within this. */
const CHECK_TIMEOUT_MS = 2 * 60_000;
/** How soon a check on a worker that died is given to another (M6 in docs/benchmarks.md). */
const CHECK_HEARTBEAT_MS = 5_000;

/** Deploys and rollbacks, bounded by the plan's deployer timeout. */
export function deployActivities(plan: NormalizedPlan) {
  return summarized(
    proxyActivities<RolloutActivities>({
      // The deployer's own timeout bounds one attempt; a little slack for the HTTP calls around it.
      startToCloseTimeout: plan.deployer.timeoutMs + 60_000,
      heartbeatTimeout: '30s',
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
      // A deploy interrupted (abort, late regression) is rolled back only once the deployer has
      // stopped, so the rollback cannot race the deploy it undoes.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
  );
}

/**
 * The plan's timeout bounds a migration; Temporal's must not cut it shorter. Plans carried
 * from before migrations had a timeout fall back to the activity's default (30m).
 */
export function migrationActivities(timeoutMs = 30 * 60_000) {
  return summarized(
    proxyActivities<RolloutActivities>({
      startToCloseTimeout: timeoutMs + 5 * 60_000,
      heartbeatTimeout: '1m',
      retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
    }),
  );
}

/** Server-retried checks of one region: each attempt is one check, "healthy" comes back as a retry at the interval. */
export function checkActivities(region: NormalizedRegion, horizonMs: number, summary: string) {
  return proxyActivities<RolloutActivities>({
    startToCloseTimeout: CHECK_TIMEOUT_MS,
    // A check heartbeats while it runs: a dead worker costs this, not CHECK_TIMEOUT_MS.
    // (Activity options are not part of replay, so running rollouts need no patch.)
    heartbeatTimeout: CHECK_HEARTBEAT_MS,
    scheduleToCloseTimeout: horizonMs + CHECK_TIMEOUT_MS + 10 * 60_000,
    retry: { initialInterval: region.checkIntervalMs, backoffCoefficient: 1, maximumInterval: Math.max(region.checkIntervalMs, 30_000) },
    summary,
    ...(region.taskQueue ? { taskQueue: region.taskQueue } : {}),
  });
}

/** A long-running watch activity that heartbeats (rollouts from before server-retried checks). */
export function longWatchActivities(horizonMs: number, checkIntervalMs: number, summary: string) {
  return proxyActivities<RolloutActivities>({
    startToCloseTimeout: horizonMs + 10 * 60_000,
    heartbeatTimeout: Math.max(30_000, checkIntervalMs * 3),
    retry: { initialInterval: '1s', maximumInterval: '30s' },
    summary,
  });
}
