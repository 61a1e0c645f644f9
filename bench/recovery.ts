// M6: time to resume after kill -9 of a worker and after a kill -9 restart of the server
// (dev server on a SQLite file), ours beside the naive design. Each design has two worker
// processes (bench/worker-process.ts) on its own task queue; checks take 400 ms, as a few
// real SLO queries do, so a kill often lands mid-check. Measured from the kill: when every
// rollout has run a check again, and when a pause sent right after the kill is acknowledged
// (ours only: the naive design has no operator control).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { freePort } from '../dev/ports';
import { startDevServer, type TemporalServer } from '../dev/temporal-server';
import { actionUpdates } from '../domain/definitions';
import { planDoc, TEST_GATE } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { ms, naiveCode, next, pct, QUICK, results, sleep, table } from './support';

type Design = 'ours' | 'naive';
interface Check {
  check: string;
  at: number;
  worker: string;
}

const ROLLOUTS = 6;
const CHECK_MS = 400;
/** How long a recovery is waited for; slower ones are reported as "> limit". */
const LIMIT_MS = QUICK ? 12_000 : 120_000;

export async function m6(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-m6-'));
  const bundles: Record<Design, string> = { ours: join(dir, 'ours.js'), naive: join(dir, 'naive.js') };
  writeFileSync(bundles.ours, (await workflowBundle()).code);
  writeFileSync(bundles.naive, (await naiveCode()).code);
  const port = await freePort();
  const dbFile = join(dir, 'temporal.db');
  const serverOpts = { dbFile, port, uiPort: false as const };
  let server: TemporalServer = await startDevServer(serverOpts);
  const checks: Check[] = [];
  const workers = new Map<string, ChildProcess>();
  const queues: Record<Design, string> = { ours: next('m6-ours'), naive: next('m6-naive') };

  const startWorker = (design: Design, name: string) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'worker-process.ts')], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: {
          ...process.env,
          BENCH_ADDRESS: server.address,
          BENCH_TASK_QUEUE: queues[design],
          BENCH_BUNDLE: bundles[design],
          BENCH_NAME: name,
          BENCH_DESIGN: design,
          BENCH_CHECK_MS: String(CHECK_MS),
        },
      });
      workers.set(name, child);
      child.on('message', (m: { ready?: boolean } & Check) => (m.ready ? resolve() : checks.push(m)));
      child.once('exit', (code, sig) => reject(new Error(`bench worker ${name} exited (${code ?? sig}) before it was ready`)));
    });

  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const handles: Record<Design, WorkflowHandle[]> = { ours: [], naive: [] };
  const rows: { scenario: string; design: Design; checksResumedP50: number; checksResumedMax: number; pauseAckMax?: number; serverRestartMs?: number }[] = [];
  try {
    await Promise.all((['ours', 'naive'] as const).flatMap((d) => [startWorker(d, `${d}-a`), startWorker(d, `${d}-b`)]));
    for (let i = 0; i < ROLLOUTS; i++) {
      handles.ours.push(
        await client.workflow.start('rolloutWorkflow', {
          taskQueue: queues.ours,
          workflowId: `${queues.ours}-${i}`,
          args: [
            {
              plan: planDoc({ service: `${queues.ours}-${i}`, defaults: { soak: '30m', checkInterval: '1s', gate: TEST_GATE } }, [{ name: 'r1', size: 1 }]),
              startedBy: 'bench',
            },
          ],
        }),
      );
      handles.naive.push(
        await client.workflow.start('naiveRollout', {
          taskQueue: queues.naive,
          workflowId: `${queues.naive}-${i}`,
          args: [{ regions: ['r1'], soakMs: 30 * 60_000, intervalMs: 1000 }],
        }),
      );
    }
    const all = [...handles.ours, ...handles.naive];
    const checkedSince = (id: string, t: number) => checks.some((c) => c.check === id && c.at > t);
    const everyoneChecksSince = async (t: number, limitMs: number) => {
      const deadline = Date.now() + limitMs;
      while (!all.every((h) => checkedSince(h.workflowId, t)) && Date.now() < deadline) await sleep(100);
    };
    // All soaking, with checks spread over both workers of each design.
    await everyoneChecksSince(0, 60_000);
    await sleep(3000);

    /** Runs `kill`, which returns when each design's fault happened, then times the recovery from there. */
    const measure = async (scenario: string, kill: () => Promise<{ at: Record<Design, number>; restartMs?: number }>) => {
      const { at, restartMs } = await kill();
      const pauseAcks = handles.ours.map(async (h) => {
        await h.executeUpdate(actionUpdates.pause, { args: [{ reason: 'bench', by: 'bench' }] });
        return Date.now() - at.ours;
      });
      await everyoneChecksSince(Math.min(at.ours, at.naive), LIMIT_MS);
      const acks = await Promise.all(pauseAcks);
      for (const design of ['ours', 'naive'] as const) {
        const resumed = handles[design].map((h) => (checks.find((c) => c.check === h.workflowId && c.at > at[design])?.at ?? Infinity) - at[design]);
        rows.push({
          scenario,
          design,
          checksResumedP50: pct(resumed, 50),
          checksResumedMax: Math.max(...resumed),
          ...(design === 'ours' ? { pauseAckMax: Math.max(...acks) } : {}),
          ...(restartMs !== undefined ? { serverRestartMs: restartMs } : {}),
        });
      }
      await Promise.all(handles.ours.map((h) => h.executeUpdate(actionUpdates.resume, { args: [{ reason: 'bench', by: 'bench' }] })));
    };
    /** Kills a worker 100 ms into a check it is running, so a check is surely lost with it. */
    const killMidCheck = async (name: string): Promise<number> => {
      const from = checks.length;
      while (!checks.slice(from).some((c) => c.worker === name)) await sleep(10);
      await sleep(100);
      workers.get(name)!.kill('SIGKILL');
      return Date.now();
    };

    await measure('kill -9 of one of two workers, mid-check', async () => {
      const [ours, naive] = await Promise.all([killMidCheck('ours-a'), killMidCheck('naive-a')]);
      return { at: { ours, naive } };
    });
    // Two workers again, and time for the stragglers to settle.
    await Promise.all([startWorker('ours', 'ours-c'), startWorker('naive', 'naive-c')]);
    await sleep(3000);
    await measure('kill -9 of the server, restarted at once', async () => {
      const t = Date.now();
      process.kill(server.pid!, 'SIGKILL');
      await server.stop();
      server = await startDevServer(serverOpts);
      return { at: { ours: t, naive: t }, restartMs: Date.now() - t };
    });
    for (const h of all) await h.terminate('bench done').catch(() => {});
  } finally {
    for (const w of workers.values()) w.kill('SIGKILL');
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  results.m6 = { rollouts: ROLLOUTS, checkMs: CHECK_MS, intervalMs: 1000, limitMs: LIMIT_MS, rows };
  const t = table(['scenario', 'design', 'checks resumed p50 ms', 'checks resumed max ms', 'pause acknowledged max ms', 'server back after ms']);
  const upTo = (x: number) => (x === Infinity ? `> ${LIMIT_MS}` : ms(x));
  for (const r of rows)
    t.push([
      r.scenario,
      r.design,
      upTo(r.checksResumedP50),
      upTo(r.checksResumedMax),
      r.pauseAckMax !== undefined ? ms(r.pauseAckMax) : '—',
      r.serverRestartMs !== undefined ? ms(r.serverRestartMs) : '—',
    ]);
  console.log(
    `\nM6 time to resume, from the kill (dev server on SQLite, ${ROLLOUTS} rollouts per design, 1 s checks taking ${CHECK_MS} ms, two worker processes each; goal: < 15000 ms)`,
  );
  console.log(t.toString());
}
