// A real rollout halted by a breach points its people at the runbook: the owner's halted
// notification, the status every client reads, and the Web UI's current details all name the
// section of the cause; once it is aborted, the link follows the new state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NotifyInput } from '../../domain/activity-contract';
import { actionUpdates } from '../../domain/definitions';
import { runbookLink } from '../../domain/runbook';
import { renderDetails } from '../../domain/summary';
import { planDoc, runRollout, useTestServer } from '../support/rollout-harness';

const env = useTestServer();

test('a halt links the runbook section of its cause in the notification, status and details', async () => {
  const sent: NotifyInput['event'][] = [];
  const notifications = [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }];
  await runRollout(
    env,
    planDoc({ notifications }),
    { breachAfterMs: { medium: 500 } },
    async (h) => {
      const halted = await h.waitUntil((s) => s.state === 'halted');
      assert.equal(halted.halt?.cause?.kind, 'slo-breach');
      assert.equal(halted.startedBy, 'test', 'status says who started the rollout');
      assert.equal(runbookLink(halted), 'docs/runbook.md#slo-breach');
      assert.ok(renderDetails(halted).includes('Runbook: docs/runbook.md#slo-breach'));
      // What the Web UI shows as current details, read the way it reads them.
      const meta = await h.handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.ok(meta.currentDetails?.includes('Runbook: docs/runbook.md#slo-breach'), meta.currentDetails);
      await h.handle.executeUpdate(actionUpdates.abort, { args: [{ reason: 'bad build', by: 'oncall' }] });
      const { status } = await h.finish();
      assert.equal(status.state, 'aborted');
      assert.equal(runbookLink(status), 'docs/runbook.md#aborted');
    },
    {
      activities: {
        async notify(input) {
          sent.push(input.event);
          return [];
        },
      },
    },
  );
  const byKind = Object.fromEntries(sent.map((e) => [e.kind, e.runbook]));
  assert.equal(byKind.started, undefined, 'nobody needs to act at the start');
  assert.equal(byKind.halted, 'docs/runbook.md#slo-breach');
  assert.equal(byKind.aborted, 'docs/runbook.md#aborted');
});
