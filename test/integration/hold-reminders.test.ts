// Stale-hold reminders over days, on the time-skipping server: a rollout held for a person
// (halted, paused, awaiting approval) reminds its owner every `reminders.remindEvery`,
// escalates once after `reminders.escalateAfter`, stops when the hold ends, and costs the
// same few history events per reminder however long the hold lasts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { PATCH_HOLD_REMINDERS, PATCH_ONE_STEP_START_AND_REVIEW_MEMO } from '../../workflows/rollout/patches';
import type { NotifyInput } from '../../domain/activity-contract';
import { planDoc, runRollout, TEST_GATE, type Call, type Harness, type RunOptions, type Script } from '../support/rollout-harness';
import { useTimeSkipping } from '../support/temporal';

const MIN = 60_000;
const HOUR = 60 * MIN;
const OWNER_HOOK = 'http://127.0.0.1:9/owner';
const PAGER_HOOK = 'http://127.0.0.1:9/pager';

const env = useTimeSkipping();

const twoRegions = [
  { name: 'small', size: 1 },
  { name: 'large', size: 2 },
];

/** 30-minute soaks, an owner webhook, reminders hourly and an escalation to a pager after 4 hours. */
const heldPlan = (overrides: Record<string, unknown> = {}, regions: Record<string, unknown>[] = twoRegions) =>
  planDoc(
    {
      defaults: { soak: '30m', checkInterval: '1m', gate: TEST_GATE },
      notifications: [{ type: 'webhook', url: OWNER_HOOK }],
      reminders: { remindEvery: '1h', escalateAfter: '4h', escalateTo: [{ type: 'webhook', url: PAGER_HOOK }] },
      ...overrides,
    },
    regions,
  );

const run = (doc: unknown, script: Script, body: (r: Harness) => Promise<void>, opts: RunOptions = {}) =>
  runRollout(env, doc, script, body, { instantWatch: true, ...opts });

const sent = (calls: Call[], kind: 'reminder' | 'escalation') =>
  calls.filter((c) => c.kind === 'notify' && c.detail === kind).map((c) => ({ at: c.at, input: c.input as NotifyInput }));

const targets = (n: NotifyInput) => n.notifications.map((t) => (t.type === 'webhook' ? t.url : t.urlEnv));

async function historyEvents(r: Harness): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await r.handle.fetchHistory()).events ?? [];
}

/** The patch ids recorded as markers in a history. */
function markers(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  const text = new TextDecoder();
  return events
    .filter((e) => e.markerRecordedEventAttributes)
    .flatMap((e) =>
      Object.values(e.markerRecordedEventAttributes!.details ?? {}).flatMap((p) => (p.payloads ?? []).map((x) => text.decode(x.data ?? new Uint8Array()))),
    );
}

