// Compensation: rollbacks run to completion even while the rollout is being aborted; a
// failing one halts as rollback-failed until an operator retries. Abort, the rollback-all
// policy and late regressions all come down to rolling back a list of regions.
import { inRegion } from './activities';
import { CancellationScope, condition } from '@temporalio/workflow';
import type { HaltCause } from '../../domain/halt-cause';
import type { HaltInfo, RegionState, RolloutState, RolloutStatus } from '../../domain/state';
import { finish } from './end';
import { revertExpand } from './migrations';
import { causeMessage } from './outcomes';
import type { RolloutRun } from './run';
import { stopPromotedWatches, stopWatching } from './watches';

async function rollbackOne(run: RolloutRun, i: number): Promise<boolean> {
  const [region, r] = run.regionOf(i);
  const plan = run.plan;
  // A region being rolled back is no longer judged: its watch could otherwise fail it again
  // later and roll it back a second time, cancelling whatever the operator retried meanwhile.
  if (run.gen.edges) stopWatching(run, i);
  run.move(r, 'rolling-back');
  // Each rollback asked for is its own operation: an operator's retry of a failed one must not get the failure back.
  if (run.gen.attemptKeys) r.rollbackAttempts = (r.rollbackAttempts ?? 0) + 1;
  run.publish();
  try {
    await CancellationScope.nonCancellable(() =>
      inRegion(run.deployActs.rollbackRegion, region, {
        rolloutId: run.status.rolloutId,
        service: plan.service,
        region: region.name,
        version: plan.version,
        deployer: plan.deployer,
        ...(r.previousVersion ? { previousVersion: r.previousVersion } : {}),
        ...(run.gen.edges && run.unsettledDeploys.has(i) ? { afterInterruptedDeploy: true } : {}),
        ...run.keyOf('rollback', region.name, r.rollbackAttempts ?? 0),
      }),
    );
    run.unsettledDeploys.delete(i);
    run.move(r, 'rolled-back');
    // Whatever it waited for (an approval an abort cut short) is no longer awaited.
    delete r.waitingFor;
    run.publish();
    return true;
  } catch (e) {
    run.move(r, 'rollback-failed');
    r.waitingFor = `operator: rollback failed (${causeMessage(e)})`;
    run.publish();
    return false;
  }
}

/** Rolls back the given regions in order; a failing one halts as rollback-failed until an operator retries. */
export async function rollbackAll(run: RolloutRun, indices: number[], then: RolloutState): Promise<void> {
  const { status } = run;
  for (;;) {
    status.state = 'rolling-back';
    run.publish();
    const failed: number[] = [];
    for (const i of indices) {
      const r = status.regions[i]!;
      if (r.status === 'rolled-back' || r.status === 'pending') continue;
      if (!(await rollbackOne(run, i))) failed.push(i);
    }
    if (failed.length === 0) {
      run.setState(then);
      return;
    }
    const names = failed.map((i) => status.regions[i]!.name).join(', ');
    const first = status.regions[failed[0]!]!.name;
    status.halt = {
      region: first,
      reason: `rollback failed in ${names}: an operator must retry (or fix the region by hand and retry)`,
      at: Date.now(),
      cause: { kind: 'rollback-failed', region: first },
    };
    run.intents.dropRetry();
    run.setState('rollback-failed');
    run.notify('rollback-failed', status.halt.reason, status.halt.region);
    await condition(() => run.intents.retryRequested);
    run.intents.takeRetry();
    delete status.halt;
  }
}

/** Whether the region runs (or may partly run) this version and needs a rollback to be clean. */
export function isDeployed(r: RegionState): boolean {
  if (r.status === 'pending' || r.status === 'rolled-back') return false;
  // Waiting for a window, a resume or the fleet policy happens before the deploy as well as after it.
  return !waitsBeforeDeploy(r) || r.deployedAt !== undefined;
}

/** Statuses a region can wait in before its deploy (and some after it). */
function waitsBeforeDeploy(r: RegionState): boolean {
  return r.status === 'waiting-window' || r.status === 'awaiting-resume' || r.status === 'blocked';
}

