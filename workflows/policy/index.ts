// The fleet policy workflow: one long-lived execution per namespace (id `mrcd-policy`)
// holding freezes and region slots. Every change is an update (or a signal for the Web
// UI) with who, why and when, kept in its log; rollouts ask it before each deploy and each
// promotion, and it tells them when what holds them changes. It continues as new whenever
// Temporal suggests it, so it can run for years.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { PolicyActivities } from '../../domain/activity-contract';
import {
  alertRequestProblems,
  applyRequestProblems,
  freezeRequestProblems,
  overrideRequestProblems,
  type OverrideRequest,
  liftRequestProblems,
  nextPolicyChange,
  type PolicyState,
} from '../../domain/policy';
import {
  alertUpdate,
  applyPolicyUpdate,
  consultUpdate,
  createFreezeSignal,
  createFreezeUpdate,
  liftFreezeSignal,
  liftFreezeUpdate,
  overrideFreezeUpdate,
  policyChangedSignal,
  policyQuery,
  POLICY_DESCRIPTIONS,
  releaseSignal,
} from '../../domain/policy-definitions';
import { PolicyBook } from './book';
import { PolicyGauges } from './metrics';

export interface FleetPolicyInput {
  /** Set by continue-as-new. */
  carried?: ConstructorParameters<typeof PolicyBook>[0];
}

/** While someone waits for a slot, how often the holders are checked for having ended without a word (terminated, reset). */
const RECLAIM_EVERY_MS = 10_000;

const acts = proxyActivities<PolicyActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
/** How far ahead calendar periods are made (plan/calendars.ts says the same). */
const CALENDAR_HORIZON_MS = 14 * 86_400_000;
/** After a failed attempt to make calendar periods, the next one. */
const CALENDAR_RETRY_MS = 60_000;

