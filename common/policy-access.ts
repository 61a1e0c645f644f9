// Reaching the fleet policy workflow: used by the rollouts' consult activity and by the
// client library (freeze, lift, apply, show). The policy is started on first use, so a
// fleet without one has one as soon as anything asks; an unreachable one is an error,
// which rollouts treat as a hold (never as permission).
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { policyWorkflowId, POLICY_WORKFLOW_TYPE } from '../domain/policy';

export function policyHandle(client: Client, taskQueue: string): WorkflowHandle {
  return client.workflow.getHandle(policyWorkflowId(taskQueue));
}

/** Starts the policy workflow unless it runs (a concurrent start is fine: the running one is kept). */
export async function ensurePolicy(client: Client, taskQueue: string): Promise<WorkflowHandle> {
  return client.workflow.start(POLICY_WORKFLOW_TYPE, {
    workflowId: policyWorkflowId(taskQueue),
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/**
 * Sends an update to the policy, starting it first when it does not run. (Two calls rather
 * than update-with-start: the time-skipping test server has no multi-operation.)
 */
export async function updatePolicy<R, A>(client: Client, taskQueue: string, def: UpdateDefinition<R, [A]>, arg: A): Promise<R> {
  try {
    return await policyHandle(client, taskQueue).executeUpdate(def, { args: [arg] });
  } catch (e) {
    if (!(e instanceof WorkflowNotFoundError) && !/not found|already completed/i.test((e as Error).message ?? '')) throw e;
  }
  const handle = await ensurePolicy(client, taskQueue);
  return handle.executeUpdate(def, { args: [arg] });
}
