// M5: how many rollouts one worker (SDK defaults) and the dev server hold in soak while
// workflow tasks and activities still start within 1 s (p95), with both processes' memory.
// Each size runs a ramp (every rollout started at once) and then a steady state (all of
// them soaking, 15 s checks), ours beside the naive design. Latencies are measured where
// they happen: an activity's schedule-to-start from its own attempt info (every check, retries
// included); a workflow task's from the recorded history of a sample of rollouts; and an
// operator's pause round trip during the steady state.
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { actionUpdates } from '../domain/definitions';
import { planDoc, scriptedActivities, TEST_GATE, type TestServer } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { ms, naiveActivities, naiveCode, next, pct, QUICK, results, rssMb, sleep, table } from './support';
import { defaultWorkflowTaskSlots } from '../worker/slots';

/** The check interval: 15 s as in production plans; shorter in quick runs to keep CI short. */
const INTERVAL_MS = QUICK ? 5_000 : 15_000;

interface Sample {
  at: number;
  s2s: number;
}

/** Wraps every activity to record its attempt's schedule-to-start and, once per workflow, that it reached its soak. */
function measured<T extends object>(acts: T, samples: Sample[], soaking: Set<string>, soakActivity: string): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    out[name] = async (...args: unknown[]) => {
      const info = Context.current().info;
      const now = Date.now();
      samples.push({ at: now, s2s: now - info.currentAttemptScheduledTimestampMs });
      if (name === soakActivity) soaking.add(info.workflowExecution?.workflowId ?? '');
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as T;
}

/** Workflow task schedule-to-start from histories: scheduled → started event times. */
async function workflowTaskLatencies(handles: WorkflowHandle[]): Promise<number[]> {
  const out: number[] = [];
  for (const h of handles) {
    const events = (await h.fetchHistory()).events ?? [];
    let scheduledAt: number | undefined;
    for (const e of events) {
      const t = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      if (e.workflowTaskScheduledEventAttributes) scheduledAt = t;
      else if (e.workflowTaskStartedEventAttributes && scheduledAt !== undefined) {
        out.push(t - scheduledAt);
        scheduledAt = undefined;
      }
    }
  }
  return out;
}

interface CapacityRow {
  design: 'ours' | 'naive';
  rollouts: number;
  rampSeconds: number;
  rampActivityP95: number;
  rampWorkflowTaskP95: number;
  steadyActivityP95: number;
  steadyPauseP95?: number;
  workerRssMb: number;
  serverRssMb: number;
}

async function terminateAll(handles: WorkflowHandle[]): Promise<void> {
  for (let i = 0; i < handles.length; i += 100) await Promise.all(handles.slice(i, i + 100).map((h) => h.terminate('bench done').catch(() => {})));
}

