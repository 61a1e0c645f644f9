// What the client library throws, by what went wrong: the CLI maps each to its exit code.
import { rolloutWorkflowId } from '../domain/definitions';
import type { OperatorActionName, RolloutStatus } from '../domain/state';
import type { QuarantineRecord } from '../domain/activity-contract';
import { describeQuarantine } from '../domain/quarantine';

/** An earlier rollout rolled this version back for failing a gate; starting it needs an override. */
export class VersionQuarantinedError extends Error {
  constructor(
    readonly service: string,
    readonly version: string,
    readonly records: QuarantineRecord[],
  ) {
    super(
      `${describeQuarantine(service, version, records)}. Ship a fixed version, or start this one anyway with a reason: mrcd deploy <plan> --override-quarantine "..."`,
    );
    this.name = 'VersionQuarantinedError';
  }
}

/** A rollout of this service is already running: the pipeline lock refused a second one. */
export class RolloutAlreadyRunningError extends Error {
  constructor(
    readonly service: string,
    readonly workflowId: string,
    readonly running?: RolloutStatus,
    message = `a rollout of ${service} is already running (workflow ${workflowId}${running ? `, version ${running.version}, ${running.state}` : ''}); ` +
      `wait for it, or abort it: mrcd abort ${service} --reason "..."`,
  ) {
    super(message);
    this.name = 'RolloutAlreadyRunningError';
  }
}

/** What a start says while the previous rollout, its verdict known, sends its last notifications. */
export function finishingText(service: string, verdict: string): string {
  return `the previous rollout of ${service} has reached its verdict (${verdict}) and is finishing (sending its last notifications)`;
}

/**
 * The previous rollout has its verdict but its workflow has not closed yet, and did not
 * within the start's wait. Still the pipeline lock (exit 3), but nothing to wait for or abort.
 */
export class RolloutFinishingError extends RolloutAlreadyRunningError {
  constructor(service: string, workflowId: string, running: RolloutStatus, waitedMs: number) {
    super(service, workflowId, running, `${finishingText(service, running.state)}, still after ${Math.round(waitedMs / 1000)} s; try again in a few seconds`);
    this.name = 'RolloutFinishingError';
  }
}

/** An operator action refused before it was sent: its payload names no region where it names one. */
export class InvalidActionError extends Error {
  constructor(
    readonly action: OperatorActionName,
    readonly service: string,
    problem: string,
  ) {
    super(`${action} of ${service}: ${problem}`);
    this.name = 'InvalidActionError';
  }
}

/** No rollout of this service exists (never started, or history expired). */
export class RolloutNotFoundError extends Error {
  constructor(readonly service: string) {
    super(`no rollout of ${service} found (workflow ${rolloutWorkflowId(service)})`);
    this.name = 'RolloutNotFoundError';
  }
}

/** An operator action the rollout refused, with the reason it gave (what is legal now). */
export class ActionRejectedError extends Error {
  constructor(
    readonly action: OperatorActionName,
    readonly service: string,
    reason: string,
  ) {
    super(`${action} of ${service} rejected: ${reason}`);
    this.name = 'ActionRejectedError';
  }
}

/** The rollout has ended: there is nothing left to act on. Carries its verdict. */
export class RolloutEndedError extends ActionRejectedError {
  constructor(
    action: OperatorActionName,
    service: string,
    readonly verdict: string,
  ) {
    super(action, service, `the rollout of ${service} has ended (${verdict})`);
    this.name = 'RolloutEndedError';
  }
}

/** A freeze, lift or policy file the policy cannot take: every problem, each with its path (exit 2). */
export class InvalidPolicyRequestError extends Error {
  constructor(
    readonly what: string,
    readonly problems: string[],
  ) {
    super(`${what}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'InvalidPolicyRequestError';
  }
}

/** The policy refused a request it understood (no such freeze): exit 3. */
export class PolicyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyRefusedError';
  }
}
