// SLO watches: what a region is judged on, the watch of a region until a breach, and the
// watches that keep guarding promoted regions until the last promotion.
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import type { SloContext, WatchInput, WatchOutcome } from '../../domain/activity-contract';
import { formatDuration } from '../../domain/duration';
import { describeGate } from '../../domain/gate-text';
import { causeFromGate } from '../../domain/halt-cause';
import { checkActivities, longWatchActivities } from './activities';
import { causeMessage } from './outcomes';
import type { RolloutRun } from './run';

/** A soaking region's watch is renewed at least this far apart (only long holds renew it). */
export const WATCH_HORIZON_MIN_MS = 3_600_000;
/**
 * A promoted region's watch is renewed this far apart: ~6 events per region per renewal,
 * so even 30 regions held for two weeks stay far below the history limit.
 */
const PROMOTED_WATCH_HORIZON_MS = 6 * 3_600_000;
/** The same with server-retried checks: renewing costs events and buys nothing. */
const PROMOTED_CHECKS_HORIZON_MS = 7 * 24 * 3_600_000;

/** The SLO context of region i: its gate, judged since its deploy against what ran before. */
export function sloContext(run: RolloutRun, i: number): SloContext {
  const [region, r] = run.regionOf(i);
  const plan = run.plan;
  return {
    rolloutId: run.status.rolloutId,
    service: plan.service,
    version: plan.version,
    region: region.name,
    gate: region.gate,
    since: r.deployedAt ?? Date.now(),
    ...(r.baselineVersion !== undefined ? { baselineVersion: r.baselineVersion } : {}),
    // Plans normalized before provider settings were folded into each check carry them here.
    ...(plan.prometheus ? { prometheus: plan.prometheus } : {}),
  };
}

/** What a watch of region i judges: its SLO context since the deploy, and the phase's window. */
export function watchInput(run: RolloutRun, i: number, phase: 'soak' | 'promoted', until: number): WatchInput {
  const [region] = run.regionOf(i);
  return {
    ...sloContext(run, i),
    intervalMs: region.checkIntervalMs,
    maxInconclusive: region.gate.maxInconclusive,
    until,
    phase,
    // After promotion: the last soak's worth of traffic, so a regression is not diluted.
    ...(phase === 'promoted' ? { lookbackMs: region.soakMs } : {}),
  };
}

/**
 * Watches region i until a breach (or, while soaking, too little evidence). One activity
 * covers a horizon (an hour or more; a week after promotion) and is renewed after it, so
 * history grows with wall-clock hours, never with checks. Returns only with a verdict;
 * ends by cancellation.
 */
export async function watchRegionUntilBreach(run: RolloutRun, i: number, phase: 'soak' | 'promoted'): Promise<WatchOutcome> {
  const [region] = run.regionOf(i);
  const { serverRetriedChecks, weekLongPromotedWatches } = run.gen;
  const horizonMs = Math.max(
    region.maxSoakMs,
    phase === 'soak' ? WATCH_HORIZON_MIN_MS : weekLongPromotedWatches ? PROMOTED_CHECKS_HORIZON_MS : PROMOTED_WATCH_HORIZON_MS,
  );
  const every = formatDuration(region.checkIntervalMs);
  const acts = serverRetriedChecks
    ? checkActivities(
        region,
        horizonMs,
        phase === 'soak' ? `SLO watch of ${region.name}, every ${every}` : `SLO watch of ${region.name} (promoted), every ${every}`,
      )
    : longWatchActivities(horizonMs, region.checkIntervalMs, phase === 'soak' ? `SLO watch of ${region.name}` : `SLO watch of ${region.name} (promoted)`);
  for (;;) {
    const until = Date.now() + horizonMs;
    const out = await (serverRetriedChecks ? acts.checkRegion : acts.watchRegion)(watchInput(run, i, phase, until));
    // Known at once, in the first step after the result: the flow's last check before
    // success may run in the same workflow task, before this breach is handled below.
    if (out.kind === 'breach' && phase === 'promoted') run.breachesArriving.add(i);
    if (out.kind !== 'ended') return out;
    // A watch that ended before its horizon (a clock running ahead) is not renewed early:
    // that would spin. The next one starts at the horizon.
    if (until > Date.now()) await sleep(until - Date.now(), { summary: `next SLO watch of ${region.name}` });
  }
}

/**
 * Keeps watching a promoted region until the rollout ends. A breach marks the region
 * failed at once (status, owner, quarantine: even while a rollback elsewhere is stuck)
 * and interrupts the region in flight; the main loop rolls back at its next safe point.
 */
export function watchPromoted(run: RolloutRun, i: number): void {
  const [region, r] = run.regionOf(i);
  const scope = new CancellationScope();
  run.promotedWatches.set(i, scope);
  // Not awaited: the watch runs beside the flow and reports through the run.
  void scope
    .run(async () => {
      for (;;) {
        let out: WatchOutcome;
        try {
          out = await watchRegionUntilBreach(run, i, 'promoted');
        } catch (e) {
          if (isCancellation(e)) throw e;
          // A watch that failed for good is no evidence either way: say so, start another.
          r.watchProblem = `watch after promotion failed (${causeMessage(e)}); watching again`;
          run.publish();
          await sleep(Math.max(region.checkIntervalMs, 60_000), { summary: `SLO watch of ${region.name} again after a failed one` });
          continue;
        }
        if (out.kind === 'breach') return out;
        // Only a breach is a regression (a watch from an older worker may still report an
        // evidence gap): say so and keep watching.
        r.watchProblem = `no conclusive evidence after promotion (${out.kind}); still watching`;
        run.publish();
        await sleep(region.checkIntervalMs);
      }
    })
    .then(
      (outcome) => {
        run.promotedWatches.delete(i);
        run.breachesArriving.delete(i);
        const why =
          r.status === 'inconclusive'
            ? `SLO breach in ${r.name} while it was held as inconclusive: ${describeGate(outcome.result)}`
            : `late regression in ${r.name} after promotion: ${describeGate(outcome.result)}`;
        r.lastGate = outcome.result;
        run.move(r, 'failed');
        r.regressedAt = Date.now();
        run.quarantine(r.name, why);
        run.publish();
        run.notify('rollback', why, r.name);
        run.lateBreaches.push({ index: i, why, cause: causeFromGate('late-regression', r.name, outcome.result) });
        run.regionScope?.cancel();
      },
      (e) => {
        run.promotedWatches.delete(i);
        if (isCancellation(e)) return;
        // No evidence of a regression is not a regression; say so where operators look.
        r.watchProblem = `watch after promotion stopped: ${causeMessage(e)}`;
        run.publish();
      },
    );
}

/** Stops the watch of region i if it has one (a region held inconclusive is watched by its own soak once retried). */
export function stopWatching(run: RolloutRun, i: number): void {
  run.promotedWatches.get(i)?.cancel();
  run.promotedWatches.delete(i);
}

export function stopPromotedWatches(run: RolloutRun): void {
  for (const scope of run.promotedWatches.values()) scope.cancel();
  run.promotedWatches.clear();
}
