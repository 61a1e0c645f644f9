// Temporal Cloud actions counted from a history (bench/cloud-actions.ts, M11), on small
// histories made by hand: each case is one rule of https://docs.temporal.io/cloud/actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { temporal } from '@temporalio/proto';
import { addCounts, attemptsBy, countActions, fitModel, type ActionCount } from '../../bench/cloud-actions';

const ET = temporal.api.enums.v1.EventType;
const T0 = 1_800_000_000;

// Plain objects with numbers where the decoded protos have Long, as a history written by hand
// or read from JSON is: countActions reads both.
type Plain = Record<string, unknown>;
const asHistory = (h: unknown) => h as temporal.api.history.v1.IHistory;
const asPolicy = (p: Plain) => p as temporal.api.common.v1.IRetryPolicy;

/** A history of the given events, numbered from 1, each `at` seconds after T0 (0 unless given). */
function history(...events: (Plain & { at?: number })[]): temporal.api.history.v1.IHistory {
  return asHistory({ events: events.map(({ at = 0, ...e }, i) => ({ eventId: i + 1, eventTime: { seconds: T0 + at }, ...e })) });
}

/** The kinds that are not zero, and the total. */
function nonZero(c: ActionCount): Partial<ActionCount> {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0));
}

const taskCompleted = (extra: Plain = {}): Plain => ({
  eventType: ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  workflowTaskCompletedEventAttributes: extra,
});
const marker = (task?: number): Plain => ({
  eventType: ET.EVENT_TYPE_MARKER_RECORDED,
  markerRecordedEventAttributes: { markerName: 'core_local_activity', ...(task !== undefined ? { workflowTaskCompletedEventId: task } : {}) },
});
const upsert = (...names: string[]): Plain => ({
  eventType: ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: Object.fromEntries(names.map((n) => [n, {}])) } },
});

test('an activity retried by the server counts each attempt: attempt 3 is 3 actions', () => {
  const c = countActions(
    history(
      { eventType: ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activityTaskScheduledEventAttributes: { activityType: { name: 'deployRegion' } } },
      { eventType: ET.EVENT_TYPE_ACTIVITY_TASK_STARTED, activityTaskStartedEventAttributes: { scheduledEventId: 1, attempt: 3 } },
      { eventType: ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, activityTaskCompletedEventAttributes: { scheduledEventId: 1, startedEventId: 2 } },
    ),
  );
  assert.deepEqual(nonZero(c), { activitySchedules: 1, activityRetries: 2, total: 3 });
});

test('an activity cancelled while it waits for its next attempt: the attempts its retry policy fits in', () => {
  // A check every 60 s, cancelled 30 minutes after it was scheduled: attempts at 0, 60, …, 1800 s.
  const retryPolicy = { initialInterval: { seconds: 60 }, backoffCoefficient: 1, maximumInterval: { seconds: 60 } };
  const c = countActions(
    history(
      { eventType: ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activityTaskScheduledEventAttributes: { retryPolicy } },
      { at: 1800, eventType: ET.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, activityTaskCancelRequestedEventAttributes: { scheduledEventId: 1 } },
      { at: 1800, eventType: ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED, activityTaskCanceledEventAttributes: { scheduledEventId: 1, startedEventId: -1 } },
    ),
  );
  assert.deepEqual(nonZero(c), { activitySchedules: 1, activityRetriesEstimated: 30, total: 31 });
});

test('an activity still waiting when the history ends is estimated up to its last event', () => {
  const retryPolicy = { initialInterval: { seconds: 15 }, backoffCoefficient: 1, maximumInterval: { seconds: 30 } };
  const c = countActions(
    history(
      { eventType: ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activityTaskScheduledEventAttributes: { retryPolicy } },
      { at: 59, eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED },
    ),
  );
  assert.equal(c.activityRetriesEstimated, 3);
});

test('retry schedules: exponential backoff up to its maximum interval, capped by maximumAttempts', () => {
  const policy = asPolicy({ initialInterval: { seconds: 1 }, backoffCoefficient: 2, maximumInterval: { seconds: 10 } });
  // Attempts at 0, 1, 3, 7, 17, 27 s; the next would be at 37.
  assert.equal(attemptsBy(policy, 0, 30_000), 6);
  assert.equal(attemptsBy({ ...policy, maximumAttempts: 3 }, 0, 30_000), 3);
  assert.equal(attemptsBy(policy, 0, 0), 1);
});