export async function fleetPolicyWorkflow(input: FleetPolicyInput = {}): Promise<void> {
  const book = new PolicyBook(input.carried);
  let changed = true;
  const refuse = (problems: string[]) => {
    if (problems.length) throw ApplicationFailure.nonRetryable(problems.join('; '), 'InvalidPolicyRequest');
  };
  const mark = <T>(v: T): T => {
    changed = true;
    return v;
  };

  setHandler(createFreezeUpdate, (req) => mark(book.createFreeze(req, Date.now())), {
    validator: (req) => refuse(freezeRequestProblems(req, Date.now())),
    description: POLICY_DESCRIPTIONS.createFreeze,
  });
  setHandler(
    liftFreezeUpdate,
    (req) => {
      const f = book.liftFreeze(req, Date.now());
      if (!f) throw ApplicationFailure.nonRetryable(`no freeze ${req.id} (mrcd freeze list shows them)`, 'UnknownFreeze');
      return mark(f);
    },
    { validator: (req) => refuse(liftRequestProblems(req)), description: POLICY_DESCRIPTIONS.liftFreeze },
  );
  setHandler(
    createFreezeSignal,
    (req) => {
      const problems = freezeRequestProblems(req, Date.now());
      if (problems.length) book.reject('createFreeze (signal)', (req as { by?: unknown })?.by, problems, Date.now());
      else book.createFreeze(req, Date.now());
      changed = true;
    },
    { description: POLICY_DESCRIPTIONS.createFreeze },
  );
  setHandler(
    liftFreezeSignal,
    (req) => {
      const problems = liftRequestProblems(req);
      if (problems.length === 0 && !book.liftFreeze(req, Date.now())) problems.push(`no freeze ${req.id}`);
      if (problems.length) book.reject('liftFreeze (signal)', (req as { by?: unknown })?.by, problems, Date.now());
      changed = true;
    },
    { description: POLICY_DESCRIPTIONS.liftFreeze },
  );
  setHandler(
    applyPolicyUpdate,
    (req) => {
      book.apply(req, Date.now());
      return mark(book.state);
    },
    { validator: (req) => refuse(applyRequestProblems(req, Date.now())), description: POLICY_DESCRIPTIONS.applyPolicy },
  );
  setHandler(overrideFreezeUpdate, (req) => mark(book.createOverride(req, Date.now())), {
    validator: (req: OverrideRequest) => {
      refuse(overrideRequestProblems(req, Date.now()));
      const refusal = book.overrideRefusal(req.by);
      if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'OverrideRefused');
    },
    description: POLICY_DESCRIPTIONS.overrideFreeze,
  });
  setHandler(alertUpdate, (req) => mark(book.alert(req, Date.now())), {
    validator: (req) => refuse(alertRequestProblems(req)),
    description: POLICY_DESCRIPTIONS.alert,
  });
  setHandler(consultUpdate, (req) => mark(book.consult(req, Date.now())), { description: POLICY_DESCRIPTIONS.consult });
  setHandler(
    releaseSignal,
    (r) => {
      if (typeof r?.rolloutId === 'string') book.release(r.rolloutId, r.region, r.reason ?? 'released', Date.now());
      changed = true;
    },
    { description: POLICY_DESCRIPTIONS.release },
  );
  setHandler(policyQuery, (): PolicyState => book.state, { description: POLICY_DESCRIPTIONS.policy });

  const gauges = new PolicyGauges();
  let lastReclaim = Date.now();
  let lastCalendarTry = -Infinity;
  /** When the timers running now fire (never cancelled, see below). */
  const timers = new Set<number>();
  let fired = false;
  for (;;) {
    const now = Date.now();
    const next = nextPolicyChange(book.state, now);
    // Only while someone waits for a slot: a policy with nothing to decide keeps no timer (a
    // periodic one kept the time-skipping test server from skipping to rollouts' own timers).
    // A slot of a rollout that vanished is also reclaimed when a word to it fails.
    const reclaimDue = book.slotHoldersWithQueue().length > 0 ? lastReclaim + RECLAIM_EVERY_MS : undefined;
    const calendarsDue = book.calendarsDueAt(CALENDAR_HORIZON_MS);
    const wake = [next, reclaimDue, calendarsDue !== undefined ? Math.max(calendarsDue, lastCalendarTry + CALENDAR_RETRY_MS) : undefined].filter(
      (t): t is number => t !== undefined,
    );
    // A timer is never cancelled: one woken early by an update is left to fire (an extra
    // turn of the loop). Cancelling timers in the tasks updates arrive in failed workflow tasks
    // with BadCancelTimerAttributes on the dev server under 200 rollouts asking at once (M9).
    const wakeAt = wake.length ? Math.min(...wake) : undefined;
    if (wakeAt !== undefined && !timers.has(wakeAt) && ![...timers].some((t) => t <= wakeAt)) {
      timers.add(wakeAt);
      void sleep(Math.max(wakeAt - now, 1)).then(() => {
        timers.delete(wakeAt);
        fired = true;
      });
    }
    await condition(() => changed || fired || workflowInfo().continueAsNewSuggested);
    changed = false;
    fired = false;
    book.expire(Date.now());
    if (book.calendarsDue(Date.now(), CALENDAR_HORIZON_MS) && Date.now() >= lastCalendarTry + CALENDAR_RETRY_MS) {
      lastCalendarTry = Date.now();
      const from = Date.now();
      // Not made: the calendar's scope stays held (calendarPendingBlockers) and it is asked again.
      const periods = await acts.calendarPeriods({ calendars: book.state.calendars!, from, to: from + CALENDAR_HORIZON_MS }).catch(() => undefined);
      if (periods) book.addCalendarPeriods(periods, from + CALENDAR_HORIZON_MS, Date.now());
    }
    const holders = book.slotHoldersWithQueue();
    if (holders.length > 0 && Date.now() >= lastReclaim + RECLAIM_EVERY_MS) {
      lastReclaim = Date.now();
      const ended = await acts.endedRollouts(holders).catch(() => [] as string[]);
      for (const id of ended) book.release(id, undefined, 'the rollout ended without giving its slot back', Date.now(), 'reclaim');
    }
    // Tell each rollout what holds it now; a rollout that is gone gives its slots back.
    const notices = book.notices(Date.now());
    await Promise.all(
      notices.map(({ rolloutId, notice }) =>
        getExternalWorkflowHandle(rolloutId)
          .signal(policyChangedSignal, notice)
          .catch(() => {
            book.release(rolloutId, undefined, 'the rollout is gone', Date.now(), 'reclaim');
            changed = true;
          }),
      ),
    );
    gauges.observe(book.state, Date.now());
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof fleetPolicyWorkflow>({ carried: book.carried() });
    }
  }
}
