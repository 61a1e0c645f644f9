// Every failure type the rollout and its activities raise, as constants: the workflow, the
// activities, the client library, the runbook and the tests name a failure by these, never
// by a string typed twice. A workflow failure's details carry the final RolloutStatus.

/** How a rollout that did not succeed ended (the workflow's own failure types). */
export const ROLLOUT_FAILURE = {
  rolledBack: 'RolloutRolledBack',
  aborted: 'RolloutAborted',
  failed: 'RolloutFailed',
  versionQuarantined: 'VersionQuarantined',
  quarantineCheckFailed: 'QuarantineCheckFailed',
} as const;

/** Failure types of activities that are not worth retrying as they are. */
export const ACTIVITY_FAILURE = {
  invalidPlan: 'InvalidPlan',
  deployConfig: 'DeployConfig',
  deployRejected: 'DeployRejected',
  deployFailed: 'DeployFailed',
  deployNotLanded: 'DeployNotLanded',
  /** The deployer called a rollback done, but the region does not run what it should after it. */
  rollbackNotLanded: 'RollbackNotLanded',
  noDeployWindow: 'NoDeployWindow',
} as const;

export type RolloutFailureType = (typeof ROLLOUT_FAILURE)[keyof typeof ROLLOUT_FAILURE];
