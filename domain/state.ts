// The rollout state machine as data: which operator action is legal in which state, and
// why not otherwise. Pure and deterministic, so the workflow, the update validators, the
// docs (docs/rollout-states.md) and a table-driven test all read the same table.
import type { GateResult } from './activity-contract';
import type { HaltCause } from './halt-cause';
import type { Blocker } from './policy';
import { actionSpec, OPERATOR_ACTION_CATALOGUE, type OperatorActionName } from './operator-actions';
export type { OperatorActionName } from './operator-actions';

import { TERMINAL_STATES, type RolloutState } from './rollout-states';
export { ROLLOUT_STATES, TERMINAL_STATES, type RolloutState } from './rollout-states';

export type RegionStatus =
  | 'pending'
  | 'waiting-window'
  | 'deploying'
  | 'soaking'
  | 'gating'
  | 'awaiting-approval'
  | 'awaiting-resume'
  | 'promoted'
  | 'failed'
  | 'inconclusive'
  | 'rolling-back'
  | 'rolled-back'
  | 'rollback-failed'
  /** Held by the fleet policy (a freeze, a full region, a policy that could not be read) before its deploy or promotion. */
  | 'blocked';

/** Every operator action, in the catalogue's order (domain/operator-actions.ts). */
export const OPERATOR_ACTIONS = Object.keys(OPERATOR_ACTION_CATALOGUE) as readonly OperatorActionName[];

/** What every operator action carries: who and why. Plain JSON so the Temporal UI can send it. */
export interface ActionPayload {
  reason: string;
  by: string;
  /** For approve and skip-soak: the region meant; defaults to the current one. */
  region?: string;
}

export interface RecordedAction {
  /** An operator action, or the name of an unknown signal someone sent (recorded as rejected). */
  action: OperatorActionName | (string & {});
  by: string;
  reason: string;
  region?: string;
  at: number;
  via: 'signal' | 'update';
  accepted: boolean;
  /** For a rejected action, why; for an accepted no-op, what it found. */
  note?: string;
}

export interface RegionState {
  name: string;
  size: number;
  status: RegionStatus;
  attempts: number;
  deployedAt?: number;
  soakEndsAt?: number;
  promotedAt?: number;
  previousVersion?: string;
  /** The version the deployer replaced (even this one, redeployed): the SLO baseline's. */
  baselineVersion?: string;
  /** The last gate evaluation, or the breach that failed the region. */
  lastGate?: GateResult;
  approvedBy?: string;
  /** What the region waits for, in words, while it waits. */
  waitingFor?: string;
  /** The task queue of the region's own worker, when the plan gives it one. */
  taskQueue?: string;
  waitingUntil?: number;
  /** Rollbacks of this region asked for so far: each gets its own idempotency key. */
  rollbackAttempts?: number;
  /** Epoch ms a promoted region regressed (its watch saw a breach after promotion). */
  regressedAt?: number;
  /** Why a watch of this region stopped without a verdict, if it did. */
  watchProblem?: string;
  /** While `blocked`: what the fleet policy holds it with. */
  blockedBy?: Blocker[];
}

/** A governed override: allowed, but only with a reason, and listed for the review. */
export interface OverrideRecord {
  kind: 'skip-soak' | 'quarantine' | 'freeze';
  by: string;
  reason: string;
  at: number;
  region?: string;
  /** What was overridden, e.g. the quarantine it went past. */
  detail?: string;
}

/** This rollout found its version bad: later rollouts of it are refused without an override. */
export interface QuarantineInfo {
  region: string;
  reason: string;
  at: number;
}

export interface HaltInfo {
  region?: string;
  reason: string;
  at: number;
  /** Why, as data (absent in rollouts started before causes were recorded). */
  cause?: HaltCause;
}

/** A state in which the rollout waits for a person: each reminds its owner while it lasts. */
export type HoldKind = 'paused' | 'halted' | 'rollback-failed' | 'awaiting-approval' | 'blocked';

