// How long a rollout was held (paused, halted, awaiting approval), for the review: exactly
// from status.holds where the rollout recorded them, else inferred from its actions and its
// gates' evidence (rollouts from before holds were recorded; lower bounds).
import type { RecordedAction } from '../../domain/state';
import type { ReviewedStatus, StaleHold } from './types';

/** What the holds add to one rollout's facts. */
export interface HoldFacts {
  everHalted: boolean;
  pausedMs: number;
  paused: boolean;
  haltedMs: number;
}

/** An accepted action. (A no-op pause comes only while paused, a no-op resume only while not: neither moves an interval.) */
const took = (a: RecordedAction, action: string) => a.accepted && a.action === action;
/** A resume that released a halt answers "retrying …" rather than "resumed". */
const retried = (a: RecordedAction) => a.accepted && (a.action === 'retry' || (a.action === 'resume' && /^retrying/.test(a.note ?? '')));

/** Intervals that start at one kind of moment and end at the next accepted ender, or at the rollout's end. */
function intervals(starts: number[], enders: number[], end: number): { from: number; to: number; open: boolean }[] {
  const out: { from: number; to: number; open: boolean }[] = [];
  const ends = [...enders].sort((a, b) => a - b);
  let last = -Infinity;
  for (const from of [...starts].sort((a, b) => a - b)) {
    if (from < last) continue; // still inside the previous one
    const to = ends.find((t) => t >= from);
    out.push({ from, to: to ?? end, open: to === undefined });
    last = to ?? end;
  }
  return out;
}

export type Stale = (kind: StaleHold['kind'], from: number, to: number, open: boolean, region?: string) => void;

/** Rollouts that record their holds (status.holds): the time paused, halted and awaiting approval, exactly. */
export function holdsFromStatus(s: ReviewedStatus, end: number, facts: HoldFacts, stale: Stale): void {
  const ended = [...(s.holds ?? []), ...(s.hold ? [{ ...s.hold, until: end }] : [])];
  for (const h of ended) {
    const open = h.until >= end;
    if (h.kind === 'paused') {
      facts.pausedMs += h.until - h.since;
      facts.paused = true;
      stale('pause', h.since, h.until, open, h.region);
    } else if (h.kind === 'awaiting-approval') stale('approval', h.since, h.until, open, h.region);
    else {
      facts.haltedMs += h.until - h.since;
      facts.everHalted = true;
      stale('halt', h.since, h.until, open, h.region);
    }
  }
}

/** Rollouts from before status.holds: pauses and halts inferred from the actions and the gates' evidence (lower bounds). */
export function inferHolds(s: ReviewedStatus, end: number, facts: HoldFacts, stale: Stale): void {
  const actions = s.actions ?? [];
  // Pauses: an accepted pause to the next resume, retry or abort that was accepted.
  const pauses = intervals(
    actions.filter((a) => took(a, 'pause')).map((a) => a.at),
    actions.filter((a) => a.accepted && (took(a, 'resume') || retried(a) || a.action === 'abort')).map((a) => a.at),
    end,
  );
  for (const p of pauses) {
    facts.pausedMs += p.to - p.from;
    stale('pause', p.from, p.to, p.open);
  }
  facts.paused = pauses.length > 0;

  // Halts: from their evidence to the operator's retry or abort.
  const evidence: number[] = [];
  s.regions.forEach((r) => {
    if (r.regressedAt !== undefined) evidence.push(r.regressedAt);
    if (r.lastGate && r.lastGate.verdict !== 'pass' && (r.status !== 'promoted' || r.regressedAt !== undefined)) evidence.push(r.lastGate.at);
  });
  if (s.halt && s.halt.cause?.kind !== 'aborted' && s.state !== 'rolled-back') evidence.push(s.halt.at);
  const retries = actions.filter(retried).map((a) => a.at);
  const aborts = actions.filter((a) => a.accepted && a.action === 'abort').map((a) => a.at);
  // A rolled-back rollout (policy rollback-all) never waited for anyone.
  const halts = s.state === 'rolled-back' ? [] : intervals(evidence, [...retries, ...aborts], end);
  for (const h of halts) {
    facts.haltedMs += h.to - h.from;
    stale('halt', h.from, h.to, h.open, s.halt?.region);
  }
  facts.everHalted = retries.length > 0 || halts.length > 0;
}
