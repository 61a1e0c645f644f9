// Racing operators on a real rollout (issue 13 item 5): several clients, each on its own
// connection, send pause, resume, abort, approve, retry and skip-soak at once, duplicated and
// out of order, as signals and as updates, to a rollout on the dev server with 1-second soaks
// (in some runs a bad version, so halts, retries and rollbacks happen under the storm).
// Every action that reached the rollout must be in status.actions (kept, or counted in
// earlierActions once more than MAX_RECORDED_ACTIONS), the verdict must agree with the
// activities the worker saw (aborted or rolled back: every deployed region rolled back;
// succeeded: every region deployed and none rolled back since), and no workflow task fails.
// test/unit/action-race-model.test.ts is the same storm against the action table alone.
//
// Reproducing a failure: fast-check prints the seed of the schedule (runs are not shrunk:
// each is a rollout);
//   FC_SEED=<seed> node --import tsx --test test/integration/operator-race.test.ts
// The storm's timing is real, so a seed replays the schedule, not every interleaving.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { MAX_RECORDED_ACTIONS } from '../../domain/action-log';
import { OPERATOR_ACTIONS, TERMINAL_STATES, type OperatorActionName, type RolloutStatus } from '../../domain/state';
import { planDoc, runRollout, useTestServer, type Call, type Script } from '../support/rollout-harness';

const env = useTestServer();
const CLIENTS = 3;
const REGIONS = ['small', 'medium', 'large'];

interface Send {
  action: OperatorActionName;
  via: 'signal' | 'update';
  region?: string;
  delayMs: number;
  twice: boolean;
}
interface Run {
  badVersion: boolean;
  rollbackFails: boolean;
  approval: boolean;
  policy: 'halt' | 'rollback-all';
  /** At the end: abort what is left, or let it finish (resume, approve; retry of a good version). */
  end: 'abort' | 'finish';
  clients: Send[][];
}

const send: fc.Arbitrary<Send> = fc.record(
  {
    // Weighted so the storm holds and releases the rollout rather than aborting it at once.
    action: fc.constantFrom<OperatorActionName>('pause', 'resume', 'resume', 'pause', 'approve', 'approve', 'retry', 'skip-soak', 'skip-soak', 'abort'),
    via: fc.constantFrom('signal', 'update'),
    region: fc.constantFrom(...REGIONS, 'elsewhere'),
    delayMs: fc.integer({ min: 0, max: 250 }),
    twice: fc.boolean(),
  },
  { requiredKeys: ['action', 'via', 'delayMs', 'twice'] },
);
const run: fc.Arbitrary<Run> = fc
  .record({
    badVersion: fc.boolean(),
    rollbackFails: fc.boolean(),
    approval: fc.boolean(),
    policy: fc.constantFrom('halt', 'rollback-all'),
    end: fc.constantFrom('abort', 'finish'),
    clients: fc.array(fc.array(send, { minLength: 5, maxLength: 18 }), { minLength: CLIENTS, maxLength: CLIENTS }),
  })
  // Failing rollbacks are scripted only in schedules that never abort: an abort whose rollback
  // fails, then is retried, has its own test below (it found a bug in abortAll, fixed). Mixing
  // them into the storm is the next step once it is shown not to leave a rollback-failed
  // rollout waiting for a retry no client sends.
  .map((r) =>
    r.rollbackFails
      ? {
          ...r,
          end: 'finish' as const,
          badVersion: true,
          policy: 'rollback-all' as const,
          clients: r.clients.map((l) => l.filter((x) => x.action !== 'abort')),
        }
      : r,
  );

/** What became of one action sent: recorded by the rollout, refused by an update's validator (no record), or never reached it (the rollout had ended). */
type Fate = 'recorded' | 'refused' | 'ended';
interface Sent {
  action: OperatorActionName;
  via: 'signal' | 'update';
  fate: Fate;
  note?: string;
}

/** The index of the last call that matches, or -1. */
function lastIndex(calls: Call[], ok: (c: Call) => boolean): number {
  for (let i = calls.length - 1; i >= 0; i--) if (ok(calls[i]!)) return i;
  return -1;
}

