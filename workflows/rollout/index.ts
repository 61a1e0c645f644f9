// The rollout workflow: one execution per rollout of one service version, region by region
// in plan order. Everything here is deterministic workflow code; every side effect is an
// activity (activities/), every wait is a durable timer or condition. This file is the
// flow; docs/architecture.md ("The workflow's modules") maps the rest of this folder.
import { ApplicationFailure, CancellationScope, condition, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { RolloutInput } from '../../domain/definitions';
import { ROLLOUT_FAILURE } from '../../domain/failures';
import { causeWithDetail } from '../../domain/halt-cause';
import type { RolloutStatus } from '../../domain/state';
import { abortAll, onLateBreaches, rollBackEverything, rollbackAll } from './compensation';
import { finish } from './end';
import { continueWithState, waitHalted } from './halts';
import { cancelAsAbort, installHandlers } from './messages';
import { applyMigrations } from './migrations';
import { Aborted, causeMessage, type SoakOutcome } from './outcomes';
import { PATCH_LATE_BREACH_AT_THE_END, readGeneration } from './patches';
import { runRegion } from './region';
import { RolloutRun } from './run';
import { preparePlan } from './start';
import { everyRegionRunsIt } from './verify';
import { stopPromotedWatches, stopWatching, watchPromoted } from './watches';

export {
  PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS,
  PATCH_FLEET_POLICY,
  PATCH_HOLD_REMINDERS,
  PATCH_ONE_STEP_START_AND_REVIEW_MEMO,
  PATCH_SERVER_RETRIED_CHECKS,
  PATCH_SOAK_ENDS_IN_ITS_WATCH,
  PATCH_TRUTH_AT_THE_EDGES,
  PATCH_WATCH_PROMOTED_AND_QUARANTINE,
  PATCH_WEEK_LONG_PROMOTED_WATCHES,
} from './patches';

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutStatus> {
  const gen = readGeneration();
  if (!gen.edges) {
    const run = new RolloutRun(input, gen);
    // Handlers go in before the first await: an update that arrives early is otherwise rejected.
    installHandlers(run);
    await preparePlan(run);
    return roll(run);
  }
  // A workflow cancel (Web UI "Cancel", `temporal workflow cancel`) is an operator's abort
  // and obeys the same action table: refused past the point of no return, a no-op while an
  // abort compensates. So nothing in the flow is cancelled by it directly: the flow runs
  // outside the root scope, and the cancel reaches it only as an action.
  const root = CancellationScope.current();
  return CancellationScope.nonCancellable(async () => {
    const run = new RolloutRun(input, gen);
    installHandlers(run);
    root.cancelRequested.catch(() => cancelAsAbort(run));
    await preparePlan(run);
    return roll(run);
  });
}

/** The flow: expand migrations, then always the first region not promoted, until every region runs the version; then contract. */
async function roll(run: RolloutRun): Promise<RolloutStatus> {
  const { status, plan, input } = run;
  // The catch is in this function, not around its caller: an abort's first command must
  // come as soon as it did when this was one function (recorded histories replay it).
  try {
    let i = input.carried?.regionIndex ?? 0;
    // A continued run watches again what the previous run watched (promoted regions, and a
    // region held as inconclusive), picks up its intents, and if it was halted (a region, or a
    // migration step) waits for retry or abort first.
    // (Past the point of no return nothing is watched: a breach could only roll back after the contract.)
    const pastNoReturn = run.gen.edges && input.carried !== undefined && run.firstUnpromoted() < 0;
    if (!pastNoReturn) status.regions.forEach((r, j) => r.status === 'promoted' && j + 1 < plan.regions.length && watchPromoted(run, j));
    for (const a of input.carried?.approvals ?? []) run.intents.approve(a);
    status.regions.forEach((r, j) => r.status === 'inconclusive' && input.carried?.halted && watchPromoted(run, j));
    // Every region promoted and still running: only contract migrations were left.
    if (input.carried && run.firstUnpromoted() < 0) run.pastPointOfNoReturn = true;
    if (input.carried?.halted) {
      if (input.carried.retry) run.intents.requestRetry();
      else run.intents.dropRetry();
      await waitHalted(run, status.halt?.region ?? plan.regions[Math.min(i, plan.regions.length - 1)]!.name, i, true);
    }
    // Applied steps are skipped, so a continued run only finishes what is left.
    if (plan.migrations.some((m) => m.phase === 'expand')) await applyMigrations(run, 'expand', plan.regions[0]!.name, 0);

    // Never finishes while a region does not run the version: regions still promoted after a
    // late regression elsewhere are skipped, not redeployed. With the edges patch every
    // region is read once more at the end, and one that no longer runs it is deployed again.
    for (;;) {
      do {
        while (run.lateBreaches.length > 0 || run.firstUnpromoted() >= 0) {
          if (run.intents.abortRequested) throw new Aborted();
          if (run.lateBreaches.length > 0) {
            if (await onLateBreaches(run, i)) return await finish(run);
            i = run.firstUnpromoted();
            await waitHalted(run, status.regions[i]!.name, i);
            continue;
          }
          i = run.firstUnpromoted();
          // A region held as inconclusive was watched while halted; its own soak watches it now.
          stopWatching(run, i);
          let outcome: SoakOutcome;
          run.regionScope = new CancellationScope();
          try {
            outcome = await run.regionScope.run(() => runRegion(run, i));
          } catch (e) {
            if (run.intents.abortRequested || e instanceof Aborted) throw new Aborted();
            if (isCancellation(e)) {
              if (run.lateBreaches.length > 0) continue; // interrupted by a late regression: handled above
              throw new Aborted();
            }
            // A deploy that failed for good is a failed region: roll back what it may have touched.
            const name = plan.regions[i]!.name;
            outcome = {
              kind: 'failed',
              reason: `deploy to ${name} failed: ${causeMessage(e)}`,
              cause: causeWithDetail({ kind: 'deploy-failed', region: name }, causeMessage(e)),
            };
          } finally {
            run.regionScope = undefined;
          }
          const r = status.regions[i]!;
          if (outcome.kind === 'passed') {
            run.move(r, 'promoted');
            // Never before the gate that allowed it (a worker that took over may run with an older time).
            r.promotedAt = run.gen.edges ? Math.max(Date.now(), r.lastGate?.at ?? 0) : Date.now();
            if (i + 1 < plan.regions.length) watchPromoted(run, i);
            i += 1;
            run.publish();
            if (i < plan.regions.length && run.lateBreaches.length === 0 && workflowInfo().continueAsNewSuggested) await continueWithState(run, i, false);
            continue;
          }

          if (outcome.gate) r.lastGate = outcome.gate;
          run.move(r, outcome.kind === 'failed' ? 'failed' : 'inconclusive');
          status.halt = { region: r.name, reason: outcome.reason, at: Date.now(), cause: outcome.cause };
          run.publish();
          if (outcome.kind === 'failed') {
            // Failing a gate (not a deploy error) makes the version bad for this service.
            if (outcome.gate) run.quarantine(r.name, outcome.reason);
            run.notify('rollback', outcome.reason, r.name);
            if (plan.failurePolicy === 'rollback-all') {
              await rollBackEverything(run, r.name, `${outcome.reason}; every deployed region rolled back (policy rollback-all)`, outcome.cause);
              return await finish(run);
            }
            await rollbackAll(run, [i], 'halted');
            status.halt = { region: r.name, reason: `${outcome.reason}; ${r.name} rolled back, later regions held`, at: Date.now(), cause: outcome.cause };
          } else {
            // Inconclusive is not rolled back: the region keeps the version while an operator
            // decides, so it stays watched; a breach there is a regression like any other.
            watchPromoted(run, i);
          }
          await waitHalted(run, r.name, i);
        }
      } while (run.gen.edges && !(await everyRegionRunsIt(run)));
      // A promoted region's breach that came in with the last check, in the same workflow task,
      // is not in lateBreaches yet: without this the rollout succeeded and the region read
      // `failed` right after (operator-race, seed -912984631). Waiting for it takes no command
      // and no new task; the patch is asked only when it happens.
      if (run.breachesArriving.size === 0 || !(run.gen.oneStepStartAndMemo || patched(PATCH_LATE_BREACH_AT_THE_END))) break;
      await condition(() => run.lateBreaches.length > 0 || run.breachesArriving.size === 0);
    }
    // Watching ends with the last promotion: contract migrations are the point of no return.
    stopPromotedWatches(run);
    // Unreachable by design (the loop runs until every region is promoted); if a breach ever
    // slipped in at the last promotion, fail loudly rather than report success.
    if (run.lateBreaches.length > 0 || run.firstUnpromoted() >= 0) {
      throw ApplicationFailure.nonRetryable(
        `the rollout reached its end with regions not running ${plan.version}; it did not succeed (a bug: please report it)`,
        ROLLOUT_FAILURE.failed,
        status,
      );
    }
    run.pastPointOfNoReturn = true;
    run.publish();
    if (plan.migrations.some((m) => m.phase === 'contract')) await applyMigrations(run, 'contract', plan.regions.at(-1)!.name, plan.regions.length);
    status.state = 'succeeded';
    run.notify('succeeded', `${plan.service} ${plan.version} is live in ${plan.regions.length} regions`);
    return await finish(run);
  } catch (e) {
    // Cancelling the workflow itself (Temporal UI "Cancel", `temporal workflow cancel`)
    // cancels the root scope. It is an abort, with its rollbacks, never a silent stop; and
    // the abort must run outside the cancelled scope to finish at all.
    const workflowCancelled = CancellationScope.current().consideredCancelled;
    if (workflowCancelled && !run.intents.abortRequested && (isCancellation(e) || e instanceof Aborted)) {
      run.intents.abortOnCancel();
      run.status.actions.push({
        action: 'abort',
        by: 'temporal',
        reason: 'workflow cancellation requested (Temporal UI or `temporal workflow cancel`)',
        at: Date.now(),
        via: 'signal',
        accepted: true,
        note: 'treated as abort',
      });
    }
    if (e instanceof Aborted || (run.intents.abortRequested && isCancellation(e)))
      return workflowCancelled ? CancellationScope.nonCancellable(() => abortAll(run)) : abortAll(run);
    throw e;
  }
}
