// The legal moves of a region's status, as data: the workflow changes a region's status only
// through moveRegion, which checks the move against this table, and a unit test walks it
// (test/unit/region-transitions.test.ts). docs/rollout-states.md says the same in words.
import type { RegionStatus } from './state';

/** Statuses before a deploy, and those a retry starts from: each may go to its window, its deploy or a pause. */
const STARTS: readonly RegionStatus[] = ['waiting-window', 'deploying', 'awaiting-resume', 'blocked'];
/** What a region that runs (or may run) the version can end in: a failed check, a halt, a rollback. */
const JUDGED: readonly RegionStatus[] = ['failed', 'inconclusive', 'rolling-back'];

/** For each status, where a region may go from it (staying put is always allowed). */
export const REGION_TRANSITIONS: Readonly<Record<RegionStatus, readonly RegionStatus[]>> = {
  // A window that cannot be computed fails the region before its deploy.
  pending: [...STARTS, 'failed'],
  // A region that waits for its window is pending again when the rollout ends first; a
  // retried inconclusive region waits with the version still on it, so it may be rolled back.
  'waiting-window': ['deploying', 'awaiting-resume', 'blocked', 'pending', 'failed', 'rolling-back'],
  deploying: ['soaking', 'failed', 'rolling-back'],
  soaking: ['gating', 'awaiting-approval', 'awaiting-resume', 'blocked', 'promoted', ...JUDGED],
  // Too little evidence at the gate extends the soak.
  gating: ['soaking', 'awaiting-approval', 'awaiting-resume', 'blocked', 'promoted', ...JUDGED],
  'awaiting-approval': ['awaiting-resume', 'blocked', 'promoted', ...JUDGED],
  // A resume returns the region to where it was held; a breach, an abort or the end of the
  // rollout meanwhile take it elsewhere.
  'awaiting-resume': ['pending', 'waiting-window', 'soaking', 'gating', 'awaiting-approval', 'failed', 'inconclusive', 'rolled-back', 'rolling-back'],
  // Held by the fleet policy before a deploy (from any start) or a promotion: it goes back
  // where it was when the policy lets it go, or is judged, rolled back or reset meanwhile.
  blocked: ['pending', 'waiting-window', 'soaking', 'gating', 'awaiting-approval', 'awaiting-resume', 'failed', 'inconclusive', 'rolled-back', 'rolling-back'],
  // A late regression, a region that no longer runs the version at the end, an abort.
  promoted: JUDGED,
  failed: [...STARTS, 'rolling-back'],
  // A region held inconclusive is still watched: a breach fails it.
  inconclusive: [...STARTS, 'failed', 'rolling-back'],
  'rolling-back': ['rolled-back', 'rollback-failed'],
  // A retried region whose window cannot be computed fails before its deploy.
  'rolled-back': [...STARTS, 'failed'],
  // An operator's retry runs the rollback again.
  'rollback-failed': ['rolling-back'],
};

/** Whether a region may go from `from` to `to`. */
export function canMoveRegion(from: RegionStatus, to: RegionStatus): boolean {
  return from === to || REGION_TRANSITIONS[from].includes(to);
}

/** A move the table does not allow: a bug in the workflow, named with the region and both ends. */
export class IllegalRegionMove extends Error {
  constructor(region: string, from: RegionStatus, to: RegionStatus) {
    super(`illegal region move in ${region}: ${from} → ${to} (domain/region-transitions.ts)`);
    this.name = 'IllegalRegionMove';
  }
}

/**
 * Moves a region to `to`. With `checked`, a move the table does not allow throws
 * IllegalRegionMove instead; rollouts started before the table keep their old, unchecked paths.
 */
export function moveRegion(r: { name: string; status: RegionStatus }, to: RegionStatus, checked: boolean): void {
  if (checked && !canMoveRegion(r.status, to)) throw new IllegalRegionMove(r.name, r.status, to);
  r.status = to;
}
