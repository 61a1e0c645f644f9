// A worker in its own process for the cluster mode (bench/cluster.ts), so the bench can run
// two or more of them and kill -9 one: scripted activities, a prebuilt workflow bundle, and
// every activity attempt reported to the parent over IPC with its schedule-to-start, since
// the parent cannot see another process's attempts. A rollout whose workflow id contains
// BREACH_MARK breaches at its first check, so a breach can be started among rollouts that
// soak on the same task queue and workers. Env: BENCH_ADDRESS, BENCH_TASK_QUEUE,
// BENCH_BUNDLE (a file), BENCH_NAME, BENCH_CHECK_MS (how long a check takes, as real SLO
// queries do), BENCH_WFT_SLOTS (workflow task slots; the SDK's default without it).
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { RolloutActivities, WatchOutcome } from '../domain/activity-contract';
// (Its support module installs the SDK runtime with a WARN logger.)
import { scriptedActivities } from '../test/support/rollout-harness';

export const BREACH_MARK = '-breach-';

/** What the parent hears, one message per event. */
export type Report =
  | { ready: true }
  | { kind: 'activity'; name: string; id: string; at: number; s2s: number; worker: string }
  | { kind: 'breach' | 'rollback' | 'rollback-done'; id: string; at: number; worker: string }
  /** A question to the fleet policy (a local activity): how long it took, and why it failed. */
  | { kind: 'consult'; id: string; at: number; ms: number; error?: string; worker: string };

const worker = process.env.BENCH_NAME ?? 'worker';
const checkMs = Number(process.env.BENCH_CHECK_MS ?? 0);
const report = (r: Report) => process.send?.(r);

/**
 * Every attempt of every activity reports its schedule-to-start; local activities have none to
 * report, but the policy consults (one workflow every rollout of a task queue asks) report
 * their duration and failures, since they pace a ramp.
 */
function measured(acts: RolloutActivities): RolloutActivities {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    const call = fn as (...a: unknown[]) => Promise<unknown>;
    out[name] = async (...args: unknown[]) => {
      const info = Context.current().info;
      const id = info.workflowExecution?.workflowId ?? '';
      const at = Date.now();
      if (!info.isLocal) report({ kind: 'activity', name, id, at, s2s: at - info.currentAttemptScheduledTimestampMs, worker });
      if (name !== 'consultPolicy') return call(...args);
      try {
        const answer = await call(...args);
        report({ kind: 'consult', id, at, ms: Date.now() - at, worker });
        return answer;
      } catch (e) {
        const cause = (e as { cause?: { message?: string } }).cause?.message;
        report({ kind: 'consult', id, at, ms: Date.now() - at, error: cause ?? (e as Error).message, worker });
        throw e;
      }
    };
  }
  return out as unknown as RolloutActivities;
}

async function main(): Promise<void> {
  // ps and top then say which bench worker this is (the one killed, or the busiest).
  process.title = `mrcd-bench-worker ${worker}`;
  // The parent gone (killed, crashed) means nobody measures: no worker outlives it.
  process.on('disconnect', () => process.exit(0));
  const connection = await NativeConnection.connect({ address: process.env.BENCH_ADDRESS! });
  const scripted = scriptedActivities({}, []);
  const activities: RolloutActivities = {
    ...scripted,
    async checkRegion(input) {
      if (checkMs > 0) await new Promise((r) => setTimeout(r, checkMs));
      const id = Context.current().info.workflowExecution?.workflowId ?? '';
      if (!id.includes(BREACH_MARK)) return scripted.checkRegion(input);
      report({ kind: 'breach', id, at: Date.now(), worker });
      const at = Date.now();
      return {
        kind: 'breach',
        checksRun: 1,
        result: {
          verdict: 'fail',
          at,
          checks: [{ name: 'error-ratio', verdict: 'fail', comparator: '<', threshold: 0.01, value: 0.2, detail: `fail in ${input.region}` }],
        },
      } satisfies WatchOutcome;
    },
    async rollbackRegion(input) {
      const id = Context.current().info.workflowExecution?.workflowId ?? '';
      report({ kind: 'rollback', id, at: Date.now(), worker });
      const out = await scripted.rollbackRegion(input);
      report({ kind: 'rollback-done', id, at: Date.now(), worker });
      return out;
    },
  };
  const w = await Worker.create({
    connection,
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    identity: worker,
    workflowBundle: { code: readFileSync(process.env.BENCH_BUNDLE!, 'utf8') },
    activities: measured(activities),
    ...(process.env.BENCH_WFT_SLOTS ? { maxConcurrentWorkflowTaskExecutions: Number(process.env.BENCH_WFT_SLOTS) } : {}),
  });
  report({ ready: true });
  await w.run();
}

if (require.main === module)
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
