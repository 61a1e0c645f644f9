// Determinism: histories recorded from the main scenarios replay against today's workflow
// code. A change to workflow logic that running rollouts would notice fails here, unless
// it is behind patched().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/temporal';
import {
  PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS,
  PATCH_FLEET_POLICY,
  PATCH_HOLD_REMINDERS,
  PATCH_ONE_STEP_START_AND_REVIEW_MEMO,
  PATCH_SERVER_RETRIED_CHECKS,
  PATCH_SOAK_ENDS_IN_ITS_WATCH,
  PATCH_TRUTH_AT_THE_EDGES,
  PATCH_WATCH_PROMOTED_AND_QUARANTINE,
  PATCH_WEEK_LONG_PROMOTED_WATCHES,
} from '../../workflows/rollout';

const DIR = join(__dirname, '..', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

test('recorded histories exist for the main scenarios', () => {
  // v2-*: recorded before 'attempt-keys-verified-deploys-bounded-actions'; v3-*: before
  // 'watch-by-server-retried-checks'; v4-*: before 'week-long-promoted-watches'; v5-*:
  // before 'soak-ends-in-its-watch'; v6-*: before 'truth-at-the-edges'; v7-*: before
  // 'one-step-start-and-review-memo'. Each generation
  // replays the old branch of the next patch.
  assert.deepEqual(files.sort(), [
    'abort-rollback-failed-cancel-retry.json',
    'breach-halt-abort.json',
    'cancel-refused-at-contract.json',
    'fleet-freeze-override.json',
    'happy-path.json',
    'hold-reminders.json',
    'late-regression-halt-abort.json',
    'pause-resume.json',
    'policy-fleet-freeze-override.json',
    'quarantine-override.json',
    'unknown-signal-retry-abort.json',
    'v2-breach-halt-abort.json',
    'v2-happy-path.json',
    'v2-late-regression-halt-abort.json',
    'v2-pause-resume.json',
    'v2-quarantine-override.json',
    'v3-breach-halt-abort.json',
    'v3-happy-path.json',
    'v3-late-regression-halt-abort.json',
    'v3-pause-resume.json',
    'v3-quarantine-override.json',
    'v3-unknown-signal-retry-abort.json',
    'v4-breach-halt-abort.json',
    'v4-happy-path.json',
    'v4-late-regression-halt-abort.json',
    'v4-pause-resume.json',
    'v4-quarantine-override.json',
    'v4-unknown-signal-retry-abort.json',
    'v5-breach-halt-abort.json',
    'v5-happy-path.json',
    'v5-late-regression-halt-abort.json',
    'v5-pause-resume.json',
    'v5-quarantine-override.json',
    'v5-unknown-signal-retry-abort.json',
    'v6-breach-halt-abort.json',
    'v6-happy-path.json',
    'v6-hold-reminders.json',
    'v6-late-regression-halt-abort.json',
    'v6-pause-resume.json',
    'v6-quarantine-override.json',
    'v6-unknown-signal-retry-abort.json',
    'v7-abort-rollback-failed-cancel-retry.json',
    'v7-breach-halt-abort.json',
    'v7-cancel-refused-at-contract.json',
    'v7-fleet-freeze-override.json',
    'v7-happy-path.json',
    'v7-hold-reminders.json',
    'v7-late-regression-halt-abort.json',
    'v7-pause-resume.json',
    'v7-quarantine-override.json',
    'v7-unknown-signal-retry-abort.json',
  ]);
});

/** The patch ids a history's markers record. */
function patchesOf(history: { events: { markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: string }[] }> } }[] }): string[] {
  return history.events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

test('each generation of histories carries exactly the patches of its time', () => {
  const order = [PATCH_WATCH_PROMOTED_AND_QUARANTINE, PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS, PATCH_SERVER_RETRIED_CHECKS, PATCH_WEEK_LONG_PROMOTED_WATCHES];
  // Generation vN was recorded with the first N-1 patches (v5 with all four; v1, with none,
  // is retired). Today's records only the newest marker, which implies every older patch.
  const generations = [...order.map((_, n) => order.slice(0, n)), order];
  // The reminders patch is asked only when a hold starts with someone to remind.
  const newestOf = (patch: string) => (f: string) => (/hold-reminders/.test(f) ? [patch, PATCH_HOLD_REMINDERS] : [patch]);
  const want = (f: string) => {
    // The fleet policy's own workflow has no patches; a rollout that asked it records its patch.
    if (/^policy-/.test(f)) return [];
    // Today's rollouts record the newest marker only: it implies the policy and the reminders too.
    if (!/^v\d+-/.test(f)) return [PATCH_ONE_STEP_START_AND_REVIEW_MEMO];
    if (/^v7-fleet-/.test(f)) return [PATCH_TRUTH_AT_THE_EDGES, PATCH_FLEET_POLICY];
    const g = /^v(\d+)-/.exec(f);
    if (g && Number(g[1]) === 7) return newestOf(PATCH_TRUTH_AT_THE_EDGES)(f);
    if (g && Number(g[1]) === 6) return newestOf(PATCH_SOAK_ENDS_IN_ITS_WATCH)(f);
    return generations[Number(g![1]) - 1]!;
  };
  for (const f of files) assert.deepEqual([...new Set(patchesOf(JSON.parse(readFileSync(join(DIR, f), 'utf8'))))].sort(), want(f).sort(), f);
});

test('every recorded history replays without nondeterminism', { timeout: 120_000 }, async () => {
  const histories = files.map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(DIR, f), 'utf8')) }));
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(r);
  assert.equal(results.length, files.length);
  for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
});

test('histories from before the folded patch are refused, not replayed down a branch that is gone', { timeout: 60_000 }, async () => {
  // 'watch-promoted-regions-and-quarantine' is folded (deprecatePatch; docs/architecture.md,
  // "Patches and their lifecycle"): a rollout recorded without its marker must fail its
  // workflow task on today's worker rather than run code it was never started with.
  const retired = join(DIR, 'retired');
  const names = readdirSync(retired).filter((f) => f.endsWith('.json'));
  assert.deepEqual(names.sort(), ['v1-breach-halt-abort.json', 'v1-happy-path.json', 'v1-pause-resume.json']);
  const histories = names.map((f) => ({ workflowId: f, history: JSON.parse(readFileSync(join(retired, f), 'utf8')) }));
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(r);
  assert.equal(results.length, names.length);
  for (const r of results) assert.match(`${r.error?.name} ${r.error?.message}`, /[Nn]ondeterminis/, `${r.workflowId} must not replay`);
});

test('a history edited into a mismatch fails replay (the check can fail)', { timeout: 60_000 }, async () => {
  const history = JSON.parse(readFileSync(join(DIR, 'happy-path.json'), 'utf8'));
  // Rename the first scheduled activity: the workflow code schedules the first deploy there.
  const ev = history.events.find((e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes);
  ev.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [{ workflowId: 'edited', history }])) results.push(r);
  assert.ok(results[0]!.error, 'an edited history must not replay cleanly');
  assert.match(results[0]!.error!.name + results[0]!.error!.message, /[Nn]ondeterminis/);
});