/** The hold the rollout is in now, since when, and how often its owner was reminded of it. */
export interface HoldInfo {
  kind: HoldKind;
  since: number;
  region?: string;
  /** Reminders sent during this hold (the escalation counts as one). */
  reminders: number;
  /** When this hold was escalated, once it outlasted the plan's escalateAfter. */
  escalatedAt?: number;
}

/** A hold that ended, and when. */
export interface EndedHold extends HoldInfo {
  until: number;
}

/** Ended holds kept in status: a rollout paused and resumed all day must not grow its status without bound. */
export const MAX_RECORDED_HOLDS = 100;

export interface RolloutStatus {
  rolloutId: string;
  service: string;
  version: string;
  owner: { team: string; contact: string; runbook?: string };
  /** Who started the rollout (the CLI user, a CI job), as the start request said. */
  startedBy?: string;
  state: RolloutState;
  /** Set while a pause holds the next promotion (state is then `paused`). */
  pausedBy?: string;
  currentRegion?: string;
  regions: RegionState[];
  halt?: HaltInfo;
  /** The newest operator actions (at most MAX_RECORDED_ACTIONS), accepted and rejected. */
  actions: RecordedAction[];
  /** Counts of the actions folded out of `actions`, oldest first. */
  earlierActions?: { count: number; accepted: number; rejected: number; byAction: Record<string, number>; from: number; until: number };
  /** Overrides used (skip-soak, starting a quarantined version); absent in old rollouts. */
  overrides?: OverrideRecord[];
  /** Set when this rollout quarantined its version. */
  quarantine?: QuarantineInfo;
  /** Migration steps applied and not reverted, in order (v2 rollouts). */
  migrations?: { name: string; phase: 'expand' | 'contract'; direction: 'apply' | 'revert'; at: number }[];
  /** Runs of each migration step asked for so far (`name:phase:direction`): one idempotency key each. */
  migrationAttempts?: Record<string, number>;
  /** Set while the rollout waits for a person (absent in rollouts started before holds were tracked). */
  hold?: HoldInfo;
  /** Holds that ended, oldest first (the newest MAX_RECORDED_HOLDS): how long the rollout waited for people, exactly, for the review. */
  holds?: EndedHold[];
  /** Stale-hold reminders over the whole rollout: sent, and how many of them were escalations. */
  reminders?: { sent: number; escalated: number };
  /** The fleet policy's last word while something in it would hold this rollout (a freeze over its region): absent when nothing would. */
  policy?: { region: string; blockers: Blocker[]; at: number; receivedAt?: number };
  /** The plan's declared reason for more than two regions, for the quarterly review. */
  growthReason?: string;
  /** Operator actions legal right now: what `mrcd` and the UI can offer. */
  legalActions: OperatorActionName[];
  startedAt: number;
  endedAt?: number;
  failurePolicy: 'halt' | 'rollback-all';
  /** One line for humans: what is happening now. */
  summary: string;
}

export interface ActionContext {
  state: RolloutState;
  /** The region waiting for approval, if any. */
  awaitingApproval?: string;
  /** The region soaking, if any. */
  soaking?: string;
  abortRequested: boolean;
  /** Contract migrations are running: the rollout can no longer be rolled back or held. */
  pastPointOfNoReturn?: boolean;
}

export type ActionCheck = { legal: true; noop?: string } | { legal: false; reason: string };

/** The actions legal in a context, for `legalActions` and for rejection messages. */
export function legalActions(ctx: ActionContext): OperatorActionName[] {
  return OPERATOR_ACTIONS.filter((a) => {
    const c = decide(a, ctx);
    return c.legal && !c.noop;
  });
}

/**
 * Decides whether an action is legal now, and if not says what is. Duplicates (pause while
 * paused, abort while aborting) are legal no-ops so that retried CLI calls and double
 * clicks are harmless.
 */
