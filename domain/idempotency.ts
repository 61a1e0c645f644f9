// Idempotency keys name one intended side effect. The workflow id alone (rollout-<service>)
// is the same for every rollout of a service, so a key built from it handed a redeploy of
// the same version the earlier rollout's operation, and an operator's retry the failed
// one. A key here is this rollout (its first run id: stable across continue-as-new, new
// for every start), the step's target, and which attempt of the step it is. It lives in
// the activity's input, so Temporal's retries of that activity and a worker crash reuse it.

export interface KeyParts {
  workflowId: string;
  /** workflowInfo().firstExecutionRunId: one per rollout, the same in every continued run. */
  rolloutRunId: string;
  step: 'deploy' | 'rollback' | 'migration';
  /** The region (deploy, rollback) or `name:phase:direction` (migration). */
  target: string;
  version: string;
  /** Which intended attempt of this step on this target: 1, 2, … */
  attempt: number;
}

export function operationKey(k: KeyParts): string {
  return `${k.workflowId}:${k.rolloutRunId}:${k.target}:${k.version}:${k.step}:${k.attempt}`;
}
