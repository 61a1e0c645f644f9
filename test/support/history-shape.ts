// What a rollout's history is made of, for the history budget (test/integration/
// history-budget.test.ts) and M1 (bench/history.ts).
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Events of a healthy rollout on a real server: once per rollout, and per region. */
// 20 before the patch truth-at-the-edges, whose read of every region before success adds a
// workflow task and an activity; 26 and 15 before the fleet policy, whose patch adds a marker
// and its search attribute once, and whose two questions per region (before the deploy and
// before the promotion, local activities) a marker each. 28 before the patch
// one-step-start-and-review-memo: the plan and quarantine in one local activity inside the
// first workflow task (two activities and two workflow tasks, 12 events, become one marker)
// and the review memo at the end (one event); that patch also implies the fleet policy's,
// whose marker and search attribute it no longer records.
export const ROLLOUT_EVENTS = 16;
export const REGION_EVENTS = 17;
/** The history a healthy rollout of `regions` regions makes on a real server, whatever its soaks and check interval. */
export const expectedEvents = (regions: number) => ROLLOUT_EVENTS + REGION_EVENTS * regions;

/**
 * Workflow tasks that issued no command, with their three events. The Java time-skipping
 * test server adds such tasks when an activity retry lands while a workflow task is in
 * flight (a real server does not: activity retries never touch history), so a history
 * recorded there is judged without them.
 */
export function commandlessWorkflowTasks(events: HistoryEvent[]): number {
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.workflowTaskCompletedEventAttributes == null) continue;
    const next = events[i + 1];
    // A command's event follows its task's completion directly; anything else means none.
    const commanded =
      next != null &&
      (next.activityTaskScheduledEventAttributes != null ||
        next.activityTaskCancelRequestedEventAttributes != null ||
        next.timerStartedEventAttributes != null ||
        next.timerCanceledEventAttributes != null ||
        next.markerRecordedEventAttributes != null ||
        next.upsertWorkflowSearchAttributesEventAttributes != null ||
        next.workflowPropertiesModifiedEventAttributes != null ||
        next.workflowExecutionCompletedEventAttributes != null ||
        next.workflowExecutionFailedEventAttributes != null ||
        next.workflowExecutionContinuedAsNewEventAttributes != null);
    if (!commanded) n += 1;
  }
  return n;
}

/** Activities of a type scheduled in a history. */
export const scheduled = (events: HistoryEvent[], activityType: string) =>
  events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType).length;
