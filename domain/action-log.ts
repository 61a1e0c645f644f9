// The operator action log in status: every action, accepted or rejected, with who and why.
// Status travels through history (query results aside, it is the workflow's result and
// what continue-as-new carries), so the log is bounded: the newest actions in full, the
// older ones folded into counts, every text clipped. A 1 MB reason once put 2.8 MB into
// history; now it is refused, and what is recorded of it is a clipped line.
import { OPERATOR_ACTIONS, type RecordedAction, type RolloutStatus } from './state';

/** Actions kept in full; older ones are counted in `earlierActions`. */
export const MAX_RECORDED_ACTIONS = 100;
/** Characters of any recorded text (reason, who, note, an unknown signal's name). */
export const MAX_RECORDED_TEXT = 1024;

export type ActionRecord = RecordedAction;

export function clip(text: string, max = MAX_RECORDED_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters, clipped)`;
}

/** Appends an action (texts clipped) and folds the oldest into counts beyond the bound. */
export function boundActions(status: RolloutStatus, a: ActionRecord): void {
  status.actions.push({
    ...a,
    action: clip(a.action, 100),
    by: clip(a.by, 200),
    reason: clip(a.reason),
    ...(a.note !== undefined ? { note: clip(a.note) } : {}),
    ...(a.region !== undefined ? { region: clip(a.region, 200) } : {}),
  });
  const over = status.actions.length - MAX_RECORDED_ACTIONS;
  if (over <= 0) return;
  const folded = status.actions.splice(0, over);
  const e = (status.earlierActions ??= { count: 0, accepted: 0, rejected: 0, byAction: {}, from: folded[0]!.at, until: folded[0]!.at });
  for (const x of folded) {
    e.count += 1;
    if (x.accepted) e.accepted += 1;
    else e.rejected += 1;
    // Unknown signal names are folded together: their variety must not grow status.
    const name = (OPERATOR_ACTIONS as readonly string[]).includes(x.action) ? x.action : 'unknown';
    e.byAction[name] = (e.byAction[name] ?? 0) + 1;
    e.until = x.at;
  }
}
