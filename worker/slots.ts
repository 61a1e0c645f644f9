// How many workflow tasks a worker runs at once by default.
import { getHeapStatistics } from 'node:v8';

/** The most slots a worker is given by default: a release train of this many rollouts never starves the fleet policy. */
const WORKFLOW_TASK_SLOTS = 1000;

/**
 * Workflow-task slots by default, far above the SDK's 40. A rollout asks the fleet policy with
 * a local activity, which holds its workflow task, and that task's slot, until the policy
 * answers; the policy is a workflow on the same workers, so with every slot held that way
 * its own task waits for one until the questions time out. 100 rollouts started at once on
 * one worker reached their soak 98 s after start (p50; 40 of them held as "policy
 * unreadable" on the way) with 40 slots, and 6 s with 200 (docs/operations.md, "Sizing").
 * Below the workflow cache the SDK sizes from the heap (the same formula), which refuses
 * more slots than cached workflows; a slot costs nothing while its task waits.
 */
export function defaultWorkflowTaskSlots(): number {
  const heapMiB = getHeapStatistics().heap_size_limit / 1048576;
  const cached = Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
  return Math.min(WORKFLOW_TASK_SLOTS, cached);
}
