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

/**
 * The failure types of one external dependency (a deploy tool, a migration runner), named
 * by what failed, so a workflow and an operator can tell which dependency it was. Retryable:
 * unavailable, throttled, timeout. Not: rejected (a 4xx), failed (a non-zero exit or a failed
 * operation), config (a program that cannot run).
 */
function dependencyFailures<P extends string>(dependency: P) {
  return {
    rejected: `${dependency}Rejected`,
    unavailable: `${dependency}Unavailable`,
    throttled: `${dependency}Throttled`,
    failed: `${dependency}Failed`,
    timeout: `${dependency}Timeout`,
    config: `${dependency}Config`,
  } as const;
}

/** The failure types of one external dependency's calls (see dependencyFailures). */
export type DependencyFailures = ReturnType<typeof dependencyFailures<string>>;

export const DEPLOY_FAILURE = dependencyFailures('Deploy');
export const MIGRATION_FAILURE = dependencyFailures('Migration');

/** Failure types of activities that are not worth retrying as they are. */
export const ACTIVITY_FAILURE = {
  invalidPlan: 'InvalidPlan',
  deployConfig: DEPLOY_FAILURE.config,
  deployRejected: DEPLOY_FAILURE.rejected,
  deployFailed: DEPLOY_FAILURE.failed,
  deployNotLanded: 'DeployNotLanded',
  /** The deployer called a rollback done, but the region does not run what it should after it. */
  rollbackNotLanded: 'RollbackNotLanded',
  noDeployWindow: 'NoDeployWindow',
} as const;

export type RolloutFailureType = (typeof ROLLOUT_FAILURE)[keyof typeof ROLLOUT_FAILURE];