/**
 * The workflow task failures in a rollout's history. One kind is left out: a signal that
 * arrives while the workflow completes makes the server refuse that completion
 * (UNHANDLED_COMMAND) and run another task that handles the signal first, which is the
 * server keeping the signal, not workflow code failing. Every other failure counts.
 */
async function taskFailures(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowTaskFailedEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a)
    .filter((a) => a.cause !== temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND)
    .map((a) => `${String(a.cause)}: ${a.failure?.message ?? ''}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ended = (e: unknown) => /completed|not found|already|closed|closing/i.test(String((e as Error)?.message ?? e));

async function deliver(handle: WorkflowHandle, s: Omit<Send, 'delayMs' | 'twice'>, by: string, i: number): Promise<Sent> {
  const payload = { reason: `race ${i}`, by, ...(s.region ? { region: s.region } : {}) };
  try {
    if (s.via === 'signal') {
      await handle.signal(actionSignals[s.action], payload);
      return { action: s.action, via: s.via, fate: 'recorded' };
    }
    const r = await handle.executeUpdate(actionUpdates[s.action], { args: [payload] });
    return { action: s.action, via: s.via, fate: 'recorded', note: r.note };
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      const why = String(e.cause?.message);
      if (ended(why) && !/Legal now: /.test(why)) return { action: s.action, via: s.via, fate: 'ended' };
      // Refused by the validator: the action table's reason (with what is legal now) or the region named.
      assert.match(why, /Legal now: |names region /, why);
      return { action: s.action, via: s.via, fate: 'refused', note: why };
    }
    if (ended(e)) return { action: s.action, via: s.via, fate: 'ended' };
    const cause = (e as { cause?: { code?: number; details?: string; message?: string } }).cause;
    throw new Error(`${s.via} ${s.action}: ${String(e)}; cause ${cause?.code} ${cause?.details ?? cause?.message}`, { cause: e });
  }
}

function countByAction(xs: { action: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x.action] = (out[x.action] ?? 0) + 1;
  return out;
}

/** Every deployed region rolled back after its last deploy (aborted, rolled-back). */
function assertAllRolledBack(calls: Call[], s: RolloutStatus): void {
  for (const r of REGIONS) {
    const lastDeploy = lastIndex(calls, (c) => c.kind === 'deploy' && c.region === r);
    if (lastDeploy < 0) continue;
    const rolledBack = calls.findIndex((c, i) => i > lastDeploy && c.kind === 'rollback' && c.region === r);
    assert.ok(rolledBack > lastDeploy, `${r} was deployed (call ${lastDeploy}) and not rolled back after it; ${s.state}: ${s.summary}`);
    assert.equal(s.regions.find((x) => x.name === r)!.status, 'rolled-back');
  }
}

describe('racing operators', { timeout: 300_000 }, () => {
  test('several clients at once, signals and updates, duplicated and out of order: every action recorded, the verdict matches the activities, no workflow task failure', async () => {
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const connection = await Connection.connect({ address: env.address });
        return { connection, client: new Client({ connection }) };
      }),
    );
    const seen = { verdicts: new Set<string>(), recorded: 0, refused: 0, folded: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(run, async (r) => {
          const script: Script = {
            ...(r.badVersion ? { breachAfterMs: { medium: 300 } } : {}),
            ...(r.rollbackFails ? { rollbackFails: { medium: 1, small: 1 } } : {}),
          };
          const doc = planDoc(
            { defaults: { ...(planDoc().defaults as object), soak: '1s', checkInterval: '250ms' }, failurePolicy: r.policy },
            REGIONS.map((name, i) => ({ name, size: 10 ** i, ...(r.approval && i === 1 ? { approval: 'required' } : {}) })),
          );
          const sent: Sent[] = [];
          await runRollout(env, doc, script, async (h) => {
            await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
            const id = h.handle.workflowId;
            // The storm: each client on its own connection, all at once.
            await Promise.all(
              r.clients.map(async (list, c) => {
                const handle = clients[c]!.client.workflow.getHandle(id);
                for (const [i, s] of list.entries()) {
                  await sleep(s.delayMs);
                  const twice = s.twice ? [deliver(handle, s, `client-${c}`, i), deliver(handle, s, `client-${c}`, i)] : [deliver(handle, s, `client-${c}`, i)];
                  sent.push(...(await Promise.all(twice)));
                }
              }),
            );
            // Then bring it to an end, through the same actions (each one counted too).
            const deadline = Date.now() + 60_000;
            for (let i = 0; ; i++) {
              const s = await h.status();
              if (TERMINAL_STATES.has(s.state)) break;
              assert.ok(Date.now() < deadline, `no end in sight: ${s.state}: ${s.summary}`);
              const legal = s.legalActions;
              const next: OperatorActionName | undefined =
                r.end === 'abort' || (r.badVersion && !r.rollbackFails)
                  ? legal.includes('abort')
                    ? 'abort'
                    : legal.includes('retry') && s.state === 'rollback-failed'
                      ? 'retry'
                      : undefined
                  : (['resume', 'retry', 'approve', 'skip-soak'] as const).find((a) => legal.includes(a));
              if (next) sent.push(await deliver(h.handle, { action: next, via: 'update' }, 'closer', 1000 + i));
              await sleep(150);
            }
            const { status } = await h.finish();
            // Every action that reached the rollout is recorded: kept, or folded into the counts.
            const reached = sent.filter((x) => x.fate === 'recorded');
            const kept = status.actions;
            const folded = status.earlierActions;
            assert.equal(kept.length + (folded?.count ?? 0), reached.length, `recorded ${kept.length} + ${folded?.count ?? 0} folded, sent ${reached.length}`);
            assert.ok(kept.length <= MAX_RECORDED_ACTIONS);
            const byAction = countByAction(kept);
            for (const [a, n] of Object.entries(folded?.byAction ?? {})) byAction[a] = (byAction[a] ?? 0) + n;
            assert.deepEqual(byAction, countByAction(reached), 'recorded per action');
            assert.ok(
              kept.every((a) => (OPERATOR_ACTIONS as readonly string[]).includes(a.action)),
              'only operator actions',
            );
            // The verdict agrees with the activities.
            const v = status.state;
            assert.ok(v === 'succeeded' || v === 'aborted' || v === 'rolled-back', `ended ${v}: ${status.summary}`);
            const abortAccepted =
              sent.some((x) => x.action === 'abort' && x.via === 'update' && x.note?.startsWith('aborting')) ||
              kept.some((a) => a.action === 'abort' && a.accepted && a.note?.startsWith('aborting'));
            if (abortAccepted) assert.equal(v, 'aborted', 'an accepted abort is final');
            if (v === 'aborted' || v === 'rolled-back') assertAllRolledBack(h.calls, status);
            if (v === 'succeeded') {
              for (const name of REGIONS) {
                const lastDeploy = lastIndex(h.calls, (c) => c.kind === 'deploy' && c.region === name);
                assert.ok(lastDeploy >= 0, `${name} never deployed, yet succeeded`);
                assert.ok(
                  !h.calls.some((c, i) => i > lastDeploy && c.kind === 'rollback' && c.region === name),
                  `${name} rolled back after its last deploy, yet succeeded`,
                );
                assert.equal(status.regions.find((x) => x.name === name)!.status, 'promoted');
              }
            }
            if (v === 'rolled-back') assert.equal(r.policy, 'rollback-all');
            assert.deepEqual(await taskFailures(h.handle), [], 'no workflow task failed');
            seen.verdicts.add(v);
            seen.recorded += reached.length;
            seen.refused += sent.filter((x) => x.fate === 'refused').length;
            seen.folded += folded?.count ?? 0;
          });
        }),
        {
          numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 3,
          endOnFailure: true,
          includeErrorInReport: true,
          ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
        },
      );
    } finally {
      await Promise.all(clients.map((c) => c.connection.close()));
    }
    // The storms were storms: actions both recorded and refused.
    assert.ok(seen.recorded > 0 && seen.refused > 0, JSON.stringify({ ...seen, verdicts: [...seen.verdicts] }));
  });

  // Found by the storm above (seed -781571156): abortAll set status.halt, rollbackAll's
  // rollback-failed branch deleted it after the retry, and abortAll then read
  // status.halt.reason: TypeError, every workflow task failed, the rollout was stuck and refused
  // updates ("Workflow Task in failed state"). abortAll now keeps its own halt.
  test('an abort whose rollback fails once, then is retried: the rollout ends aborted without a workflow task failure', async () => {
    const doc = planDoc({ defaults: { ...(planDoc().defaults as object), soak: '20s' } }, [{ name: 'small', size: 1 }]);
    const calls = await runRollout(env, doc, { rollbackFails: { small: 1 } }, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
      await h.handle.executeUpdate(actionUpdates.abort, { args: [{ reason: 'stop', by: 'alice' }] });
      await h.waitUntil((s) => s.state === 'rollback-failed');
      await h.handle.executeUpdate(actionUpdates.retry, { args: [{ reason: 'fixed by hand', by: 'alice' }] });
      // Bounded: with the bug the workflow never ends, it fails every task.
      const deadline = Date.now() + 15_000;
      let failures: string[] = [];
      while (Date.now() < deadline) {
        failures = await taskFailures(h.handle);
        if (failures.length || (await h.handle.describe()).status.name !== 'RUNNING') break;
        await sleep(200);
      }
      assert.deepEqual(failures, [], 'no workflow task failed');
      const { status } = await h.finish(10_000);
      assert.equal(status.state, 'aborted');
    });
    assert.deepEqual(
      calls.filter((c) => c.kind === 'rollback').map((c) => c.region),
      ['small', 'small'],
    );
  });

  test('more than MAX_RECORDED_ACTIONS at once from every client: the newest kept, the rest counted, none lost', async () => {
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const connection = await Connection.connect({ address: env.address });
        return { connection, client: new Client({ connection }) };
      }),
    );
    try {
      const doc = planDoc({ defaults: { ...(planDoc().defaults as object), soak: '1s', checkInterval: '250ms' } }, [
        { name: 'small', size: 1, approval: 'required' },
        { name: 'medium', size: 10 },
      ]);
      const calls = await runRollout(env, doc, {}, async (h) => {
        await h.waitUntil((s) => s.regions[0]!.status === 'awaiting-approval');
        const per = 60;
        const schedule = fc.sample(
          fc.array(fc.constantFrom<OperatorActionName>('pause', 'resume', 'skip-soak', 'retry', 'approve'), { minLength: per, maxLength: per }),
          {
            numRuns: CLIENTS,
            ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
          },
        );
        const sent: Sent[] = [];
        await Promise.all(
          schedule.map(async (actions, c) => {
            const handle = clients[c]!.client.workflow.getHandle(h.handle.workflowId);
            // Signals and updates interleaved; approve names another region than the one waiting.
            for (const [i, a] of actions.entries())
              sent.push(
                await deliver(handle, { action: a, via: i % 2 ? 'update' : 'signal', ...(a === 'approve' ? { region: 'medium' } : {}) }, `client-${c}`, i),
              );
          }),
        );
        const reached = sent.filter((x) => x.fate === 'recorded').length;
        assert.ok(reached > MAX_RECORDED_ACTIONS, `only ${reached} reached the rollout`);
        const s = await h.waitUntil((x) => x.actions.length + (x.earlierActions?.count ?? 0) >= reached, 20_000);
        assert.equal(s.actions.length, MAX_RECORDED_ACTIONS);
        assert.equal(s.earlierActions!.count, reached - MAX_RECORDED_ACTIONS);
        assert.equal(s.earlierActions!.accepted + s.earlierActions!.rejected, s.earlierActions!.count);
        await h.handle.executeUpdate(actionUpdates.resume, { args: [{ reason: 'release', by: 'closer' }] });
        await h.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'ok', by: 'closer' }] });
        const { status } = await h.finish();
        assert.equal(status.state, 'succeeded', status.summary);
        assert.deepEqual(await taskFailures(h.handle), [], 'no workflow task failed');
      });
      assert.deepEqual(
        calls.filter((c) => c.kind === 'rollback'),
        [],
      );
    } finally {
      await Promise.all(clients.map((c) => c.connection.close()));
    }
  });
});
