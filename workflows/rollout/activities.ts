// The rollout's activity stubs and their timeouts and retries, one place per kind of step.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { RolloutActivities } from '../../activities/types';
import type { NormalizedPlan, NormalizedRegion } from '../../plan';

/** Plan preparation and the quarantine lookup at start. */
export const prepActs = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

/** Deploy windows and gate evaluations: short, retried a few times. */
export const gateActs = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
});

export const notifyActs = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3 },
});

/** A check (a few SLO queries, each bounded by its own timeout) must end within this. */
const CHECK_TIMEOUT_MS = 2 * 60_000;
/** How soon a check on a worker that died is given to another (M6 in docs/benchmarks.md). */
const CHECK_HEARTBEAT_MS = 5_000;

/** Deploys and rollbacks, bounded by the plan's deployer timeout. */
export function deployActivities(plan: NormalizedPlan) {
  return proxyActivities<RolloutActivities>({
    // The deployer's own timeout bounds one attempt; a little slack for the HTTP calls around it.
    startToCloseTimeout: plan.deployer.timeoutMs + 60_000,
    heartbeatTimeout: '30s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
    // A deploy interrupted (abort, late regression) is rolled back only once the deployer has
    // stopped, so the rollback cannot race the deploy it undoes.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
}

/**
 * The plan's timeout bounds a migration; Temporal's must not cut it shorter. Plans carried
 * from before migrations had a timeout fall back to the activity's default (30m).
 */
export function migrationActivities(timeoutMs = 30 * 60_000) {
  return proxyActivities<RolloutActivities>({
    startToCloseTimeout: timeoutMs + 5 * 60_000,
    heartbeatTimeout: '1m',
    retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
  });
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