describe('stale-hold reminders (time-skipping server, holds of hours and days)', { timeout: 300_000 }, () => {
  test('a halt of three days reminds the owner hourly, escalates once at 4 hours, and each reminder costs the same few events', async () => {
    await run(heldPlan(), { breachAfterMs: { small: 10 * MIN } }, async (r) => {
      await env.sleep('20m');
      const halted = await r.waitUntil((s) => s.state === 'halted');
      assert.equal(halted.hold?.kind, 'halted');
      assert.equal(halted.hold?.region, 'small');
      assert.equal(halted.hold?.reminders, 0);
      const since = halted.hold!.since;
      const before = (await historyEvents(r)).length;

      await env.sleep('1d');
      const day1 = await r.waitUntil((s) => (s.hold?.reminders ?? 0) >= 24);
      assert.equal(day1.hold?.reminders, 24, 'one reminder per hour of the first day');
      assert.ok(Math.abs(day1.hold!.escalatedAt! - (since + 4 * HOUR)) < MIN, `escalated ${(day1.hold!.escalatedAt! - since) / HOUR} h into the hold`);
      const afterDay1 = (await historyEvents(r)).length;

      await env.sleep('2d');
      const day3 = await r.waitUntil((s) => (s.hold?.reminders ?? 0) >= 72);
      assert.equal(day3.hold?.reminders, 72);
      assert.deepEqual(day3.reminders, { sent: 72, escalated: 1 });
      const afterDay3 = (await historyEvents(r)).length;
      // O(1) per reminder: the second and third days cost per reminder what the first did.
      const perReminderDay1 = (afterDay1 - before) / 24;
      const perReminderLater = (afterDay3 - afterDay1) / 48;
      assert.ok(perReminderDay1 <= 12, `${perReminderDay1} events per reminder`);
      assert.ok(Math.abs(perReminderLater - perReminderDay1) < 0.5, `${perReminderDay1} then ${perReminderLater} events per reminder`);

      const reminders = sent(r.calls, 'reminder');
      const escalations = sent(r.calls, 'escalation');
      assert.equal(reminders.length, 71);
      assert.equal(escalations.length, 1);
      // The escalation reaches the pager as well as the owner; reminders only the owner.
      assert.deepEqual(targets(escalations[0]!.input), [OWNER_HOOK, PAGER_HOOK]);
      assert.deepEqual(targets(reminders[0]!.input), [OWNER_HOOK]);
      assert.match(reminders[0]!.input.event.message, /^still halted \(SLO breach in small.*\) at small after 1h \(reminder 1\)$/);
      assert.match(escalations[0]!.input.event.message, /after 4h \(reminder 4\): escalated after 4h$/);
      // Every reminder points at what to do now.
      assert.ok(reminders.every((x) => x.input.event.runbook?.endsWith('docs/runbook.md#slo-breach')));
      const gaps = reminders.slice(1).map((x, i) => x.at - reminders[i]!.at);
      assert.ok(
        gaps.every((g) => Math.abs(g - HOUR) < MIN || Math.abs(g - 2 * HOUR) < MIN),
        'hourly (the escalation takes the 4th hour)',
      );

      await r.handle.signal(actionSignals.abort, { reason: 'abandoned', by: 'lead' });
      const { status } = await r.finish();
      assert.equal(status.state, 'aborted');
      assert.equal(status.hold, undefined, 'the hold ended with the abort');
      assert.deepEqual(status.reminders, { sent: 72, escalated: 1 });
      // The hold is recorded with its span for the review: from the halt to the abort.
      assert.deepEqual(
        status.holds?.map((h) => [h.kind, h.region, h.since, h.reminders]),
        [['halted', 'small', since, 72]],
      );
      assert.ok(status.holds![0]!.until - since >= 3 * 24 * HOUR);
    });
  });

  test('a pause reminds its owner with who paused; resume stops the reminders and the rollout finishes', async () => {
    await run(heldPlan(), {}, async (r) => {
      await env.sleep('10m');
      await r.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'incident elsewhere', by: 'ic' }] });
      await env.sleep('150m');
      const paused = await r.waitUntil((s) => (s.hold?.reminders ?? 0) >= 2);
      assert.equal(paused.state, 'paused');
      assert.equal(paused.hold?.kind, 'paused');
      assert.equal(paused.hold?.reminders, 2);
      const reminders = sent(r.calls, 'reminder');
      assert.equal(reminders.length, 2);
      assert.match(reminders[0]!.input.event.message, /^still paused by ic at small after 1h \(reminder 1\)$/);
      assert.ok(reminders[0]!.input.event.runbook?.endsWith('#paused'));

      await r.handle.signal(actionSignals.resume, { reason: 'incident over', by: 'ic' });
      const { status } = await r.finish();
      assert.equal(status.state, 'succeeded');
      assert.equal(status.hold, undefined);
      assert.deepEqual(status.reminders, { sent: 2, escalated: 0 });
      assert.equal(sent(r.calls, 'reminder').length, 2, 'no reminder after resume');
      assert.equal(status.holds?.length, 1);
      const pause = status.holds![0]!;
      assert.equal(pause.kind, 'paused');
      assert.ok(Math.abs(pause.until - pause.since - 150 * MIN) < MIN, `held ${(pause.until - pause.since) / MIN} min`);
      assert.equal(sent(r.calls, 'escalation').length, 0);
    });
  });

  test('a region awaiting approval reminds its owner until approved', async () => {
    const doc = heldPlan({}, [
      { name: 'small', size: 1, approval: 'required' },
      { name: 'large', size: 2 },
    ]);
    await run(doc, {}, async (r) => {
      // 30 minutes of soak, then the approval wait: its first reminder comes an hour into it.
      await env.sleep('105m');
      const waiting = await r.waitUntil((s) => (s.hold?.reminders ?? 0) >= 1);
      assert.equal(waiting.hold?.kind, 'awaiting-approval');
      assert.equal(waiting.hold?.region, 'small');
      assert.match(sent(r.calls, 'reminder')[0]!.input.event.message, /^still awaiting approval at small after 1h \(reminder 1\)$/);
      await r.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'capacity ok', by: 'lead' }] });
      const { status } = await r.finish();
      assert.equal(status.state, 'succeeded');
      assert.deepEqual(status.reminders, { sent: 1, escalated: 0 });
    });
  });

  test('a rollout with nobody to notify tracks the hold but starts no reminder timers (no patch marker either)', async () => {
    await run(heldPlan({ notifications: [], reminders: { remindEvery: '1h' } }), {}, async (r) => {
      await env.sleep('10m');
      await r.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'look first', by: 'ic' }] });
      await env.sleep('3h');
      const s = await r.status();
      assert.equal(s.hold?.kind, 'paused');
      assert.equal(s.hold?.reminders, 0);
      assert.equal(s.reminders, undefined);
      assert.ok(!markers(await historyEvents(r)).some((m) => m.includes(PATCH_HOLD_REMINDERS)));
      await r.handle.signal(actionSignals.resume, { reason: 'fine', by: 'ic' });
      assert.equal((await r.finish()).status.state, 'succeeded');
    });
  });

  test('a held rollout records no reminders marker of its own: its one marker implies them (older rollouts: test/histories/v7-hold-reminders.json)', async () => {
    await run(heldPlan(), {}, async (r) => {
      await env.sleep('10m');
      await r.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'a', by: 'ic' }] });
      await r.handle.signal(actionSignals.resume, { reason: 'b', by: 'ic' });
      await r.handle.executeUpdate(actionUpdates.pause, { args: [{ reason: 'c', by: 'ic' }] });
      await r.handle.signal(actionSignals.resume, { reason: 'd', by: 'ic' });
      const { status } = await r.finish();
      assert.equal(status.state, 'succeeded');
      const all = markers(await historyEvents(r));
      assert.equal(all.filter((m) => m.includes(PATCH_HOLD_REMINDERS)).length, 0);
      assert.equal(all.filter((m) => m.includes(PATCH_ONE_STEP_START_AND_REVIEW_MEMO)).length, 1);
    });
  });
});
