// The rollout's side of the fleet policy (domain/policy.ts): before a region's deploy and
// before its promotion the policy is asked; a held step waits as `blocked` until the policy
// says the holder is gone (or a freeze's end comes), and the rollout gives its region slots
// back when it halts or ends. Rollbacks and aborts never ask: nothing stops an undo.
import { condition, getExternalWorkflowHandle, proxyLocalActivities } from '@temporalio/workflow';
import type { RolloutActivities, WatchOutcome } from '../../domain/activity-contract';
import { describeBlocker, policyWorkflowId, type Blocker, type ConsultAnswer, type PolicyStep } from '../../domain/policy';
import { releaseSignal } from '../../domain/policy-definitions';
import type { RegionStatus } from '../../domain/state';
import { Aborted, causeMessage } from './outcomes';
import type { RolloutRun } from './run';

/** A local activity: one marker in history per question instead of an activity's three events and a task. */
const policyActs = proxyLocalActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  // A policy busy with many rollouts asking at once refuses updates past the server's
  // in-flight limit (10 on the dev server): a few more tries over ~20 s before holding as unreadable.
  retry: { initialInterval: '1s', maximumInterval: '5s', maximumAttempts: 6 },
});

/** A policy that could not be read is asked again after this; the hold shows why meanwhile. */
const UNREADABLE_RETRY_MS = 30_000;
/**
 * A held step asks again at least this often, in case a word from the policy never came (a
 * policy reset by hand); a freeze with an end is asked about again at its end anyway. Long,
 * so a weekend's hold costs a dozen questions, not hundreds.
 */
const HELD_RECHECK_MS = 6 * 3_600_000;

/**
 * Holds region i until the policy lets `step` go. While held the region is `blocked`, with
 * what holds it; an abort ends the wait, and a breach on the watch `breach` starts (a held
 * promotion: started only once held) comes back as the result. Returns whether it was held at all (a held deploy
 * looks at its window again).
 */
export async function clearedByPolicy(
  run: RolloutRun,
  i: number,
  step: PolicyStep,
  breach?: () => Promise<WatchOutcome | undefined>,
): Promise<{ held: boolean; breach?: WatchOutcome }> {
  if (!run.policyApplies()) return { held: false };
  const [region, r] = run.regionOf(i);
  const { plan, status } = run;
  let before: RegionStatus | undefined;
  for (;;) {
    const seen = run.policyNudges;
    const answer: ConsultAnswer = await policyActs
      .consultPolicy({ rolloutId: status.rolloutId, service: plan.service, team: plan.owner.team, region: region.name, step })
      .catch((e: unknown) => ({ allowed: false, blockers: [{ kind: 'unreadable', reason: causeMessage(e) } satisfies Blocker] }));
    // A deploy allowed holds a slot, a held step a place in the queue, until the promotion.
    run.holdsPolicySlot = step === 'deploy' || !answer.allowed;
    if (run.intents.abortRequested) throw new Aborted();
    if (answer.allowed) {
      recordOverrides(run, region.name, step, answer);
      if (before !== undefined) {
        run.move(r, before);
        delete r.blockedBy;
        delete r.waitingFor;
        delete r.waitingUntil;
        run.publish();
      }
      return { held: before !== undefined };
    }
    if (before === undefined) before = r.status;
    run.move(r, 'blocked');
    r.blockedBy = answer.blockers;
    const ends = answer.blockers.map((b) => b.until).filter((t): t is number => t !== undefined);
    const unreadable = answer.blockers.some((b) => b.kind === 'unreadable');
    const recheckAt = Math.min(Date.now() + (unreadable ? UNREADABLE_RETRY_MS : HELD_RECHECK_MS), ...ends);
    // When every blocker ends by itself, the hold's end is shown once (waitingUntil), not per blocker.
    const allEnd = ends.length === answer.blockers.length && ends.length > 0;
    if (allEnd) r.waitingUntil = Math.max(...ends);
    else delete r.waitingUntil;
    const held = answer.blockers.map((b) => describeBlocker(b, { withUntil: !allEnd })).join('; ');
    r.waitingFor = `${step === 'deploy' ? 'its deploy' : 'its promotion'}: held by ${held}`;
    run.publish();
    const nudged = condition(() => run.policyNudges !== seen || run.intents.abortRequested, Math.max(recheckAt - Date.now(), 1)).then(() => undefined);
    const out = await (breach ? Promise.race([nudged, breach()]) : nudged);
    if (run.intents.abortRequested) throw new Aborted();
    if (out) {
      delete r.blockedBy;
      delete r.waitingFor;
      delete r.waitingUntil;
      return { held: true, breach: out };
    }
  }
}

/** A freeze this step went past by an override goes into the rollout's overrides (and the review), once per region and step. */
function recordOverrides(run: RolloutRun, region: string, step: PolicyStep, answer: ConsultAnswer): void {
  for (const o of answer.overridden ?? []) {
    const detail = `${step} past freeze ${o.freeze} by override ${o.override} (until ${new Date(o.until).toISOString()})`;
    const overrides = (run.status.overrides ??= []);
    if (overrides.some((x) => x.kind === 'freeze' && x.region === region && x.detail === detail)) continue;
    overrides.push({ kind: 'freeze', by: o.by, reason: o.reason, at: Date.now(), region, detail });
    run.notify('override', `${region}: ${detail}, by ${o.by}: ${o.reason}`, region);
  }
}

/**
 * Gives this rollout's region slots back (halted or ended) if it holds any: a rollout that
 * ends after its last promotion holds none and sends nothing. The policy also reclaims the
 * slots of rollouts that vanish (terminated).
 */
export function releasePolicySlots(run: RolloutRun, reason: string): void {
  if (!run.holdsPolicySlot) return;
  run.holdsPolicySlot = false;
  const p = getExternalWorkflowHandle(policyWorkflowId(run.info.taskQueue))
    .signal(releaseSignal, { rolloutId: run.status.rolloutId, reason })
    .catch(() => undefined);
  run.pendingNotifications.push(p);
}
