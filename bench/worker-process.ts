// A worker in its own process for M6, so the bench can kill -9 it: scripted (instant)
// activities, a prebuilt workflow bundle, and every check attempt reported to the parent
// over IPC. Env: BENCH_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE (a file), BENCH_NAME,
// BENCH_DESIGN (ours | naive), BENCH_CHECK_MS (how long a check takes, as real SLO queries do).
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { scriptedActivities } from '../test/support/rollout-harness';
import { naiveActivities } from './support';
import { defaultWorkflowTaskSlots } from '../worker/slots';

const checkMs = Number(process.env.BENCH_CHECK_MS ?? 0);
/** Reports a check to the parent, then takes as long as a real one. */
async function checking(): Promise<void> {
  process.send?.({ check: Context.current().info.workflowExecution?.workflowId, at: Date.now(), worker: process.env.BENCH_NAME });
  if (checkMs > 0) await new Promise((r) => setTimeout(r, checkMs));
}

async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: process.env.BENCH_ADDRESS! });
  const ours = scriptedActivities({}, []);
  const naive = naiveActivities();
  const activities =
    process.env.BENCH_DESIGN === 'naive'
      ? {
          ...naive,
          async naiveCheck(i: { region: string; since: number }) {
            await checking();
            return naive.naiveCheck(i);
          },
        }
      : {
          ...ours,
          async checkRegion(input: Parameters<typeof ours.checkRegion>[0]) {
            await checking();
            return ours.checkRegion(input);
          },
        };
  const worker = await Worker.create({
    // The worker process's default (worker/slots.ts): a train of rollouts must not starve the fleet policy.
    maxConcurrentWorkflowTaskExecutions: defaultWorkflowTaskSlots(),
    connection,
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    identity: process.env.BENCH_NAME!,
    workflowBundle: { code: readFileSync(process.env.BENCH_BUNDLE!, 'utf8') },
    activities,
  });
  process.send?.({ ready: true });
  await worker.run();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
