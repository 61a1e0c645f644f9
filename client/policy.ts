// The fleet policy through the library: freezes created, lifted and listed, the policy file
// applied, the policy shown, and what it would hold for a plan. Each change is an update, so
// the caller learns at once that it was taken (or why not); the policy is started on first use.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { policyHandle, updatePolicy } from '../common/policy-access';
import {
  alertRequestProblems,
  applyRequestProblems,
  emptyPolicy,
  freezeActive,
  freezeCovers,
  freezeRequestProblems,
  overrideFor,
  liftRequestProblems,
  overrideRequestProblems,
  type AlertRequest,
  type ApplyRequest,
  type Freeze,
  type FreezeRequest,
  type LiftRequest,
  type FreezeOverride,
  type OverrideRequest,
  type PolicyState,
} from '../domain/policy';
import { alertUpdate, applyPolicyUpdate, createFreezeUpdate, overrideFreezeUpdate, liftFreezeUpdate, policyQuery } from '../domain/policy-definitions';
import { InvalidPolicyRequestError, PolicyRefusedError } from './errors';
import { rolloutWorkflowId } from '../domain/definitions';
import type { MrcdClient } from './rollout-handle';

export type { AlertRequest, Freeze, FreezeOverride, FreezeRequest, OverrideRequest, LiftRequest, ApplyRequest, PolicyState } from '../domain/policy';

async function send<R, A>(m: MrcdClient, what: string, def: UpdateDefinition<R, [A]>, arg: A): Promise<R> {
  try {
    return await updatePolicy(m.client, m.taskQueue, def, arg);
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      const message = e.cause?.message ?? e.message;
      // The validator's refusal of a malformed request, or the handler's of one it understood.
      if ((e.cause as { type?: string } | undefined)?.type === 'InvalidPolicyRequest') throw new InvalidPolicyRequestError(what, message.split('; '));
      throw new PolicyRefusedError(`${what}: ${message}`);
    }
    throw e;
  }
}

/** Creates a freeze; refuses a request with problems (each with its path) before sending it. */
export async function createFreeze(m: MrcdClient, req: FreezeRequest): Promise<Freeze> {
  const problems = freezeRequestProblems(req, Date.now());
  if (problems.length) throw new InvalidPolicyRequestError('freeze create', problems);
  return send(m, 'freeze create', createFreezeUpdate, req);
}

/** Lifts a freeze by id; held rollouts go on by themselves. */
export async function liftFreeze(m: MrcdClient, req: LiftRequest): Promise<Freeze> {
  const problems = liftRequestProblems(req);
  if (problems.length) throw new InvalidPolicyRequestError('freeze lift', problems);
  return send(m, 'freeze lift', liftFreezeUpdate, req);
}

/** Replaces the policy file's part: region concurrency and the file's freezes. */
export async function applyPolicy(m: MrcdClient, req: ApplyRequest): Promise<PolicyState> {
  const problems = applyRequestProblems(req, Date.now());
  if (problems.length) throw new InvalidPolicyRequestError('policy apply', problems);
  return send(m, 'policy apply', applyPolicyUpdate, req);
}

/** Lets a service (or one rollout of it) past freezes until the override expires (default 1 h, at most 24 h). */
export async function overrideFreeze(m: MrcdClient, req: OverrideRequest): Promise<FreezeOverride> {
  const problems = overrideRequestProblems(req, Date.now());
  if (problems.length) throw new InvalidPolicyRequestError('freeze override', problems);
  return send(m, 'freeze override', overrideFreezeUpdate, req);
}

/** A firing alert raises a blocker over its scope; resolved ends it after the cool-down (the Alertmanager receiver sends these). */
export async function sendAlert(m: MrcdClient, req: AlertRequest): Promise<Freeze | null> {
  const problems = alertRequestProblems(req);
  if (problems.length) throw new InvalidPolicyRequestError('alert', problems);
  return send(m, 'alert', alertUpdate, req);
}

/** The policy now (an empty one when none was ever used). */
export async function showPolicy(m: MrcdClient): Promise<PolicyState> {
  try {
    return await policyHandle(m.client, m.taskQueue).query(policyQuery);
  } catch (e) {
    if (/not found/i.test((e as Error).message ?? '')) return emptyPolicy();
    throw e;
  }
}

/** For `mrcd plan` and `mrcd deploy`: the freezes that hold (or will hold) each of a plan's regions, and until when. */
export function freezesFor(p: PolicyState, service: string, team: string, regions: string[], now: number): { region: string; freezes: Freeze[] }[] {
  return regions
    .map((region) => ({
      region,
      freezes: p.freezes.filter(
        (f) =>
          !f.lifted &&
          (freezeActive(f, now) || (f.from ?? f.createdAt) > now) &&
          freezeCovers(f, { service, team, region }) &&
          // An override in force lets it past (one that ends first does not: the preview is about now).
          !overrideFor(p, f, { service, rolloutId: rolloutWorkflowId(service) }, now),
      ),
    }))
    .filter((x) => x.freezes.length > 0);
}
