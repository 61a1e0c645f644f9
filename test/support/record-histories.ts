// Records the histories replayed by test/unit/replay.test.ts: `npm run record-histories`.
// Re-record only on purpose (a deliberate, patched() workflow change), never to make a
// failing replay pass; keep the previous recordings (renamed v1-*, v2-*, ...) so the old
// branches of every patch go on being replayed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { policyWorkflowId } from '../../domain/policy';
import { createFreeze, liftFreeze, overrideFreeze } from '../../client/policy';
import type { MrcdClient } from '../../client/rollouts';
import { planDoc, runRollout, startTestServer, type RunOptions, type Script } from './rollout-harness';

const who = { reason: 'recording', by: 'recorder' };

/** The fleet of the rollout being recorded (set before it starts), for the policy scenarios. */
let fleet: MrcdClient | undefined;
const withFleet: RunOptions = { beforeStart: async (m) => void (fleet = m) };

async function main() {
  const env = await startTestServer();
  const scenarios: [string, unknown, Script, (h: Parameters<Parameters<typeof runRollout>[3]>[0]) => Promise<void>, RunOptions?][] = [
    ['happy-path', planDoc(), {}, async (h) => void (await h.finish())],
    [
      'pause-resume',
      planDoc(),
      {},
      async (h) => {
        await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
        await h.handle.executeUpdate(actionUpdates.pause, { args: [who] });
        await h.waitUntil((s) => s.regions[0]!.status === 'awaiting-resume');
        await h.handle.signal(actionSignals.resume, who);
        await h.finish();
      },
    ],
    [
      'breach-halt-abort',
      planDoc(),
      { breachAfterMs: { medium: 1000 } },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted');
        await h.handle.signal(actionSignals.abort, who);
        await h.finish();
      },
    ],
    [
      'late-regression-halt-abort',
      planDoc(),
      { breachAfterMs: { small: 4500 } },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted');
        await h.handle.signal(actionSignals.abort, who);
        await h.finish();
      },
    ],
    [
      'unknown-signal-retry-abort',
      planDoc(),
      { breachAfterMs: { small: 500 }, breachOnce: true },
      async (h) => {
        await h.waitUntil((s) => s.state === 'halted');
        await h.handle.signal('Retry', who);
        await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
        await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
        await h.handle.executeUpdate(actionUpdates.abort, { args: [who] });
        await h.finish();
      },
    ],
    [
      'quarantine-override',
      planDoc(),
      { quarantined: [{ workflowId: 'rollout-checkout', runId: 'run-1', region: 'medium' }] },
      async (h) => void (await h.finish()),
      { input: { overrides: { quarantine: { reason: 'recording the override path', by: 'recorder' } } } },
    ],
    [
      // A pause long enough for two reminders (the first escalated): the reminders patch's branch, replayed.
      'hold-reminders',
      planDoc({ notifications: [{ type: 'webhook', url: 'http://127.0.0.1:9/owner' }], reminders: { remindEvery: '1m', escalateAfter: '1m' } }),
      {},
      async (h) => {
        await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
        await h.handle.executeUpdate(actionUpdates.pause, { args: [who] });
        await h.waitUntil((s) => (s.hold?.reminders ?? 0) >= 2, 180_000);
        await h.handle.signal(actionSignals.resume, who);
        await h.finish();
      },
    ],
    [
      // A workflow cancel while the contract step runs: refused by the action table, the rollout succeeds.
      'cancel-refused-at-contract',
      planDoc({ migrations: [{ name: 'drop-column', phase: 'contract', apply: { run: ['true'] }, irreversible: { reason: 'drops a column for good' } }] }),
      { migrationMs: 2000 },
      async (h) => {
        await h.waitUntil((s) => /contract/.test(s.summary));
        await h.handle.cancel();
        await h.finish();
      },
    ],
    [
      // Abort, its rollback fails, a workflow cancel (a no-op), then retry finishes the compensation.
      'abort-rollback-failed-cancel-retry',
      planDoc(),
      { rollbackFails: { small: 1 } },
      async (h) => {
        await h.waitUntil((s) => s.regions[1]!.status === 'soaking');
        await h.handle.signal(actionSignals.abort, who);
        await h.waitUntil((s) => s.state === 'rollback-failed');
        await h.handle.cancel();
        await h.waitUntil((s) => s.actions.some((a) => a.by === 'temporal'));
        await h.handle.executeUpdate(actionUpdates.retry, { args: [who] });
        await h.finish();
      },
    ],
    [
      // The fleet policy: a freeze made mid-soak holds the promotion (blocked), an override lets
      // it past, a second freeze over the next region is lifted. The policy's own history is
      // recorded beside it (policy-fleet-freeze-override.json).
      'fleet-freeze-override',
      planDoc(),
      {},
      async (h) => {
        await h.waitUntil((s) => s.regions[0]!.status === 'soaking');
        const f = await createFreeze(fleet!, { scope: { services: ['checkout'], regions: ['small'] }, reason: 'recording a freeze', by: 'recorder' });
        const next = await createFreeze(fleet!, { scope: { regions: ['medium'] }, reason: 'recording a second freeze', by: 'recorder' });
        await h.waitUntil((s) => s.regions[0]!.status === 'blocked');
        await overrideFreeze(fleet!, { service: 'checkout', rolloutId: h.handle.workflowId, freezes: [f.id], reason: 'recording an override', by: 'recorder' });
        await h.waitUntil((s) => s.regions[1]!.status === 'blocked');
        await liftFreeze(fleet!, { id: next.id, reason: 'recording a lift', by: 'recorder' });
        await h.finish();
        const policy = join(__dirname, '..', 'histories', 'policy-fleet-freeze-override.json');
        writeFileSync(policy, historyToJSON(await env.client.workflow.getHandle(policyWorkflowId(fleet!.taskQueue)).fetchHistory()));
        process.stdout.write(`recorded ${policy}\n`);
      },
      withFleet,
    ],
  ];
  // MRCD_RECORD=name,name records only those (a new scenario, without re-recording the rest).
  const only = process.env.MRCD_RECORD?.split(',').filter(Boolean);
  for (const [name, doc, script, body, opts] of scenarios) {
    if (only && !only.includes(name)) continue;
    await runRollout(
      env,
      doc,
      script,
      async (h) => {
        await body(h);
        const file = join(__dirname, '..', 'histories', `${name}.json`);
        writeFileSync(file, historyToJSON(await h.handle.fetchHistory()));
        process.stdout.write(`recorded ${file}\n`);
      },
      opts,
    );
  }
  await env.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
