// The region-transition table of domain/region-transitions.ts, walked: every status is
// reachable from pending, none is a dead end, the moves that would make a verdict untrue are
// absent, the checked move refuses what the table does not allow, and docs/rollout-states.md
// shows the same table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canMoveRegion, IllegalRegionMove, moveRegion, REGION_TRANSITIONS } from '../../domain/region-transitions';
import type { RegionStatus } from '../../domain/state';

const STATUSES = Object.keys(REGION_TRANSITIONS) as RegionStatus[];

function reachableFrom(start: RegionStatus): Set<RegionStatus> {
  const seen = new Set<RegionStatus>([start]);
  const todo = [start];
  while (todo.length) {
    for (const next of REGION_TRANSITIONS[todo.pop()!]) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return seen;
}

test('every region status is reachable from pending, and every one can still end promoted or rolled back', () => {
  assert.deepEqual([...reachableFrom('pending')].sort(), [...STATUSES].sort());
  for (const s of STATUSES) {
    const ahead = reachableFrom(s);
    assert.ok(ahead.has('promoted') || ahead.has('rolled-back'), `${s} is a dead end`);
  }
  for (const s of STATUSES) for (const to of REGION_TRANSITIONS[s]) assert.ok(STATUSES.includes(to), `${s} → ${to}: no such status`);
});

test('no promotion without a soak, nothing rolled back that never ran, no redeploy over a promoted region', () => {
  const never: [RegionStatus, RegionStatus][] = [
    ['pending', 'promoted'],
    ['deploying', 'promoted'],
    ['waiting-window', 'promoted'],
    ['failed', 'promoted'],
    ['inconclusive', 'promoted'],
    ['rolled-back', 'promoted'],
    ['rolling-back', 'promoted'],
    ['rollback-failed', 'promoted'],
    ['pending', 'rolling-back'],
    ['pending', 'rolled-back'],
    ['promoted', 'deploying'],
    ['promoted', 'soaking'],
    ['promoted', 'pending'],
    ['rolling-back', 'failed'],
    ['rolled-back', 'rolling-back'],
    ['rollback-failed', 'rolled-back'],
    ['deploying', 'pending'],
  ];
  for (const [from, to] of never) assert.equal(canMoveRegion(from, to), false, `${from} → ${to} must be illegal`);
  // Only a soak's end (its gate, an approval, a resume) promotes.
  assert.deepEqual(STATUSES.filter((s) => REGION_TRANSITIONS[s].includes('promoted')).sort(), ['awaiting-approval', 'gating', 'soaking']);
  // Only a rollback call ends rolled back or rollback-failed.
  for (const end of ['rolled-back', 'rollback-failed'] as const) {
    assert.deepEqual(
      STATUSES.filter((s) => REGION_TRANSITIONS[s].includes(end) && s !== 'awaiting-resume' && s !== 'blocked'),
      ['rolling-back'],
      `${end} is entered only from rolling-back (or restored after a pause or a policy hold)`,
    );
  }
});

test('a checked move refuses what the table does not allow, naming the region and both ends; staying put is always allowed', () => {
  const r = { name: 'eu-west-1', status: 'rolled-back' as RegionStatus };
  assert.throws(
    () => moveRegion(r, 'promoted', true),
    (e: unknown) => e instanceof IllegalRegionMove && /eu-west-1: rolled-back → promoted/.test(e.message),
  );
  assert.equal(r.status, 'rolled-back', 'an illegal move changes nothing');
  moveRegion(r, 'rolled-back', true);
  moveRegion(r, 'deploying', true);
  assert.equal(r.status, 'deploying');
  // Rollouts started before the table keep their old paths unchecked.
  moveRegion(r, 'pending', false);
  assert.equal(r.status, 'pending');
});

test('docs/rollout-states.md shows the same table', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'rollout-states.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const m of doc.matchAll(/^\| `([a-z-]+)` \| ([^|]*) \|$/gm))
    rows.set(
      m[1]!,
      [...m[2]!.matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!),
    );
  for (const s of STATUSES) assert.deepEqual(rows.get(s)?.slice().sort(), [...REGION_TRANSITIONS[s]].sort(), `the row of ${s} in docs/rollout-states.md`);
});
