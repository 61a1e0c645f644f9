// Names and shapes of what the fleet policy workflow accepts and answers, and the one
// signal it sends to rollouts. The client, the rollouts and the policy workflow import
// these, so a renamed handler cannot drift apart.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AlertRequest,
  ApplyRequest,
  Blocker,
  FreezeOverride,
  OverrideRequest,
  ConsultAnswer,
  ConsultRequest,
  Freeze,
  FreezeRequest,
  LiftRequest,
  PolicyState,
} from './policy';

/** Create a freeze: answers with it (its id), or rejects a request with every problem and its path. */
export const createFreezeUpdate = defineUpdate<Freeze, [FreezeRequest]>('createFreeze');
/** Lift a freeze by id: answers with it, lifted; lifting an ended freeze is a no-op that answers with how it ended. */
export const liftFreezeUpdate = defineUpdate<Freeze, [LiftRequest]>('liftFreeze');
/** The same two as signals, for the Web UI's "Send a Signal": a refused one is recorded in the policy's log. */
export const createFreezeSignal = defineSignal<[FreezeRequest]>('createFreeze');
export const liftFreezeSignal = defineSignal<[LiftRequest]>('liftFreeze');
/** Replace the policy file's part (region concurrency and the file's freezes). */
export const applyPolicyUpdate = defineUpdate<PolicyState, [ApplyRequest]>('applyPolicy');
/** Let a service (or one rollout) past freezes until the override expires; refused when the policy names who may override and the caller is not among them. */
export const overrideFreezeUpdate = defineUpdate<FreezeOverride, [OverrideRequest]>('overrideFreeze');
/** A firing alert raises a blocker over its scope; a resolved one ends it after the cool-down. Answers with the blocker, if any. */
export const alertUpdate = defineUpdate<Freeze | null, [AlertRequest]>('alert');
/** A rollout asks before a region's deploy or promotion; a deploy allowed takes the region's slot. */
export const consultUpdate = defineUpdate<ConsultAnswer, [ConsultRequest]>('consult');
/** A rollout gives back its slots (halted, ended); a region named gives back that one only. */
export const releaseSignal = defineSignal<[{ rolloutId: string; region?: string; reason: string }]>('release');
export const policyQuery = defineQuery<PolicyState>('policy');

/** What the policy tells a rollout when what holds it changes: the rollout shows it, and a held one asks again. */
export interface PolicyNotice {
  region: string;
  blockers: Blocker[];
  at: number;
}
export const policyChangedSignal = defineSignal<[PolicyNotice]>('policyChanged');

export const POLICY_DESCRIPTIONS = {
  createFreeze: 'Freeze deploys and promotions: {"reason", "by", "scope": {"regions"?, "services"?, "teams"?}, "from"?, "until"? (epoch ms)}',
  liftFreeze: 'Lift a freeze: {"id": "F-3", "reason", "by"}; held rollouts go on by themselves',
  applyPolicy: 'Replace region concurrency and the policy file’s freezes (mrcd policy apply)',
  overrideFreeze: 'Let a held service past freezes: {"service", "reason", "by", "freezes"? (ids), "until"? (epoch ms; default 1h, at most 24h)}',
  consult: 'Asked by rollouts before a deploy or a promotion',
  alert: 'Sent by the Alertmanager receiver: a firing alert with mrcd labels blocks its scope; resolved lifts it after a cool-down',
  release: 'A rollout gives back its region slots',
  policy: 'The policy now: freezes, region concurrency, slots held and waiting, the log',
} as const;
