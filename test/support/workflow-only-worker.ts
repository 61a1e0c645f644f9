// A worker process that runs workflow tasks only (the activities run elsewhere): what a test
// kills with SIGKILL to lose the worker holding a rollout while its activity completes
// meanwhile on another. TEMPORAL_ADDRESS, MRCD_TASK_QUEUE, MRCD_WORKFLOW_BUNDLE. The
// fleet policy's consult and the one-step start are local activities, which run on the
// workflow's own worker: every worker that runs rollouts registers them.
import { NativeConnection, Worker } from '@temporalio/worker';
import { preparePlanUnderItsId } from '../../activities/plan';
import { consultPolicy } from '../../activities/policy';
import { withPrepareRollout } from '../../activities/prepare-rollout';
import { checkQuarantine } from '../../activities/quarantine';

async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.MRCD_TASK_QUEUE!,
    workflowBundle: { codePath: process.env.MRCD_WORKFLOW_BUNDLE! },
    activities: { consultPolicy, ...withPrepareRollout({ preparePlan: preparePlanUnderItsId, checkQuarantine }) },
  });
  process.stdout.write('workflow worker started\n');
  await worker.run();
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