/** A region that was only waiting (for its window, or a resume) never ran this version: it is pending again. */
function forgetWait(run: RolloutRun, r: RegionState): void {
  run.move(r, 'pending');
  delete r.waitingFor;
  delete r.waitingUntil;
  delete r.blockedBy;
}

function deployedIndices(run: RolloutRun): number[] {
  return run.status.regions
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => isDeployed(r))
    .map(({ i }) => i)
    .reverse();
}

/** An accepted abort (or a cancelled workflow): every deployed region back, expand migrations reverted, the rollout ends aborted. */
export async function abortAll(run: RolloutRun): Promise<RolloutStatus> {
  const { status, plan } = run;
  const reason = [...status.actions].reverse().find((a) => a.action === 'abort' && a.accepted);
  const halt: HaltInfo = { reason: `aborted by ${reason?.by ?? 'an operator'}: ${reason?.reason ?? ''}`, at: Date.now(), cause: { kind: 'aborted' } };
  status.halt = halt;
  stopPromotedWatches(run);
  await rollbackAll(run, deployedIndices(run), 'aborted');
  // A rollback that failed meanwhile replaced the halt with its own and deleted it on retry:
  // the rollout ends with the abort's.
  status.halt = halt;
  for (const r of status.regions) if (waitsBeforeDeploy(r) && !isDeployed(r)) forgetWait(run, r);
  await revertExpand(run);
  const irreversible = plan.migrations.filter((m) => m.irreversible && m.phase === 'expand').map((m) => m.name);
  if (irreversible.length) halt.reason += `; not undone (irreversible): ${irreversible.join(', ')}`;
  run.notify('aborted', halt.reason);
  return finish(run);
}

/** Policy rollback-all: every deployed region back, newest first, expand reverted; the rollout then ends. */
export async function rollBackEverything(run: RolloutRun, region: string, reason: string, cause: HaltCause): Promise<void> {
  stopPromotedWatches(run);
  await rollbackAll(run, deployedIndices(run), 'rolled-back');
  run.status.halt = { region, reason, at: Date.now(), cause };
  await revertExpand(run);
  run.notify('rolled-back', reason, region);
}

/**
 * Promoted regions regressed (the watch already marked, quarantined and reported them).
 * Rolls back per policy; returns true when the policy ended the rollout.
 */
export async function onLateBreaches(run: RolloutRun, current: number): Promise<boolean> {
  const { status } = run;
  const batch = run.lateBreaches.splice(0);
  const whys = batch.map((b) => b.why).join('; ');
  const haltedBefore = status.state === 'halted' && status.halt ? ` (halted before: ${status.halt.reason})` : '';
  if (run.plan.failurePolicy === 'rollback-all') {
    await rollBackEverything(
      run,
      status.regions[batch[0]!.index]!.name,
      `${whys}; every deployed region rolled back (policy rollback-all)${haltedBefore}`,
      batch[0]!.cause,
    );
    return true;
  }
  // The region in flight runs the same version without a passed gate: it goes back too.
  const inFlight = status.regions[current];
  const regressed = batch.map((b) => b.index);
  const back = [...regressed];
  if (inFlight && !regressed.includes(current) && inFlight.status !== 'promoted') {
    if (isDeployed(inFlight)) back.push(current);
    else if (waitsBeforeDeploy(inFlight)) forgetWait(run, inFlight);
  }
  back.sort((a, b) => b - a); // newest first
  await rollbackAll(run, back, 'halted');
  const names = back.map((j) => status.regions[j]!.name).join(', ');
  const from = status.regions[run.firstUnpromoted()]!;
  status.currentRegion = from.name;
  status.halt = {
    region: from.name,
    reason: `${whys}; rolled back ${names}; later regions held, retry resumes at ${from.name}${haltedBefore}`,
    at: Date.now(),
    cause: batch[0]!.cause,
  };
  return false;
}
