// Regions on a task queue of their own (a worker inside the region, with its credentials
// only) wait while nobody polls it: their deploys, rollbacks and checks are scheduled and
// not started. The workflow cannot see pollers; the client asks Temporal, so `mrcd status`
// says which queue has no worker instead of showing a step that never moves.
import { temporal } from '@temporalio/proto';
import { TERMINAL_STATES, type RolloutStatus } from '../domain/state';
import type { MrcdClient } from './rollout-handle';

export interface RegionWithoutWorker {
  region: string;
  taskQueue: string;
}

/** The regions of a rollout still running whose own task queue has no activity poller now. */
export async function regionsWithoutWorker(m: MrcdClient, s: RolloutStatus): Promise<RegionWithoutWorker[]> {
  if (TERMINAL_STATES.has(s.state)) return [];
  const regions = s.regions.filter((r): r is typeof r & { taskQueue: string } => r.taskQueue !== undefined);
  const answers = await Promise.all(
    [...new Set(regions.map((r) => r.taskQueue))].map(async (name) => {
      const { pollers } = await m.client.workflowService.describeTaskQueue({
        namespace: m.client.options.namespace,
        taskQueue: { name },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      return [name, (pollers?.length ?? 0) > 0] as const;
    }),
  );
  const polled = new Map(answers);
  return regions.filter((r) => !polled.get(r.taskQueue)).map((r) => ({ region: r.name, taskQueue: r.taskQueue }));
}

/** One line per region without a worker, for people. */
export function noWorkerLine(w: RegionWithoutWorker): string {
  return `${w.region}: no worker polls its task queue ${w.taskQueue}; its deploys, rollbacks and checks wait until one does (start the region's worker: docs/operations.md, "Region-local workers")`;
}
