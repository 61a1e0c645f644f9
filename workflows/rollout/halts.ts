// Holds: waits an abort interrupts, a pause, a halt until retry or abort, and the
// continue-as-new that keeps a long halt's history short.
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { WatchOutcome } from '../../domain/activity-contract';
import type { RolloutInput } from '../../domain/definitions';
import type { RegionState, RolloutStatus } from '../../domain/state';
import { Aborted } from './outcomes';
import { releasePolicySlots } from './policy';
import type { RolloutRun } from './run';
import { stopPromotedWatches } from './watches';

/** Waits for fn (or a breach, which wins); an abort interrupts it by throwing Aborted. */
export async function waitFor(run: RolloutRun, fn: () => boolean, breach?: Promise<WatchOutcome | undefined>): Promise<WatchOutcome | undefined> {
  const done = condition(() => fn() || run.intents.abortRequested).then(() => undefined);
  const winner = await (breach ? Promise.race([done, breach]) : done);
  if (run.intents.abortRequested) throw new Aborted();
  return winner;
}

/** Holds region r while the rollout is paused; a breach meanwhile comes back as the result. */
export async function holdWhilePaused(run: RolloutRun, r: RegionState, breach?: Promise<WatchOutcome | undefined>): Promise<WatchOutcome | undefined> {
  if (!run.intents.paused) return undefined;
  const before = r.status;
  run.move(r, 'awaiting-resume');
  r.waitingFor = `resume (paused by ${run.status.pausedBy ?? 'an operator'})`;
  run.publish();
  const out = await waitFor(run, () => !run.intents.paused, breach);
  delete r.waitingFor;
  if (!out) run.move(r, before);
  run.publish();
  return out;
}

/** Hands the run's state to a new run (continue-as-new) at region index regionIndex. */
export async function continueWithState(run: RolloutRun, regionIndex: number, halted: boolean): Promise<void> {
  stopPromotedWatches(run); // the next run starts them again
  await condition(allHandlersFinished);
  await Promise.all(run.pendingNotifications);
  // An abort accepted while draining must not leave with this run.
  if (run.intents.abortRequested) throw new Aborted();
  const { input, status, plan } = run;
  await continueAsNew<(input: RolloutInput) => Promise<RolloutStatus>>({
    plan: input.plan,
    startedBy: input.startedBy,
    carried: { status, plan, regionIndex, halted, ...run.intents.carried() },
  });
}

/**
 * Holds the rollout halted until retry or abort. Returns early when a promoted region
 * regresses meanwhile (the caller rolls it back and halts again), and continues as new
 * when the history grows long: promoted regions' watches renew while it waits.
 */
export async function waitHalted(run: RolloutRun, region: string, index: number, carriedOver = false): Promise<void> {
  if (run.intents.abortRequested) throw new Aborted();
  if (!carriedOver) {
    run.intents.dropRetry();
    // A halted rollout deploys and soaks nothing: its region slots go to whoever waits.
    releasePolicySlots(run, 'halted');
    run.setState('halted');
    run.notify('halted', run.status.halt!.reason, region);
  }
  for (;;) {
    await condition(() => run.intents.retryRequested || run.intents.abortRequested || run.lateBreaches.length > 0 || workflowInfo().continueAsNewSuggested);
    if (run.intents.abortRequested) throw new Aborted();
    if (run.intents.retryRequested || run.lateBreaches.length > 0) break;
    await continueWithState(run, index, true);
  }
  if (!run.intents.takeRetry()) return;
  // Retry means go: a pause from before the halt would otherwise hold the retried region
  // with no way out, and approve/pause need the rollout to be running again.
  run.intents.unpause();
  delete run.status.pausedBy;
  run.setState('running');
}