test('timers started count, fired or cancelled ones not again', () => {
  const c = countActions(
    history(
      { eventType: ET.EVENT_TYPE_TIMER_STARTED, timerStartedEventAttributes: { timerId: '1' } },
      { eventType: ET.EVENT_TYPE_TIMER_STARTED, timerStartedEventAttributes: { timerId: '2' } },
      { eventType: ET.EVENT_TYPE_TIMER_FIRED, timerFiredEventAttributes: { timerId: '1' } },
      { eventType: ET.EVENT_TYPE_TIMER_CANCELED, timerCanceledEventAttributes: { timerId: '2' } },
    ),
  );
  assert.deepEqual(nonZero(c), { timers: 2, total: 2 });
});

test('local activities: two markers of one workflow task are one action, of two tasks two', () => {
  const oneTask = countActions(history(taskCompleted(), marker(1), marker(1)));
  assert.deepEqual(nonZero(oneTask), { markerBatches: 1, total: 1 });
  const twoTasks = countActions(history(taskCompleted(), marker(1), taskCompleted(), marker(3)));
  assert.deepEqual(nonZero(twoTasks), { markerBatches: 2, total: 2 });
  // An export without workflowTaskCompletedEventId: the task before the marker is its task.
  assert.equal(countActions(history(taskCompleted(), marker(), marker())).markerBatches, 1);
  assert.equal(countActions(history(taskCompleted(), marker(), taskCompleted(), marker())).markerBatches, 2);
});

test('local activity retries are the ones the server metered on the task', () => {
  const c = countActions(history(taskCompleted({ meteringMetadata: { nonfirstLocalActivityExecutionAttempts: 4 } }), marker(1)));
  assert.deepEqual(nonZero(c), { markerBatches: 1, localActivityRetries: 4, total: 5 });
});

test('signals received count; one sent to another workflow is kept apart; accepted updates count', () => {
  const c = countActions(
    history(
      { eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, workflowExecutionSignaledEventAttributes: { signalName: 'pause' } },
      { eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, workflowExecutionSignaledEventAttributes: { signalName: 'resume' } },
      { eventType: ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED },
      { eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED },
      { eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED },
    ),
  );
  assert.deepEqual(nonZero(c), { signals: 2, signalsSent: 1, updates: 1, total: 4 });
});

test('upserts: one per command whatever it sets; TemporalChangeVersion alone is free; memo upserts count', () => {
  const c = countActions(
    history(upsert('MrcdService', 'MrcdVersion', 'MrcdOwner'), upsert('MrcdState'), upsert('TemporalChangeVersion'), {
      eventType: ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
    }),
  );
  assert.deepEqual(nonZero(c), { searchAttributeUpserts: 2, memoUpserts: 1, total: 3 });
});

test('starts: the run, a child (2), a schedule (2 more); continue-as-new is the next run’s start', () => {
  const c = countActions(
    history(
      {
        eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        workflowExecutionStartedEventAttributes: { searchAttributes: { indexedFields: { TemporalScheduledById: {} } } },
      },
      { eventType: ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED },
      { eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW },
    ),
  );
  assert.deepEqual(nonZero(c), { workflowStarts: 1, childWorkflows: 2, other: 2, total: 5 });
  const next = countActions(history({ eventType: ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED }));
  assert.equal(addCounts(c, next).workflowStarts, 2);
  assert.equal(addCounts(c, next).total, 6);
});

test('a history exported as JSON (enum names, ISO times, "60s" durations) counts the same', () => {
  const json = {
    events: [
      {
        eventId: '1',
        eventTime: '2027-01-15T08:00:00Z',
        eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
        activityTaskScheduledEventAttributes: { retryPolicy: { initialInterval: '60s', backoffCoefficient: 1, maximumInterval: '60s' } },
      },
      {
        eventId: '2',
        eventTime: '2027-01-15T08:10:00Z',
        eventType: 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED',
        activityTaskCancelRequestedEventAttributes: { scheduledEventId: '1' },
      },
      { eventId: '3', eventTime: '2027-01-15T08:10:00Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED', workflowTaskCompletedEventAttributes: {} },
      {
        eventId: '4',
        eventTime: '2027-01-15T08:10:00Z',
        eventType: 'EVENT_TYPE_MARKER_RECORDED',
        markerRecordedEventAttributes: { workflowTaskCompletedEventId: '3' },
      },
    ],
  };
  assert.deepEqual(nonZero(countActions(asHistory(json))), { activitySchedules: 1, activityRetriesEstimated: 10, markerBatches: 1, total: 12 });
});

test('the model a + b·R + k·R(R+1)/2 is fitted back from rows it made', () => {
  const rows = [2, 5, 20].map((regions) => ({ regions, k: 240, total: 20 + 9 * regions + (240 * regions * (regions + 1)) / 2 }));
  const { a, b } = fitModel(rows);
  assert.ok(Math.abs(a - 20) < 1e-9 && Math.abs(b - 9) < 1e-9, `a ${a}, b ${b}`);
});