async function capacity(server: TestServer, design: 'ours' | 'naive', n: number, steadyMs: number): Promise<CapacityRow> {
  const q = next(`m5-${design}`);
  const samples: Sample[] = [];
  const soaking = new Set<string>();
  const worker =
    design === 'ours'
      ? await Worker.create({
          // The worker process's default (worker/slots.ts): a train of rollouts must not starve the fleet policy.
          maxConcurrentWorkflowTaskExecutions: defaultWorkflowTaskSlots(),
          connection: server.nativeConnection,
          taskQueue: q,
          workflowBundle: await workflowBundle(),
          activities: measured(scriptedActivities({}, []), samples, soaking, 'checkRegion'),
        })
      : await Worker.create({
          // The worker process's default (worker/slots.ts): a train of rollouts must not starve the fleet policy.
          maxConcurrentWorkflowTaskExecutions: defaultWorkflowTaskSlots(),
          connection: server.nativeConnection,
          taskQueue: q,
          workflowBundle: await naiveCode(),
          activities: measured(naiveActivities(), samples, soaking, 'naiveCheck'),
        });
  let started: WorkflowHandle[] = [];
  const row = await worker.runUntil(async () => {
    const t0 = Date.now();
    const handles = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        design === 'ours'
          ? server.client.workflow.start('rolloutWorkflow', {
              taskQueue: q,
              workflowId: `${q}-${i}`,
              args: [
                {
                  plan: planDoc({ service: `${q}-${i}`, defaults: { soak: '30m', checkInterval: `${INTERVAL_MS / 1000}s`, gate: TEST_GATE } }, [
                    { name: 'r1', size: 1 },
                  ]),
                  startedBy: 'bench',
                },
              ],
            })
          : server.client.workflow.start('naiveRollout', {
              taskQueue: q,
              workflowId: `${q}-${i}`,
              args: [{ regions: ['r1'], soakMs: 30 * 60_000, intervalMs: INTERVAL_MS }],
            }),
      ),
    );
    started = handles;
    const rampDeadline = Date.now() + 10 * 60_000;
    while (soaking.size < n) {
      if (Date.now() > rampDeadline) throw new Error(`M5 ${design} ${n}: only ${soaking.size} soaking after 10 min`);
      await sleep(200);
    }
    const rampEnd = Date.now();
    const rampSamples = samples.filter((s) => s.at <= rampEnd).map((s) => s.s2s);
    // Steady state: measured after one full check interval, so the ramp's backlog is gone.
    await sleep(INTERVAL_MS);
    const steadyFrom = Date.now();
    let pauses: number[] | undefined;
    if (design === 'ours') {
      pauses = [];
      const who = { reason: 'bench', by: 'bench' };
      const stride = Math.max(1, Math.floor(n / 20));
      for (let i = 0; i < n && Date.now() < steadyFrom + steadyMs; i += stride) {
        const t = performance.now();
        await handles[i]!.executeUpdate(actionUpdates.pause, { args: [who] });
        pauses.push(performance.now() - t);
      }
    }
    const left = steadyFrom + steadyMs - Date.now();
    if (left > 0) await sleep(left);
    const steady = samples.filter((s) => s.at >= steadyFrom).map((s) => s.s2s);
    const workerRssMb = process.memoryUsage().rss / 1024 / 1024;
    const serverRssMb = server.pid ? rssMb(server.pid) : NaN;
    const sample = handles.filter((_, i) => i % Math.max(1, Math.floor(n / 50)) === 0);
    const wft = await workflowTaskLatencies(sample);
    return {
      design,
      rollouts: n,
      rampSeconds: (rampEnd - t0) / 1000,
      rampActivityP95: pct(rampSamples, 95),
      rampWorkflowTaskP95: pct(wft, 95),
      steadyActivityP95: pct(steady, 95),
      ...(pauses ? { steadyPauseP95: pct(pauses, 95) } : {}),
      workerRssMb,
      serverRssMb,
    };
  });
  await terminateAll(started);
  return row;
}

export async function m5(server: TestServer): Promise<void> {
  const sizes = QUICK ? [50] : [250, 1000];
  const steadyMs = QUICK ? 10_000 : 45_000;
  const rows: CapacityRow[] = [];
  const t = table([
    'design',
    'rollouts',
    'ramp s',
    'ramp activity s2s p95',
    'workflow task s2s p95',
    'steady activity s2s p95',
    'steady pause p95',
    'worker RSS MB',
    'server RSS MB',
  ]);
  for (const n of sizes) {
    for (const design of ['ours', 'naive'] as const) {
      const r = await capacity(server, design, n, steadyMs);
      rows.push(r);
      t.push([
        design,
        n,
        r.rampSeconds.toFixed(1),
        ms(r.rampActivityP95),
        ms(r.rampWorkflowTaskP95),
        ms(r.steadyActivityP95),
        r.steadyPauseP95 !== undefined ? ms(r.steadyPauseP95) : '—',
        r.workerRssMb.toFixed(0),
        r.serverRssMb.toFixed(0),
      ]);
      console.log(
        `  M5 ${design} ${n}: ramp ${r.rampSeconds.toFixed(1)} s, steady activity p95 ${ms(r.steadyActivityP95)} ms, worker ${r.workerRssMb.toFixed(0)} MB`,
      );
    }
  }
  results.m5 = rows;
  console.log(
    `\nM5 rollouts held in soak by one worker (SDK defaults) and the dev server, ${INTERVAL_MS / 1000} s checks; latencies in ms (goal: ≥ 1000 rollouts with p95 < 1000 ms and worker RSS < 1.5 GB)`,
  );
  console.log(t.toString());
}
