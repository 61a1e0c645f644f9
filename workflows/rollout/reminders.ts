// Stale-hold reminders: a rollout held for a person (paused, halted, rollback-failed,
// awaiting approval) is nobody's until its owner hears about it again. While a hold lasts,
// the owner is notified every `reminders.remindEvery`, and once the hold has lasted
// `reminders.escalateAfter` the escalation targets hear too. Each reminder is one durable
// timer and one notify activity, so a hold of days costs O(1) history per reminder, and a
// halt that long continues as new like any other (halts.ts) with the hold carried along.
import { CancellationScope, isCancellation, patched, sleep } from '@temporalio/workflow';
import type { RolloutEventKind } from '../../domain/activity-contract';
import type { NormalizedReminders, Notification } from '../../plan';
import { formatDuration } from '../../domain/duration';
import { MAX_RECORDED_HOLDS, type HoldInfo, type HoldKind, type RolloutStatus } from '../../domain/state';
import { PATCH_HOLD_REMINDERS } from './patches';

/** What the reminders need of the run (kept narrow so this module does not import run.ts). */
export interface ReminderHost {
  readonly status: RolloutStatus;
  /** The run's generation: its newest patch implies the reminders without asking. */
  readonly gen: { oneStepStartAndMemo: boolean };
  /** The plan's reminder settings and notification targets, once the plan is prepared. */
  reminderPlan(): { reminders: NormalizedReminders; notifications: Notification[] } | undefined;
  notify(kind: RolloutEventKind, message: string, region?: string, targets?: Notification[]): void;
  publish(): void;
}

/** Plans prepared before reminders existed remind with the defaults of plan/schema.ts. */
export const DEFAULT_REMINDERS: NormalizedReminders = { remindEveryMs: 3_600_000, escalateAfterMs: 4 * 3_600_000, escalateTo: [] };

/** The hold the status shows, if any: the state first, then a region waiting for approval. */
export function currentHold(s: RolloutStatus): { kind: HoldKind; region?: string } | undefined {
  const at = (region: string | undefined) => (region ? { region } : {});
  if (s.state === 'halted' || s.state === 'rollback-failed') return { kind: s.state, ...at(s.halt?.region) };
  if (s.state === 'paused') return { kind: 'paused', ...at(s.currentRegion) };
  if (s.state !== 'running') return undefined;
  const waiting = s.regions.find((r) => r.status === 'awaiting-approval');
  if (waiting) return { kind: 'awaiting-approval', region: waiting.name };
  const blocked = s.regions.find((r) => r.status === 'blocked');
  return blocked ? { kind: 'blocked', region: blocked.name } : undefined;
}

export class HoldReminders {
  private kind: HoldKind | undefined;
  private scope: CancellationScope | undefined;

  /** Reminder timers live under the workflow's root scope, so a region step cancelled meanwhile does not silence them. */
  constructor(
    private readonly host: ReminderHost,
    private readonly rootScope: CancellationScope,
  ) {}

  /** Called on every publish: a hold that began starts its reminders, one that ended (or changed kind) stops them. */
  update(): void {
    const { status } = this.host;
    const hold = currentHold(status);
    if (hold?.kind === this.kind) return;
    this.scope?.cancel();
    this.scope = undefined;
    this.kind = hold?.kind;
    // A continued run (continue-as-new) keeps the hold it carried, with its reminders so far.
    if (status.hold && status.hold.kind !== hold?.kind) {
      (status.holds ??= []).push({ ...status.hold, until: Date.now() });
      if (status.holds.length > MAX_RECORDED_HOLDS) status.holds.splice(0, status.holds.length - MAX_RECORDED_HOLDS);
      delete status.hold;
    }
    if (!hold) return;
    if (!status.hold) status.hold = { kind: hold.kind, since: Date.now(), reminders: 0, ...(hold.region ? { region: hold.region } : {}) };
    const plan = this.host.reminderPlan();
    if (!plan || plan.notifications.length + plan.reminders.escalateTo.length === 0) return; // nobody to remind
    // Asked here, when a hold starts, never at workflow start: a rollout never held records no
    // marker. A run of a newer generation has them without asking (nor a marker).
    if (!this.host.gen.oneStepStartAndMemo && !patched(PATCH_HOLD_REMINDERS)) return;
    const scope = new CancellationScope({ cancellable: true, parent: this.rootScope });
    this.scope = scope;
    scope
      .run(() => this.remind(status.hold!, plan.reminders, plan.notifications))
      .catch((e: unknown) => {
        if (!isCancellation(e)) throw e;
      })
      .finally(() => {
        // Cancelled from outside (the workflow itself): the next publish starts them again if the hold goes on.
        if (this.scope === scope) {
          this.scope = undefined;
          this.kind = undefined;
        }
      });
  }

  private async remind(hold: HoldInfo, settings: NormalizedReminders, notifications: Notification[]): Promise<void> {
    const { status } = this.host;
    for (;;) {
      const due = hold.since + (hold.reminders + 1) * settings.remindEveryMs;
      await sleep(Math.max(due - Date.now(), 1), { summary: `remind the owner of the ${hold.kind} hold (every ${formatDuration(settings.remindEveryMs)})` });
      const heldMs = Date.now() - hold.since;
      hold.reminders += 1;
      const totals = (status.reminders ??= { sent: 0, escalated: 0 });
      totals.sent += 1;
      const escalate = hold.escalatedAt === undefined && heldMs >= settings.escalateAfterMs;
      const held = formatDuration(Math.max(60_000, Math.round(heldMs / 60_000) * 60_000));
      const where = hold.region ? ` at ${hold.region}` : '';
      const message = `still ${holdWords(status, hold)}${where} after ${held} (reminder ${hold.reminders})`;
      if (escalate) {
        hold.escalatedAt = Date.now();
        totals.escalated += 1;
        this.host.notify('escalation', `${message}: escalated after ${formatDuration(settings.escalateAfterMs)}`, hold.region, [
          ...notifications,
          ...settings.escalateTo,
        ]);
      } else this.host.notify('reminder', message, hold.region);
      this.host.publish();
    }
  }
}

function holdWords(s: RolloutStatus, hold: HoldInfo): string {
  switch (hold.kind) {
    case 'paused':
      return `paused by ${s.pausedBy ?? 'an operator'}`;
    case 'awaiting-approval':
      return 'awaiting approval';
    case 'halted':
      return `halted (${s.halt?.reason ?? 'see its status'})`;
    case 'rollback-failed':
      return `rollback-failed (${s.halt?.reason ?? 'see its status'})`;
    case 'blocked':
      return `blocked by the fleet policy (${s.regions.find((r) => r.name === hold.region)?.waitingFor ?? 'see its status'})`;
  }
}
