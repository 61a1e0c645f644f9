// The review memo (domain/review-memo.ts): what a rollout writes when it ends gives the review
// the figures its full status gives, stays small whatever the rollout did, and holds no free
// text (the memo is not encrypted by the payload codec).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregate } from '../../client/review/aggregate';
import { statusFromMemo } from '../../client/review/collect';
import type { CollectedRollout } from '../../client/review/types';
import { MAX_MEMO_CHECKS, readReviewMemo, reviewMemoOf } from '../../domain/review-memo';
import { MAX_RECORDED_HOLDS, type RolloutStatus } from '../../domain/state';

const fixture = (JSON.parse(readFileSync(join(__dirname, '../fixtures/review/rollouts.json'), 'utf8')) as { rollouts: CollectedRollout[] }).rollouts;
/** The recorded rollouts' final statuses as they returned them (full statuses). */
const full = (c: CollectedRollout) => c.status as unknown as RolloutStatus;

test('the figures from the memo are the figures from the full status, rollout by rollout', () => {
  const o = { since: 0, until: Date.now() + 86_400_000, staleAfterMs: 1000 };
  // The fixture was recorded before holds were tracked in status (its pauses and halts are
  // inferred from actions and gate evidence); a rollout that writes a memo tracks them, so
  // each is compared as one that tracked none. Hold figures of real rollouts paused and
  // halted since: test/integration/review.test.ts, "the review memo".
  const ended = fixture.filter((c) => c.status).map((c) => ({ ...c, status: { ...c.status!, holds: c.status!.holds ?? [] } }));
  assert.ok(ended.length >= 6, 'the fixture has the recorded rollouts');
  for (const c of ended) {
    const memo = readReviewMemo(JSON.parse(JSON.stringify(reviewMemoOf(full(c)))));
    assert.ok(memo, c.service);
    // Overrides are counted in the memo; their reasons are read from the close event.
    assert.equal(memo.overrides, c.status!.overrides?.length ?? 0);
    const fromMemo = { ...c, status: { ...statusFromMemo(memo), ...(c.status!.overrides ? { overrides: c.status!.overrides } : {}) } };
    assert.deepEqual(aggregate([fromMemo], o), aggregate([c], o), c.service);
  }
});

test('no free text: reasons, people and provider messages stay out', () => {
  for (const c of fixture.filter((x) => x.status)) {
    const s = full(c);
    const text = JSON.stringify(reviewMemoOf(s));
    for (const o of s.overrides ?? []) {
      assert.ok(!text.includes(o.reason), `${c.service}: override reason in the memo`);
      assert.ok(!text.includes(`"${o.by}"`), `${c.service}: who overrode in the memo`);
    }
    if (s.halt) assert.ok(!text.includes(s.halt.reason), `${c.service}: halt reason in the memo`);
    for (const a of s.actions) assert.ok(!text.includes(a.reason), `${c.service}: an action's reason in the memo`);
    if (s.growthReason) assert.ok(!text.includes(s.growthReason), `${c.service}: growth reason in the memo`);
  }
});

test('bounded: 50 regions of 40 checks each and every hold status keeps stay a few tens of KB', () => {
  const base = full(fixture.find((c) => c.status?.state === 'succeeded')!);
  const gate = base.regions[0]!.lastGate!;
  const checks = Array.from({ length: 40 }, (_, i) => ({ ...gate.checks[0]!, name: `check-with-a-long-name-${i}` }));
  const s: RolloutStatus = {
    ...base,
    regions: Array.from({ length: 50 }, (_, i) => ({ ...base.regions[0]!, name: `region-with-a-long-name-${i}`, lastGate: { ...gate, checks } })),
    holds: Array.from({ length: MAX_RECORDED_HOLDS }, (_, i) => ({ kind: 'paused', since: i, until: i + 1, reminders: 0, region: `region-${i}` })),
  };
  const memo = reviewMemoOf(s);
  assert.ok(memo.regions.every((r) => r.gate!.checks.length === MAX_MEMO_CHECKS));
  const bytes = JSON.stringify(memo).length;
  assert.ok(bytes < 64 * 1024, `${bytes} bytes`);
});

test('a memo of another shape or version is not read (the close event is)', () => {
  const memo = reviewMemoOf(full(fixture.find((c) => c.status)!));
  assert.equal(readReviewMemo({ ...memo, v: 2 }), undefined);
  assert.equal(readReviewMemo({ ...memo, regions: 'x' }), undefined);
  assert.equal(readReviewMemo('text'), undefined);
  assert.equal(readReviewMemo(undefined), undefined);
});
