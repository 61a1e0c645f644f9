// The state of one rollout run: the status every query returns, the operator intents the
// handlers set and the flow acts on, and the one way status is published and reported.
import { ApplicationFailure, CancellationScope, patched, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { RolloutEventKind } from '../../domain/activity-contract';
import type { NormalizedPlan, NormalizedRegion, Notification } from '../../plan';
import type { RolloutInput } from '../../domain/definitions';
import type { HaltCause } from '../../domain/halt-cause';
import { operationKey, type KeyParts } from '../../domain/idempotency';
import { SA_QUARANTINE, SA_REGION, SA_STATE } from '../../domain/search-attributes';
import { legalActions, type ActionContext, type RegionState, type RegionStatus, type RolloutState, type RolloutStatus } from '../../domain/state';
import { moveRegion } from '../../domain/region-transitions';
import { OperatorIntents } from '../../domain/operator-intents';
import { runbookLink } from '../../domain/runbook';
import { renderDetails, summarize } from '../../domain/summary';
import { REVIEW_MEMO_KEY, reviewMemoOf } from '../../domain/review-memo';
import { deployActivities, notifyActs } from './activities';
import type { LateBreach } from './outcomes';
import { RolloutMetrics } from './metrics';
import { PATCH_FLEET_POLICY, type Generation } from './patches';
import type { PolicyNotice } from '../../domain/policy-definitions';
import { DEFAULT_REMINDERS, HoldReminders } from './reminders';

export class RolloutRun {
  readonly info = workflowInfo();
  readonly status: RolloutStatus;

  /** Operator intents. Handlers only record them; the main flow acts on them at safe points. */
  readonly intents: OperatorIntents;
  /** Every region is promoted: only contract migrations are left, and abort is refused. */
  pastPointOfNoReturn = false;

  /** The region step in flight: an abort or a late regression cancels it. */
  regionScope: CancellationScope | undefined;
  /** Watches of promoted regions (and regions held inconclusive), by region index. */
  readonly promotedWatches = new Map<number, CancellationScope>();
  /** Regions whose deploy was asked for and has not answered: it may be under way at the deployer. */
  readonly unsettledDeploys = new Set<number>();
  /** Promoted regions whose watch returned a breach that is not in lateBreaches yet (handled a few steps later). */
  readonly breachesArriving = new Set<number>();
  /** Regressions the watches found, waiting for the main loop's next safe point. */
  readonly lateBreaches: LateBreach[] = [];
  readonly pendingNotifications: Promise<unknown>[] = [];
  /** Bumped by every word from the fleet policy: a held step asks again. */
  policyNudges = 0;
  /** The fleet policy's last word on what would hold this rollout. */
  policyNotice: PolicyNotice | undefined;
  /** Whether the policy may count this run in a region (a slot, or a place in its queue): given back when it halts or ends. */
  holdsPolicySlot = false;
  private followsPolicy: boolean | undefined;
  /** Constructed at workflow start, so its scope is the root one. */
  private readonly holds = new HoldReminders(this, CancellationScope.current());
  private readonly metrics: RolloutMetrics;

  private preparedPlan: NormalizedPlan | undefined;
  private deployStubs: ReturnType<typeof deployActivities> | undefined;
  private lastState: RolloutState | undefined;
  private lastRegion: string | undefined;

  constructor(
    readonly input: RolloutInput,
    readonly gen: Generation,
  ) {
    const doc = (typeof input.plan === 'object' && input.plan !== null ? input.plan : {}) as Record<string, unknown>;
    this.status = input.carried?.status ?? {
      rolloutId: this.info.workflowId,
      service: typeof doc.service === 'string' ? doc.service : '?',
      version: typeof doc.version === 'string' ? doc.version : '?',
      owner: { team: '?', contact: '?' },
      state: 'running',
      regions: [],
      actions: [],
      legalActions: [],
      startedAt: Date.now(),
      failurePolicy: 'halt',
      summary: 'validating the plan',
      ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
    };
    this.status.overrides ??= [];
    this.intents = new OperatorIntents({ paused: this.status.state === 'paused' });
    this.preparedPlan = input.carried?.plan;
    this.metrics = new RolloutMetrics(this.status, input.carried !== undefined);
  }

  /**
   * Whether this run consults the fleet policy: the patch is asked at the first step that
   * would, never at workflow start. A newer generation has it without asking: its first
   * consult comes in the same workflow task as the one-step start's local activity, and a
   * patch first asked there did not replay (a marker after a local activity's in one task).
   */
  policyApplies(): boolean {
    if (!this.gen.edges) return false;
    return (this.followsPolicy ??= this.gen.oneStepStartAndMemo || patched(PATCH_FLEET_POLICY));
  }

  get hasPlan(): boolean {
    return this.preparedPlan !== undefined;
  }

  /** The validated plan; every step after preparation uses it. */
  get plan(): NormalizedPlan {
    if (!this.preparedPlan) throw new Error('the plan is not prepared yet');
    return this.preparedPlan;
  }

  set plan(p: NormalizedPlan) {
    this.preparedPlan = p;
  }

  get deployActs(): ReturnType<typeof deployActivities> {
    return (this.deployStubs ??= deployActivities(this.plan));
  }

  regionOf(i: number): [NormalizedRegion, RegionState] {
    return [this.plan.regions[i]!, this.status.regions[i]!];
  }

  /** The region the flow works on: the first not promoted (-1 when every region is). */
  firstUnpromoted(): number {
    return this.status.regions.findIndex((r) => r.status !== 'promoted');
  }

  needsApproval(name: string): boolean {
    return this.preparedPlan?.regions.find((r) => r.name === name)?.approval === 'required' && !this.intents.isApproved(name);
  }

  /** What the action table (state.ts) decides on. */
  ctx(): ActionContext {
    return {
      state: this.status.state,
      abortRequested: this.intents.abortRequested,
      pastPointOfNoReturn: this.pastPointOfNoReturn,
      awaitingApproval: this.status.regions.find((r) => r.status === 'awaiting-approval' || (r.status === 'soaking' && this.needsApproval(r.name)))?.name,
      soaking: this.status.regions.find((r) => r.status === 'soaking')?.name,
    };
  }

  /** After every change: legal actions, summary, search attributes (only when they change), the UI's current details and the metrics. */
  publish(): void {
    const status = this.status;
    this.holds.update();
    this.metrics.observe(status);
    status.legalActions = legalActions(this.ctx());
    status.summary = summarize(status);
    if (status.state !== this.lastState || status.currentRegion !== this.lastRegion) {
      this.lastState = status.state;
      this.lastRegion = status.currentRegion;
      upsertSearchAttributes([
        { key: SA_STATE, value: status.state },
        { key: SA_REGION, value: status.currentRegion ?? '' },
      ]);
    }
    setCurrentDetails(renderDetails(status));
  }

  setState(s: RolloutState): void {
    this.status.state = s;
    this.publish();
  }

  /** Moves a region's status, checked against the domain's table (for rollouts started with the edges patch). */
  move(r: RegionState, to: RegionStatus): void {
    moveRegion(r, to, this.gen.edges);
  }

  /** Sends a notification in the background: it never blocks or fails a rollout (the activity records per-target results). */
  notify(kind: RolloutEventKind, message: string, region?: string, targets?: Notification[]): void {
    const plan = this.preparedPlan;
    const notifications = targets ?? plan?.notifications ?? [];
    if (!plan || notifications.length === 0) return;
    const { rolloutId, service, version } = this.status;
    const runbook = runbookLink(this.status);
    const p = notifyActs
      .notify({
        notifications,
        owner: plan.owner,
        event: { kind, rolloutId, service, version, message, at: Date.now(), ...(region ? { region } : {}), ...(runbook ? { runbook } : {}) },
      })
      .catch(() => undefined);
    this.pendingNotifications.push(p);
  }

  /** The reminder settings of the prepared plan (defaults for plans prepared before reminders existed). */
  reminderPlan(): { reminders: NonNullable<NormalizedPlan['reminders']>; notifications: Notification[] } | undefined {
    const plan = this.preparedPlan;
    return plan && { reminders: plan.reminders ?? DEFAULT_REMINDERS, notifications: plan.notifications };
  }

  /** Records that this version failed a gate, so that starting it again needs an override. */
  quarantine(region: string, reason: string): void {
    if (this.status.quarantine) return;
    this.status.quarantine = { region, reason, at: Date.now() };
    upsertSearchAttributes([{ key: SA_QUARANTINE, value: region }]);
  }

  /** The idempotency key of one intended step; runs from before attempt keys leave it to the activity. */
  keyOf(step: KeyParts['step'], target: string, attempt: number): { idempotencyKey?: string } {
    if (!this.gen.attemptKeys) return {};
    // A run made by `temporal workflow reset` repeats steps the original run took, under the
    // same attempt numbers: its own run id keeps them apart, so the deployer does not hand
    // back the original's operations (a reset run's started event keeps the original's id).
    const reset = this.gen.edges && this.info.runId !== this.info.originalExecutionRunId;
    return {
      idempotencyKey: operationKey({
        workflowId: this.info.workflowId,
        rolloutRunId: reset ? this.info.runId : this.info.firstExecutionRunId,
        step,
        target,
        version: this.plan.version,
        attempt,
      }),
    };
  }

  /** Ends the rollout before anything was deployed: failed, with its cause, as a workflow failure of this type. */
  /** The review's figures, once the rollout has ended (one event: the review reads them from visibility). */
  writeReviewMemo(): void {
    if (this.gen.oneStepStartAndMemo) upsertMemo({ [REVIEW_MEMO_KEY]: reviewMemoOf(this.status) });
  }

  failBeforeDeploy(reason: string, cause: HaltCause, failureType: string): never {
    this.status.state = 'failed';
    this.status.endedAt = Date.now();
    this.status.halt = { reason, at: Date.now(), cause };
    this.publish();
    this.writeReviewMemo();
    throw ApplicationFailure.nonRetryable(reason, failureType, this.status);
  }
}
