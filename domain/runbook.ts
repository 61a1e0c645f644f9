// Where the runbook (docs/runbook.md) says what to do now: one section per halt cause and
// per waiting state. Pure, so the workflow's current details, the notifications and mrcd all
// link the same section.
import type { HaltKind } from './halt-cause';
import type { RolloutStatus } from './state';

/** The runbook's path in this repository; mrcd prefixes $MRCD_RUNBOOK_BASE when set. */
export const RUNBOOK_DOC = 'docs/runbook.md';

/** Waiting states with a section of their own. */
export const RUNBOOK_WAITS = ['paused', 'awaiting-approval', 'waiting-window', 'blocked'] as const;

/** A section per halt cause and waiting state; the headings of docs/runbook.md are these ids. */
export type RunbookSection = HaltKind | (typeof RUNBOOK_WAITS)[number] | 'rollback-all';

/** The section for where the rollout is now, or undefined when nobody needs to act (running, succeeded). */
export function runbookSection(s: RolloutStatus): RunbookSection | undefined {
  if (s.state === 'paused') return 'paused';
  if (s.halt?.cause && s.state !== 'running' && s.state !== 'succeeded') {
    if (s.state === 'rolled-back' && s.halt.cause.kind !== 'rollback-failed') return 'rollback-all';
    return s.halt.cause.kind;
  }
  const cur = s.regions.find((r) => r.name === s.currentRegion);
  if (cur?.status === 'awaiting-approval') return 'awaiting-approval';
  if (cur?.status === 'waiting-window') return 'waiting-window';
  if (cur?.status === 'blocked') return 'blocked';
  return undefined;
}

/** The link to that section (relative to the repository, or under base). */
export function runbookLink(s: RolloutStatus, base = ''): string | undefined {
  const section = runbookSection(s);
  if (!section) return undefined;
  const doc = base ? `${base.replace(/\/+$/, '')}/${RUNBOOK_DOC}` : RUNBOOK_DOC;
  return `${doc}#${section}`;
}