export function checkAction(action: OperatorActionName, ctx: ActionContext): ActionCheck {
  const c = decide(action, ctx);
  if (c.legal) return c;
  const now = legalActions(ctx);
  return { legal: false, reason: `${action} is not possible: ${c.reason}. Legal now: ${now.length ? now.join(', ') : `nothing (${whyNothing(ctx)})`}` };
}

function whyNothing(ctx: ActionContext): string {
  if (TERMINAL_STATES.has(ctx.state)) return 'the rollout has ended';
  if (ctx.abortRequested) return 'the rollout is being aborted; it ends once its regions are rolled back';
  if (ctx.pastPointOfNoReturn) return 'contract migrations are running; the rollout ends when they do';
  return `the rollout is ${ctx.state}`;
}

/** The catalogue's rules of the action (domain/operator-actions.ts), applied to the context. */
function decide(action: OperatorActionName, ctx: ActionContext): ActionCheck {
  const { state } = ctx;
  const { rules, target } = actionSpec(action);
  const no = (reason: string): ActionCheck => ({ legal: false, reason });
  if (TERMINAL_STATES.has(state)) return no(`the rollout has ended (${state})`);
  if (ctx.pastPointOfNoReturn) {
    if (rules.pastPointOfNoReturn?.includes(state)) return { legal: true };
    return no('every region is promoted and contract migrations are running: past the point of no return, nothing can be held or rolled back');
  }
  if (ctx.abortRequested) {
    if (rules.whileAborting?.acceptedIn?.includes(state)) return { legal: true };
    return rules.whileAborting?.noop ? { legal: true, noop: rules.whileAborting.noop } : no('the rollout is being aborted');
  }
  const noop = rules.noopIn?.[state];
  if (noop) return { legal: true, noop };
  const region = target?.status === 'awaiting-approval' ? ctx.awaitingApproval : target?.status === 'soaking' ? ctx.soaking : undefined;
  if (rules.acceptedIn.includes(state) && (!target || region)) return { legal: true };
  return no(rules.refused.replace('{state}', state));
}

/** Bounds of an action payload: a reason is a sentence or a link, not a log file. */
export const MAX_REASON_CHARS = 1024;
export const MAX_NAME_CHARS = 200;

/**
 * Validates a signal/update payload by hand: zod stays out of the workflow bundle. With
 * `bounded` (every rollout since the bounds came in) over-long texts are refused too.
 */
export function payloadProblem(
  payload: unknown,
  opts: { bounded?: boolean; nonEmptyRegion?: boolean } = { bounded: true, nonEmptyRegion: true },
): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return 'payload must be a JSON object like {"reason": "...", "by": "..."}';
  }
  const p = payload as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof p.reason !== 'string' || p.reason.trim() === '') problems.push('reason: must be a non-empty string');
  if (typeof p.by !== 'string' || p.by.trim() === '') problems.push('by: must be a non-empty string naming who acts');
  if (p.region !== undefined && typeof p.region !== 'string') problems.push('region: must be a string');
  else if (opts.nonEmptyRegion && typeof p.region === 'string' && p.region.trim() === '')
    problems.push('region: must name a region (leave it out for the current one)');
  if (opts.bounded) {
    const tooLong = (field: string, v: unknown, max: number) =>
      typeof v === 'string' && v.length > max && problems.push(`${field}: at most ${max} characters (got ${v.length}); link to details instead`);
    tooLong('reason', p.reason, MAX_REASON_CHARS);
    tooLong('by', p.by, MAX_NAME_CHARS);
    tooLong('region', p.region, MAX_NAME_CHARS);
  }
  const unknown = Object.keys(p).filter((k) => !['reason', 'by', 'region'].includes(k));
  if (unknown.length) problems.push(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (allowed: reason, by, region)`);
  return problems.length ? problems.join('; ') : undefined;
}
