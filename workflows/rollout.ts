// The rollout workflow: one execution per rollout of one service version, region by
// region in plan order. Everything here is deterministic workflow code; every side
// effect is an activity (activities/), every wait is a durable timer or condition.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  log,
  setDefaultSignalHandler,
} from '@temporalio/workflow';
import type { GateResult, RolloutActivities, RolloutEventKind, SloContext, WatchInput, WatchOutcome } from '../activities/types';
import type { NormalizedPlan, NormalizedRegion } from '../plan';
import { actionSignals, actionUpdates, statusQuery, type ActionResult, type RolloutInput } from './definitions';
import { SA_OWNER, SA_QUARANTINE, SA_REGION, SA_SERVICE, SA_STATE, SA_VERSION } from './search-attributes';
import {
  checkAction,
  legalActions,
  OPERATOR_ACTIONS,
  payloadProblem,
  type ActionPayload,
  type OperatorActionName,
  type RegionState,
  type RolloutState,
  type RolloutStatus,
} from './state';
import { renderDetails, summarize } from './summary';
import { formatDuration } from '../plan/duration';
import { quarantineDecision } from './quarantine';
import { causeFromGate, causeWithDetail, type HaltCause } from './halt-cause';
import { operationKey, type KeyParts } from './idempotency';
import { boundActions, MAX_RECORDED_TEXT, type ActionRecord } from './action-log';
import { ACTIVITY_FAILURE, ROLLOUT_FAILURE } from './failures';

const prep = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

const gateActs = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
});

const notifyActs = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3 },
});

/** A region's soak ended in one of these; only `passed` goes on to approval and promotion. */
type SoakOutcome = { kind: 'passed' } | { kind: 'failed'; reason: string; cause: HaltCause; gate?: GateResult } | { kind: 'inconclusive'; reason: string; cause: HaltCause; gate?: GateResult };

class Aborted extends Error {}
class MigrationFailed extends Error {
  constructor(
    message: string,
    readonly migration: string,
    readonly phase: 'expand' | 'contract',
  ) {
    super(message);
  }
}

/**
 * Histories recorded before this patch never watch promoted regions, renew watches, check
 * or record quarantine: replaying them must take the old paths (REFERENCE: patching).
 */
export const PATCH_WATCH_PROMOTED_AND_QUARANTINE = 'watch-promoted-regions-and-quarantine';

/**
 * Idempotency keys per rollout run and attempt, deploys confirmed by the deployer's status,
 * unknown signals recorded, acknowledgements that show the state after the action, and
 * bounded operator payloads. Histories recorded before it take the old paths.
 */
export const PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS = 'attempt-keys-verified-deploys-bounded-actions';

/**
 * SLO watches as server-retried checks (activities/slo/watch.ts, checkRegion): a watch holds
 * a worker slot only while a check runs, so watches can never starve deploys, gates and
 * rollbacks however many regions soak or stay watched after promotion.
 */
export const PATCH_SERVER_RETRIED_CHECKS = 'watch-by-server-retried-checks';

/**
 * A promoted region's watch (server-retried checks, which hold nothing between checks)
 * lasts a week before it is renewed instead of six hours, so a long rollout's history no
 * longer grows with its length (M1 in docs/benchmarks.md: 20 regions × 60 min soaks).
 */
export const PATCH_WEEK_LONG_PROMOTED_WATCHES = 'week-long-promoted-watches';

/**
 * A soak ends in its own watch: the check at the soak's end is the final gate (one activity
 * for soak and gate instead of a watch, a timer and a gate activity), and the watch that
 * guards approval and pause holds starts only when a region is held. Rollouts started with
 * it record only this marker: it implies every earlier patch (M1 in docs/benchmarks.md).
 */
export const PATCH_SOAK_ENDS_IN_ITS_WATCH = 'soak-ends-in-its-watch';

/** A check (a few SLO queries, each bounded by its own timeout) must end within this. */
const CHECK_TIMEOUT_MS = 2 * 60_000;
/** How soon a check on a worker that died is given to another (M6 in docs/benchmarks.md). */
const CHECK_HEARTBEAT_MS = 5_000;

/** A soaking region's watch is renewed at least this far apart (only long holds renew it). */
const WATCH_HORIZON_MIN_MS = 3_600_000;
/**
 * A promoted region's watch is renewed this far apart: ~6 events per region per renewal,
 * so even 30 regions held for two weeks stay far below the history limit.
 */
const PROMOTED_WATCH_HORIZON_MS = 6 * 3_600_000;
/** The same with server-retried checks (v5): renewing costs events and buys nothing. */
const PROMOTED_CHECKS_HORIZON_MS = 7 * 24 * 3_600_000;

export async function rolloutWorkflow(input: RolloutInput): Promise<RolloutStatus> {
  const info = workflowInfo();
  // Newest first: a rollout started on today's code records one marker (each costs two
  // events: the marker and the TemporalChangeVersion upsert), since the newest patch implies
  // every older one; a history recorded before it finds its own markers as before.
  const v6 = patched(PATCH_SOAK_ENDS_IN_ITS_WATCH);
  const v2 = v6 || patched(PATCH_WATCH_PROMOTED_AND_QUARANTINE);
  const v3 = v6 || (v2 && patched(PATCH_ATTEMPT_KEYS_AND_VERIFIED_DEPLOYS));
  const v4 = v6 || (v3 && patched(PATCH_SERVER_RETRIED_CHECKS));
  const v5 = v6 || (v4 && patched(PATCH_WEEK_LONG_PROMOTED_WATCHES));
  const doc = (typeof input.plan === 'object' && input.plan !== null ? input.plan : {}) as Record<string, unknown>;
  const status: RolloutStatus = input.carried?.status ?? {
    rolloutId: info.workflowId,
    service: typeof doc.service === 'string' ? doc.service : '?',
    version: typeof doc.version === 'string' ? doc.version : '?',
    owner: { team: '?', contact: '?' },
    state: 'running',
    regions: [],
    actions: [],
    legalActions: [],
    startedAt: Date.now(),
    failurePolicy: 'halt',
    summary: 'validating the plan',
  };
  status.overrides ??= [];

  // Operator intents. Handlers only set these; the main flow acts on them at safe points.
  let paused = status.state === 'paused';
  let abortRequested = false;
  let pastPointOfNoReturn = false;
  let retryRequested = false;
  const approvals = new Set<string>();
  const skipSoak = new Set<string>();
  let regionScope: CancellationScope | undefined;
  const pendingNotifications: Promise<unknown>[] = [];
  let plan: NormalizedPlan | undefined = input.carried?.plan;

  const ctx = () => ({
    state: status.state,
    abortRequested,
    pastPointOfNoReturn,
    awaitingApproval: status.regions.find((r) => r.status === 'awaiting-approval' || (r.status === 'soaking' && needsApproval(r.name)))?.name,
    soaking: status.regions.find((r) => r.status === 'soaking')?.name,
  });
  const needsApproval = (name: string) => plan?.regions.find((r) => r.name === name)?.approval === 'required' && !approvals.has(name);

  let lastState: RolloutState | undefined;
  let lastRegion: string | undefined;
  const publish = () => {
    status.legalActions = legalActions(ctx());
    status.summary = summarize(status);
    if (status.state !== lastState || status.currentRegion !== lastRegion) {
      lastState = status.state;
      lastRegion = status.currentRegion;
      upsertSearchAttributes([
        { key: SA_STATE, value: status.state },
        { key: SA_REGION, value: status.currentRegion ?? '' },
      ]);
    }
    setCurrentDetails(renderDetails(status));
  };

  const setState = (s: RolloutState) => {
    status.state = s;
    publish();
  };

  const notify = (kind: RolloutEventKind, message: string, region?: string) => {
    if (!plan || plan.notifications.length === 0) return;
    const p = notifyActs
      .notify({
        notifications: plan.notifications,
        owner: plan.owner,
        event: { kind, rolloutId: status.rolloutId, service: status.service, version: status.version, message, at: Date.now(), ...(region ? { region } : {}) },
      })
      // A notification never blocks or fails a rollout; the activity records per-target results.
      .catch(() => undefined);
    pendingNotifications.push(p);
  };

  /** approve and skip-soak act on the region that waits or soaks now; naming another is refused. */
  const regionMismatch = (action: OperatorActionName, payload: ActionPayload): string | undefined => {
    if (!payload.region || (action !== 'approve' && action !== 'skip-soak')) return undefined;
    const want = action === 'approve' ? ctx().awaitingApproval : ctx().soaking;
    return payload.region === want ? undefined : `${action} names region ${payload.region}, but the region ${action === 'approve' ? 'waiting for approval' : 'soaking'} is ${want}`;
  };

  /** Every operator action lands here, accepted or not; v3 keeps the list and its texts bounded. */
  const record = (a: ActionRecord) => {
    if (v3) boundActions(status, a);
    else status.actions.push(a);
    if (!a.accepted) log.warn('operator action rejected', { action: a.action, by: a.by, via: a.via, why: a.note });
  };

  const apply = (action: OperatorActionName, payload: ActionPayload, via: 'signal' | 'update'): ActionResult => {
    const entry = { action, by: payload.by, reason: payload.reason, at: Date.now(), via, ...(payload.region ? { region: payload.region } : {}) };
    const check = checkAction(action, ctx());
    const refusal = check.legal ? (v2 ? regionMismatch(action, payload) : undefined) : check.reason;
    if (!check.legal || refusal !== undefined) {
      const note = refusal ?? 'refused';
      record({ ...entry, accepted: false, note });
      publish();
      return { action, state: status.state, note };
    }
    if (check.noop) {
      record({ ...entry, accepted: true, note: check.noop });
      publish();
      return { action, state: status.state, note: check.noop };
    }
    let note = 'applied';
    switch (action) {
      case 'pause':
        paused = true;
        status.pausedBy = payload.by;
        status.state = 'paused';
        note = 'paused: the next promotion is held; soaks and SLO watches go on';
        notify('paused', `paused by ${payload.by}: ${payload.reason}`, status.currentRegion);
        break;
      case 'resume':
        if (status.state === 'paused') {
          paused = false;
          delete status.pausedBy;
          status.state = 'running';
          note = 'resumed';
          notify('resumed', `resumed by ${payload.by}: ${payload.reason}`, status.currentRegion);
        } else {
          note = requestRetry();
        }
        break;
      case 'retry':
        note = requestRetry();
        break;
      case 'abort':
        abortRequested = true;
        retryRequested = status.state === 'rollback-failed';
        regionScope?.cancel();
        // The answer says the state the action put the rollout in, not the one it found.
        if (v3) status.state = 'rolling-back';
        note = 'aborting: every deployed region will be rolled back in reverse order';
        break;
      case 'approve': {
        const region = payload.region ?? ctx().awaitingApproval!;
        approvals.add(region);
        const r = status.regions.find((x) => x.name === region);
        if (r) r.approvedBy = payload.by;
        note = `approved ${region}`;
        break;
      }
      case 'skip-soak': {
        const region = payload.region ?? ctx().soaking!;
        skipSoak.add(region);
        status.overrides!.push({ kind: 'skip-soak', by: payload.by, reason: payload.reason, at: Date.now(), region });
        note = `soak of ${region} cut short; its gate is still evaluated`;
        notify('override', `skip-soak of ${region} by ${payload.by}: ${payload.reason}`, region);
        break;
      }
    }
    record({ ...entry, accepted: true, note });
    publish();
    return { action, state: status.state, note };
  };

  /** retry (or resume of a halt): the flow acts on it at its next safe point; the state says so at once. */
  const requestRetry = (): string => {
    retryRequested = true;
    if (v3) status.state = status.state === 'rollback-failed' ? 'rolling-back' : 'running';
    return `retrying ${status.halt?.region ?? 'the halted step'}`;
  };

  // Handlers go in before the first await: an update that arrives early is otherwise rejected.
  setHandler(statusQuery, () => ({ ...status, legalActions: legalActions(ctx()) }));
  for (const action of OPERATOR_ACTIONS) {
    setHandler(actionSignals[action], (payload: ActionPayload) => {
      const problem = payloadProblem(payload, { bounded: v3 });
      if (problem) {
        // Never drop an operator action silently: a malformed one is recorded as rejected.
        rejectSignal(action, payload, `invalid payload: ${problem}`);
        return;
      }
      apply(action, payload, 'signal');
    });
    setHandler(actionUpdates[action], (payload: ActionPayload) => apply(action, payload, 'update'), {
      validator: (payload: ActionPayload) => {
        // A rejected update leaves no trace in history: the worker log is where it shows.
        const refuse = (why: string) => {
          const p = (payload ?? {}) as Partial<ActionPayload>;
          log.warn('operator update rejected', { action, by: typeof p.by === 'string' ? p.by.slice(0, MAX_RECORDED_TEXT) : '(unknown)', why });
          throw new Error(why);
        };
        const problem = payloadProblem(payload, { bounded: v3 });
        if (problem) refuse(`invalid ${action} payload: ${problem}`);
        const check = checkAction(action, ctx());
        if (!check.legal) refuse(check.reason);
        const mismatch = regionMismatch(action, payload);
        if (mismatch) refuse(mismatch);
      },
    });
  }
  // A signal name with no handler (a typo from the UI or `temporal workflow signal`) is an
  // operator who believes they acted: record the refusal with the names that work.
  if (v3) {
    setDefaultSignalHandler((name: string, ...args: unknown[]) => {
      rejectSignal(name, args[0], `unknown signal "${name}": the rollout takes ${OPERATOR_ACTIONS.join(', ')} (payload {"reason": "...", "by": "..."})`);
    });
  }

  function rejectSignal(action: string, payload: unknown, note: string) {
    const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<ActionPayload>;
    record({ action, by: typeof p.by === 'string' ? p.by : '(unknown)', reason: typeof p.reason === 'string' ? p.reason : '', at: Date.now(), via: 'signal', accepted: false, note });
    publish();
  }

  // ---- quarantine: a version that failed its gate before starts only with an override ----
  async function checkQuarantineAtStart(p: NormalizedPlan): Promise<void> {
    let records;
    try {
      records = await prep.checkQuarantine({ service: p.service, version: p.version, runId: info.runId });
    } catch (e) {
      const override = input.overrides?.quarantine;
      if (override !== undefined && payloadProblem(override) === undefined) {
        // Someone decided to ship whatever the record says: honour it, and say what was unknown.
        status.overrides!.push({ kind: 'quarantine', by: override.by, reason: override.reason, at: Date.now(), detail: `quarantine could not be checked: ${causeMessage(e)}` });
        return;
      }
      // Fail closed: a version that cannot be cleared of quarantine does not ship.
      status.state = 'failed';
      status.endedAt = Date.now();
      status.halt = { reason: `could not check whether ${p.service} ${p.version} is quarantined: ${causeMessage(e)}; nothing was deployed, start it again when Temporal visibility answers`, at: Date.now(), cause: causeWithDetail({ kind: 'quarantine-check-failed' }, causeMessage(e)) };
      publish();
      throw ApplicationFailure.nonRetryable(status.halt.reason, ROLLOUT_FAILURE.quarantineCheckFailed, status);
    }
    const decision = quarantineDecision(p.service, p.version, records, input.overrides?.quarantine);
    if (decision.kind === 'clear') return;
    if (decision.kind === 'refused') {
      status.state = 'failed';
      status.endedAt = Date.now();
      status.halt = {
        reason: `${decision.what}; refused (${decision.why}). Fix the version, or start it with an override and a reason (mrcd deploy --override-quarantine "...")`,
        at: Date.now(),
        cause: causeWithDetail({ kind: 'quarantine-refused', ...(records[0] ? { region: records[0].region } : {}) }, decision.why),
      };
      publish();
      throw ApplicationFailure.nonRetryable(status.halt.reason, ROLLOUT_FAILURE.versionQuarantined, status);
    }
    const { override, what } = decision;
    status.overrides!.push({ kind: 'quarantine', by: override.by, reason: override.reason, at: Date.now(), detail: what });
    notify('override', `quarantine of ${p.version} overridden by ${override.by}: ${override.reason} (${what})`);
  }

  // ---- plan ----
  if (!plan) {
    try {
      plan = await prep.preparePlan(input.plan);
    } catch (e) {
      status.state = 'failed';
      status.endedAt = Date.now();
      status.halt = { reason: `invalid plan: ${causeMessage(e)}`, at: Date.now(), cause: causeWithDetail({ kind: 'invalid-plan' }, causeMessage(e)) };
      publish();
      throw ApplicationFailure.nonRetryable(`invalid plan: ${causeMessage(e)}`, ACTIVITY_FAILURE.invalidPlan, status);
    }
    status.service = plan.service;
    status.version = plan.version;
    status.owner = plan.owner;
    status.failurePolicy = plan.failurePolicy;
    status.regions = plan.regions.map((r) => ({ name: r.name, size: r.size, status: 'pending', attempts: 0 }));
    upsertSearchAttributes([
      { key: SA_SERVICE, value: plan.service },
      { key: SA_VERSION, value: plan.version },
      { key: SA_OWNER, value: plan.owner.team },
    ]);
    publish();
    if (v2) await checkQuarantineAtStart(plan);
    notify('started', `rollout of ${plan.service} ${plan.version} started by ${input.startedBy ?? 'unknown'} over ${plan.regions.map((r) => r.name).join(' → ')}`);
  }
  const thePlan = plan;

  const deployOptions = {
    // The deployer's own timeout bounds one attempt; a little slack for the HTTP calls around it.
    startToCloseTimeout: thePlan.deployer.timeoutMs + 60_000,
    heartbeatTimeout: '30s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
  } as const;
  // A deploy interrupted (abort, late regression) is rolled back only once the deployer has
  // stopped, so the rollback cannot race the deploy it undoes.
  const deployActs = proxyActivities<RolloutActivities>(v2 ? { ...deployOptions, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : deployOptions);
  // The plan's timeout bounds a migration; Temporal's must not cut it shorter. Plans
  // carried from before migrations had a timeout fall back to the activity's default (30m).
  const migrationActs = (timeoutMs = 30 * 60_000) =>
    proxyActivities<RolloutActivities>({
      startToCloseTimeout: timeoutMs + 5 * 60_000,
      heartbeatTimeout: '1m',
      retry: { initialInterval: '5s', maximumInterval: '1m', maximumAttempts: 3 },
    });

  const regionOf = (i: number): [NormalizedRegion, RegionState] => [thePlan.regions[i]!, status.regions[i]!];

  /** The idempotency key of one intended step (v3); older runs leave it to the activity. */
  const keyOf = (step: KeyParts['step'], target: string, attempt: number) =>
    v3 ? { idempotencyKey: operationKey({ workflowId: info.workflowId, rolloutRunId: info.firstExecutionRunId, step, target, version: thePlan.version, attempt }) } : {};

  // ---- waits that an abort interrupts ----
  const waitFor = async (fn: () => boolean, breach?: Promise<WatchOutcome | undefined>): Promise<WatchOutcome | undefined> => {
    const done = condition(() => fn() || abortRequested).then(() => undefined);
    const winner = await (breach ? Promise.race([done, breach]) : done);
    if (abortRequested) throw new Aborted();
    return winner;
  };

  const holdWhilePaused = async (r: RegionState, breach?: Promise<WatchOutcome | undefined>) => {
    if (!paused) return undefined;
    const before = r.status;
    r.status = 'awaiting-resume';
    r.waitingFor = `resume (paused by ${status.pausedBy ?? 'an operator'})`;
    publish();
    const out = await waitFor(() => !paused, breach);
    delete r.waitingFor;
    if (!out) r.status = before;
    publish();
    return out;
  };

  // ---- SLO watches ----
  /** The SLO context of region i: its gate, judged since its deploy against what ran before. */
  const sloContext = (i: number): SloContext => {
    const [region, r] = regionOf(i);
    return {
      rolloutId: status.rolloutId,
      service: thePlan.service,
      version: thePlan.version,
      region: region.name,
      gate: region.gate,
      since: r.deployedAt ?? Date.now(),
      ...(r.baselineVersion !== undefined ? { baselineVersion: r.baselineVersion } : {}),
      ...(thePlan.prometheus ? { prometheus: thePlan.prometheus } : {}),
    };
  };
  /** Server-retried checks of one region: each attempt is one check, "healthy" comes back as a retry at the interval. */
  const checkActivities = (region: NormalizedRegion, horizonMs: number, summary: string) =>
    proxyActivities<RolloutActivities>({
      startToCloseTimeout: CHECK_TIMEOUT_MS,
      // A check heartbeats while it runs: a dead worker costs this, not CHECK_TIMEOUT_MS.
      // (Activity options are not part of replay, so running rollouts need no patch.)
      heartbeatTimeout: CHECK_HEARTBEAT_MS,
      scheduleToCloseTimeout: horizonMs + CHECK_TIMEOUT_MS + 10 * 60_000,
      retry: { initialInterval: region.checkIntervalMs, backoffCoefficient: 1, maximumInterval: Math.max(region.checkIntervalMs, 30_000) },
      summary,
    });
  /** What a watch of region i judges: its SLO context since the deploy, and the phase's window. */
  const watchInput = (i: number, phase: 'soak' | 'promoted', until: number): WatchInput => {
    const [region] = regionOf(i);
    return {
      ...sloContext(i),
      intervalMs: region.checkIntervalMs,
      maxInconclusive: region.gate.maxInconclusive,
      until,
      phase,
      // After promotion: the last soak's worth of traffic, so a regression is not diluted.
      ...(phase === 'promoted' ? { lookbackMs: region.soakMs } : {}),
    };
  };
  /**
   * Watches region i until a breach (or, while soaking, too little evidence). One activity
   * covers a horizon (an hour or more; a week after promotion) and is renewed after it, so
   * history grows with wall-clock hours, never with checks. Returns only with a verdict;
   * ends by cancellation.
   */
  const watchRegionUntilBreach = async (i: number, phase: 'soak' | 'promoted'): Promise<WatchOutcome> => {
    const [region] = regionOf(i);
    const horizonMs = Math.max(region.maxSoakMs, phase === 'soak' ? WATCH_HORIZON_MIN_MS : v5 ? PROMOTED_CHECKS_HORIZON_MS : PROMOTED_WATCH_HORIZON_MS);
    const summary = phase === 'soak' ? `SLO watch of ${region.name}, every ${formatDuration(region.checkIntervalMs)}` : `SLO watch of ${region.name} (promoted), every ${formatDuration(region.checkIntervalMs)}`;
    const acts = v4
      ? checkActivities(region, horizonMs, summary)
      : proxyActivities<RolloutActivities>({
          startToCloseTimeout: horizonMs + 10 * 60_000,
          heartbeatTimeout: Math.max(30_000, region.checkIntervalMs * 3),
          retry: { initialInterval: '1s', maximumInterval: '30s' },
          summary: phase === 'soak' ? `SLO watch of ${region.name}` : `SLO watch of ${region.name} (promoted)`,
        });
    for (;;) {
      const until = Date.now() + horizonMs;
      const out = await (v4 ? acts.checkRegion : acts.watchRegion)(watchInput(i, phase, until));
      if (out.kind !== 'ended') return out;
      // A watch that ended before its horizon (a clock running ahead) is not renewed early:
      // that would spin. The next one starts at the horizon.
      if (until > Date.now()) await sleep(until - Date.now(), { summary: `next SLO watch of ${region.name}` });
    }
  };

  const lateBreaches: { index: number; why: string; cause: HaltCause }[] = [];
  const promotedWatches = new Map<number, CancellationScope>();
  /**
   * Keeps watching a promoted region until the rollout ends. A breach marks the region
   * failed at once (status, owner, quarantine: even while a rollback elsewhere is stuck)
   * and interrupts the region in flight; the main loop rolls back at its next safe point.
   */
  const watchPromoted = (i: number) => {
    const [region, r] = regionOf(i);
    const scope = new CancellationScope();
    promotedWatches.set(i, scope);
    scope
      .run(async () => {
        for (;;) {
          let out: WatchOutcome;
          try {
            out = await watchRegionUntilBreach(i, 'promoted');
          } catch (e) {
            if (isCancellation(e)) throw e;
            // A watch that failed for good is no evidence either way: say so, start another.
            r.watchProblem = `watch after promotion failed (${causeMessage(e)}); watching again`;
            publish();
            await sleep(Math.max(region.checkIntervalMs, 60_000));
            continue;
          }
          if (out.kind === 'breach') return out;
          // Only a breach is a regression (a watch from an older worker may still report an
          // evidence gap): say so and keep watching.
          r.watchProblem = `no conclusive evidence after promotion (${out.kind}); still watching`;
          publish();
          await sleep(region.checkIntervalMs);
        }
      })
      .then(
        (outcome) => {
          promotedWatches.delete(i);
          const why =
            r.status === 'inconclusive'
              ? `SLO breach in ${r.name} while it was held as inconclusive: ${describeGate(outcome.result)}`
              : `late regression in ${r.name} after promotion: ${describeGate(outcome.result)}`;
          r.lastGate = outcome.result;
          r.status = 'failed';
          r.regressedAt = Date.now();
          quarantine(r.name, why);
          publish();
          notify('rollback', why, r.name);
          lateBreaches.push({ index: i, why, cause: causeFromGate('late-regression', r.name, outcome.result) });
          regionScope?.cancel();
        },
        (e) => {
          promotedWatches.delete(i);
          if (isCancellation(e)) return;
          // No evidence of a regression is not a regression; say so where operators look.
          r.watchProblem = `watch after promotion stopped: ${causeMessage(e)}`;
          publish();
        },
      );
  };
  const stopPromotedWatches = () => {
    for (const scope of promotedWatches.values()) scope.cancel();
    promotedWatches.clear();
  };

  // ---- one region: window → deploy → soak with watch → gate → approval → promote ----
  const runRegion = async (i: number): Promise<SoakOutcome> => {
    const [region, r] = regionOf(i);
    r.attempts += 1;
    status.currentRegion = region.name;
    delete status.halt;
    // deployedAt says "this region runs (or may run) the version". It goes only when the
    // region was never deployed or was rolled back: a retried inconclusive region still runs it.
    if (v2 && (r.status === 'pending' || r.status === 'rolled-back')) {
      delete r.deployedAt;
      delete r.soakEndsAt;
    }
    delete r.watchProblem;
    if (v2 && r.attempts > 1) {
      // An approval was for the attempt that failed; a redeploy needs a fresh one.
      approvals.delete(region.name);
      delete r.approvedBy;
    }
    publish();

    await holdWhilePaused(r);

    if (region.window) {
      const decision = await gateActs.nextDeployWindow({ window: region.window, now: Date.now(), soakMs: region.soakMs, region: region.name });
      if (decision.startAt > Date.now()) {
        r.status = 'waiting-window';
        r.waitingFor = decision.reason ?? 'its deploy window';
        r.waitingUntil = decision.startAt;
        publish();
        await sleep(decision.startAt - Date.now(), { summary: `deploy window of ${region.name}` });
        delete r.waitingFor;
        delete r.waitingUntil;
        // A pause while waiting for the window holds the deploy, as it would have before.
        if (v2) await holdWhilePaused(r);
      }
    }

    r.status = 'deploying';
    publish();
    const deployed = await deployActs.deployRegion({
      rolloutId: status.rolloutId,
      service: thePlan.service,
      region: region.name,
      version: thePlan.version,
      deployer: thePlan.deployer,
      ...keyOf('deploy', region.name, r.attempts),
    });
    if (deployed.previousVersion !== undefined && deployed.previousVersion !== thePlan.version) r.previousVersion = deployed.previousVersion;
    // The baseline is what ran before this deploy, even the same version redeployed.
    if (deployed.previousVersion !== undefined) r.baselineVersion = deployed.previousVersion;
    else delete r.baselineVersion;
    r.deployedAt = Date.now();
    const soakEndsAt = r.deployedAt + region.soakMs;
    r.soakEndsAt = soakEndsAt;
    r.status = 'soaking';
    publish();

    const sloBase = sloContext(i);
    const watchScope = new CancellationScope();
    const soakScope = new CancellationScope();
    const watchActs = proxyActivities<RolloutActivities>({
      // The watch lives as long as the region is unpromoted; heartbeats prove it is alive.
      startToCloseTimeout: region.maxSoakMs + 24 * 3_600_000,
      heartbeatTimeout: Math.max(30_000, region.checkIntervalMs * 3),
      retry: { initialInterval: '1s', maximumInterval: '30s' },
      summary: `SLO watch of ${region.name}`,
    });
    /** A watch that fails for good is a lack of evidence, never a pass; a cancelled one never settles. */
    const asEvidence = (watch: Promise<WatchOutcome>): Promise<WatchOutcome> =>
      watch.catch((e) => {
        if (isCancellation(e)) return new Promise<never>(() => {});
        return { kind: 'inconclusive-limit', result: { verdict: 'error', checks: [], at: Date.now() }, checksRun: 0, error: causeMessage(e) } as WatchOutcome;
      });
    // The watch that guards the region until it is promoted. v6 starts it only when needed
    // (a soak cut short or extended, a hold for approval or pause): a soak that ends on time
    // was watched by its gated watch.
    let breach: Promise<WatchOutcome | undefined> | undefined;
    const watchUnpromoted = () =>
      (breach ??= watchScope.run(() => asEvidence(v2 ? watchRegionUntilBreach(i, 'soak') : watchActs.watchRegion({ ...sloBase, intervalMs: region.checkIntervalMs, maxInconclusive: region.gate.maxInconclusive }))));
    if (!v6) watchUnpromoted();
    const fromWatch = (o: WatchOutcome): SoakOutcome =>
      o.kind === 'breach'
        ? { kind: 'failed', reason: `SLO breach in ${region.name}: ${describeGate(o.result)}`, gate: o.result, cause: causeFromGate('slo-breach', region.name, o.result) }
        : o.kind === 'inconclusive-limit'
          ? { kind: 'inconclusive', reason: `no conclusive SLO evidence in ${region.name} after ${o.checksRun} checks: ${describeGate(o.result)}`, gate: o.result, cause: causeFromGate('inconclusive', region.name, o.result) }
          : { kind: 'inconclusive', reason: `the SLO watch of ${region.name} ended without a verdict`, cause: { kind: 'inconclusive', region: region.name } };
    // v3 gates also ask the deployer what the region runs: a promotion needs both answers.
    const gateInput = v3 ? { ...sloBase, deployer: thePlan.deployer } : sloBase;

    try {
      // v6: the soak is one watch whose check at the soak's end is the final gate; a skip-soak
      // or an abort cuts it short. (A watch on an older worker ends without a gate: the gate
      // activity below evaluates it then.)
      let gated: GateResult | undefined;
      if (v6 && !skipSoak.has(region.name)) {
        const soakWatch = soakScope.run(() =>
          asEvidence(checkActivities(region, Math.max(region.maxSoakMs, WATCH_HORIZON_MIN_MS), `soak of ${region.name} ${formatDuration(region.soakMs)}, a check every ${formatDuration(region.checkIntervalMs)}, then its gate`).checkRegion({ ...watchInput(i, 'soak', soakEndsAt), finalGate: { deployer: thePlan.deployer } })),
        );
        let settled = false;
        // (`settled` lets the condition go once the watch has answered.)
        const cut = condition(() => settled || skipSoak.has(region.name) || abortRequested).then(() => undefined);
        const out = await Promise.race([soakWatch, cut]);
        settled = true;
        if (abortRequested) throw new Aborted();
        if (out?.kind === 'gated') gated = out.result;
        else if (out && out.kind !== 'ended') return fromWatch(out);
        // Cut short or ended without a gate: the watch goes, the gate activity decides.
        else if (!out) soakScope.cancel();
      }
      // Before v6, and after a cut-short or old-worker soak or an extension: the durable timer
      // raced with the watch, then the gate activity. History stays O(1) however long the soak.
      let soakEnd = r.soakEndsAt;
      for (;;) {
        let gate = gated;
        gated = undefined;
        if (!gate) {
          const remaining = soakEnd - Date.now();
          if (remaining > 0 && !skipSoak.has(region.name)) {
            const timer = condition(() => skipSoak.has(region.name) || abortRequested, remaining).then(() => undefined);
            const early = await Promise.race([timer, watchUnpromoted()]);
            if (abortRequested) throw new Aborted();
            if (early) return fromWatch(early);
          }
          r.status = 'gating';
          publish();
          gate = await gateActs.evaluateGate(gateInput);
        }
        r.lastGate = gate;
        const deployment = gate.deployment?.verdict;
        if (gate.verdict === 'pass' && (deployment === undefined || deployment === 'pass' || deployment === 'unverified')) break;
        if (gate.verdict === 'fail') return { kind: 'failed', reason: `gate failed in ${region.name}: ${describeGate(gate)}`, gate, cause: causeFromGate('gate-failed', region.name, gate) };
        // Not this version's fault (no gate, so no quarantine): the region does not run it.
        if (deployment === 'fail') return { kind: 'failed', reason: `${region.name} does not run ${thePlan.version} at its gate: ${gate.deployment!.detail}`, cause: causeWithDetail({ kind: 'not-running-version', region: region.name }, gate.deployment!.detail) };
        // Too little evidence: soak longer, up to the plan's maximum, then halt.
        const next = Date.now() + region.checkIntervalMs;
        if (next > r.deployedAt + region.maxSoakMs) {
          const what = gate.verdict === 'pass' ? `what ${region.name} runs is unknown until maxSoak: ${gate.deployment?.detail}` : `gate ${gate.verdict} in ${region.name} until maxSoak: ${describeGate(gate)}`;
          return { kind: 'inconclusive', reason: what, gate, cause: gate.verdict === 'pass' ? causeWithDetail({ kind: 'inconclusive', region: region.name }, gate.deployment?.detail ?? 'what the region runs is unknown') : causeFromGate('inconclusive', region.name, gate) };
        }
        soakEnd = next;
        r.status = 'soaking';
        r.soakEndsAt = soakEnd;
        r.waitingFor = `more evidence (${gate.verdict === 'pass' ? `deployer status ${deployment}: ${gate.deployment?.detail}` : gate.verdict}): soak extended`;
        publish();
      }
      delete r.waitingFor;

      // Approval and pause hold the promotion, not the watch: a breach while held still fails the region.
      if (region.approval === 'required' && !approvals.has(region.name)) {
        r.status = 'awaiting-approval';
        r.waitingFor = 'approval';
        publish();
        const out = await waitFor(() => approvals.has(region.name), watchUnpromoted());
        delete r.waitingFor;
        if (out) return fromWatch(out);
      }
      const out = await holdWhilePaused(r, paused ? watchUnpromoted() : breach);
      if (out) return fromWatch(out);
      return { kind: 'passed' };
    } finally {
      soakScope.cancel();
      watchScope.cancel();
      skipSoak.delete(region.name);
    }
  };

  // ---- compensation: rollbacks run to completion even while the rollout is being aborted ----
  const rollbackOne = async (i: number): Promise<boolean> => {
    const [region, r] = regionOf(i);
    r.status = 'rolling-back';
    // Each rollback asked for is its own operation: an operator's retry of a failed one must not get the failure back.
    if (v3) r.rollbackAttempts = (r.rollbackAttempts ?? 0) + 1;
    publish();
    try {
      await CancellationScope.nonCancellable(() =>
        deployActs.rollbackRegion({
          rolloutId: status.rolloutId,
          service: thePlan.service,
          region: region.name,
          version: thePlan.version,
          deployer: thePlan.deployer,
          ...(r.previousVersion ? { previousVersion: r.previousVersion } : {}),
          ...keyOf('rollback', region.name, r.rollbackAttempts ?? 0),
        }),
      );
      r.status = 'rolled-back';
      publish();
      return true;
    } catch (e) {
      r.status = 'rollback-failed';
      r.waitingFor = `operator: rollback failed (${causeMessage(e)})`;
      publish();
      return false;
    }
  };

  /** Rolls back the given regions in order; a failing one halts as rollback-failed until an operator retries. */
  const rollbackAll = async (indices: number[], then: RolloutState) => {
    for (;;) {
      status.state = 'rolling-back';
      publish();
      const failed: number[] = [];
      for (const i of indices) {
        const r = status.regions[i]!;
        if (r.status === 'rolled-back' || r.status === 'pending') continue;
        if (!(await rollbackOne(i))) failed.push(i);
      }
      if (failed.length === 0) {
        status.state = then;
        publish();
        return;
      }
      const names = failed.map((i) => status.regions[i]!.name).join(', ');
      status.halt = { region: status.regions[failed[0]!]!.name, reason: `rollback failed in ${names}: an operator must retry (or fix the region by hand and retry)`, at: Date.now(), cause: { kind: 'rollback-failed', region: status.regions[failed[0]!]!.name } };
      retryRequested = false;
      setState('rollback-failed');
      notify('rollback-failed', status.halt.reason, status.halt.region);
      await condition(() => retryRequested);
      retryRequested = false;
      delete status.halt;
    }
  };

  /** Whether the region runs (or may partly run) this version and needs a rollback to be clean. */
  const isDeployed = (r: RegionState) => {
    if (r.status === 'pending' || r.status === 'rolled-back') return false;
    if (!v2) return r.status !== 'waiting-window';
    // Waiting for a window or for a resume happens before the deploy as well as after it.
    return (r.status !== 'waiting-window' && r.status !== 'awaiting-resume') || r.deployedAt !== undefined;
  };
  const deployedIndices = () =>
    status.regions
      .map((r, i) => ({ r, i }))
      .filter(({ r }) => isDeployed(r))
      .map(({ i }) => i)
      .reverse();

  /** Records that this version failed a gate, so that starting it again needs an override. */
  const quarantine = (region: string, reason: string) => {
    if (!v2 || status.quarantine) return;
    status.quarantine = { region, reason, at: Date.now() };
    upsertSearchAttributes([{ key: SA_QUARANTINE, value: region }]);
  };

  // ---- migrations ----
  const runMigrations = async (phase: 'expand' | 'contract', direction: 'apply' | 'revert') => {
    const list = thePlan.migrations.filter((m) => m.phase === phase);
    for (const m of direction === 'apply' ? list : [...list].reverse()) {
      const step = direction === 'apply' ? m.apply : m.revert;
      if (!step) continue; // irreversible: reported in the abort summary, never silently skipped
      // A retried phase skips the steps already done (status carries them across runs).
      if (v2 && direction === 'apply' && status.migrations?.some((x) => x.name === m.name && x.phase === phase && x.direction === 'apply')) continue;
      if (v2 && direction === 'revert' && !status.migrations?.some((x) => x.name === m.name && x.phase === phase && x.direction === 'apply')) continue;
      await runMigrationStep(m, phase, direction, step.run);
    }
  };
  const runMigrationStep = async (m: NormalizedPlan['migrations'][number], phase: 'expand' | 'contract', direction: 'apply' | 'revert', run: string[]) => {
    const step = `${m.name}:${phase}:${direction}`;
    if (v3) {
      status.migrationAttempts ??= {};
      status.migrationAttempts[step] = (status.migrationAttempts[step] ?? 0) + 1;
    }
    try {
      await CancellationScope.nonCancellable(() =>
        migrationActs(m.timeoutMs).runMigration({
          rolloutId: status.rolloutId,
          service: thePlan.service,
          version: thePlan.version,
          name: m.name,
          phase,
          direction,
          run,
          ...(m.passEnv ? { passEnv: m.passEnv } : {}),
          ...(m.timeoutMs ? { timeoutMs: m.timeoutMs } : {}),
          ...keyOf('migration', step, status.migrationAttempts?.[step] ?? 0),
        }),
      );
    } catch (e) {
      if (!v2) throw e;
      throw new MigrationFailed(`${phase} migration ${m.name} (${direction}) failed: ${causeMessage(e)}`, m.name, phase);
    }
    if (v2) {
      status.migrations ??= [];
      if (direction === 'apply') status.migrations.push({ name: m.name, phase, direction, at: Date.now() });
      else status.migrations = status.migrations.filter((x) => !(x.name === m.name && x.phase === phase));
    }
  };

  /** Applies a phase; a failing step halts the rollout until retry (or abort, before contract). */
  const applyMigrations = async (phase: 'expand' | 'contract', haltRegion: string, index: number) => {
    for (;;) {
      try {
        status.summary = `running ${phase} migrations`;
        await runMigrations(phase, 'apply');
        return;
      } catch (e) {
        if (!(e instanceof MigrationFailed)) throw e;
        status.halt = { region: haltRegion, reason: `${e.message}; retry runs it again${phase === 'contract' ? ' (every region runs the version; abort is no longer possible)' : ', abort reverts the expand migrations'}`, at: Date.now(), cause: causeWithDetail({ kind: 'migration-failed', region: haltRegion, migration: e.migration, phase: e.phase }, e.message) };
        await waitHalted(haltRegion, index);
      }
    }
  };

  /** Reverts expand migrations for an abort or rollback-all; a failing revert is reported, never hidden. */
  const revertExpand = async () => {
    try {
      await runMigrations('expand', 'revert');
    } catch (e) {
      if (!(e instanceof MigrationFailed)) throw e;
      status.halt!.reason += `; ${e.message}: fix the schema by hand`;
    }
  };

  const finish = async (): Promise<RolloutStatus> => {
    stopPromotedWatches();
    status.endedAt = Date.now();
    delete status.currentRegion;
    publish();
    await Promise.all(pendingNotifications);
    await condition(allHandlersFinished);
    if (status.state === 'succeeded') return status;
    const type = { 'rolled-back': ROLLOUT_FAILURE.rolledBack, aborted: ROLLOUT_FAILURE.aborted, failed: ROLLOUT_FAILURE.failed }[status.state as 'rolled-back' | 'aborted' | 'failed'] ?? ROLLOUT_FAILURE.failed;
    // A rollout that did not succeed fails the workflow, so `temporal workflow execute`,
    // the UI and CI all see the verdict without reading the result.
    throw ApplicationFailure.nonRetryable(status.summary, type, status);
  };

  const abortAll = async (): Promise<RolloutStatus> => {
    const reason = [...status.actions].reverse().find((a) => a.action === 'abort' && a.accepted);
    status.halt = { reason: `aborted by ${reason?.by ?? 'an operator'}: ${reason?.reason ?? ''}`, at: Date.now(), cause: { kind: 'aborted' } };
    stopPromotedWatches();
    await rollbackAll(deployedIndices(), 'aborted');
    // A region that was only waiting (for its window, or a resume) never ran this version.
    for (const r of status.regions) {
      if (r.status !== 'waiting-window' && r.status !== 'awaiting-resume') continue;
      if (isDeployed(r)) continue;
      r.status = 'pending';
      delete r.waitingFor;
      delete r.waitingUntil;
    }
    await revertExpand();
    const irreversible = thePlan.migrations.filter((m) => m.irreversible && m.phase === 'expand').map((m) => m.name);
    if (irreversible.length) status.halt.reason += `; not undone (irreversible): ${irreversible.join(', ')}`;
    notify('aborted', status.halt.reason);
    return finish();
  };

  /** Policy rollback-all: every deployed region back, newest first, expand reverted; the rollout then ends. */
  const rollBackEverything = async (region: string, reason: string, cause: HaltCause) => {
    stopPromotedWatches();
    await rollbackAll(deployedIndices(), 'rolled-back');
    status.halt = { region, reason, at: Date.now(), cause };
    await revertExpand();
    notify('rolled-back', reason, region);
  };

  // ---- halts and late regressions ----
  /** The state a run carries into the next one at a continue-as-new. */
  const continueWithState = async (regionIndex: number, halted: boolean) => {
    stopPromotedWatches(); // the next run starts them again
    await condition(allHandlersFinished);
    await Promise.all(pendingNotifications);
    // An abort accepted while draining must not leave with this run.
    if (v2 && abortRequested) throw new Aborted();
    await continueAsNew<typeof rolloutWorkflow>({
      plan: input.plan,
      startedBy: input.startedBy,
      carried: { status, plan: thePlan, regionIndex, ...(v2 ? { halted, retry: retryRequested, approvals: [...approvals] } : {}) },
    });
  };

  /**
   * Holds the rollout halted until retry or abort. Returns early when a promoted region
   * regresses meanwhile (the caller rolls it back and halts again), and continues as new
   * when the history grows long: promoted regions' watches renew while it waits.
   */
  const waitHalted = async (region: string, index: number, carriedOver = false) => {
    if (v2 && abortRequested) throw new Aborted();
    if (!carriedOver) {
      retryRequested = false;
      setState('halted');
      notify('halted', status.halt!.reason, region);
    }
    for (;;) {
      await condition(() => retryRequested || abortRequested || lateBreaches.length > 0 || (v2 && workflowInfo().continueAsNewSuggested));
      if (abortRequested) throw new Aborted();
      if (retryRequested || lateBreaches.length > 0) break;
      await continueWithState(index, true);
    }
    if (!retryRequested) return;
    retryRequested = false;
    if (v2) {
      // Retry means go: a pause from before the halt would otherwise hold the retried
      // region with no way out, and approve/pause need the rollout to be running again.
      paused = false;
      delete status.pausedBy;
      setState('running');
    }
  };

  const firstUnpromoted = () => status.regions.findIndex((r) => r.status !== 'promoted');

  /**
   * Promoted regions regressed (the watch already marked, quarantined and reported them).
   * Rolls back per policy; returns true when the policy ended the rollout.
   */
  const onLateBreaches = async (current: number): Promise<boolean> => {
    const batch = lateBreaches.splice(0);
    const whys = batch.map((b) => b.why).join('; ');
    const haltedBefore = status.state === 'halted' && status.halt ? ` (halted before: ${status.halt.reason})` : '';
    if (thePlan.failurePolicy === 'rollback-all') {
      await rollBackEverything(status.regions[batch[0]!.index]!.name, `${whys}; every deployed region rolled back (policy rollback-all)${haltedBefore}`, batch[0]!.cause);
      return true;
    }
    // The region in flight runs the same version without a passed gate: it goes back too.
    const inFlight = status.regions[current];
    const regressed = batch.map((b) => b.index);
    const back = [...regressed];
    if (inFlight && !regressed.includes(current) && inFlight.status !== 'promoted') {
      if (isDeployed(inFlight)) back.push(current);
      else if (inFlight.status === 'waiting-window' || inFlight.status === 'awaiting-resume') {
        inFlight.status = 'pending';
        delete inFlight.waitingFor;
        delete inFlight.waitingUntil;
      }
    }
    back.sort((a, b) => b - a); // newest first
    await rollbackAll(back, 'halted');
    const names = back.map((j) => status.regions[j]!.name).join(', ');
    const from = status.regions[firstUnpromoted()]!;
    status.currentRegion = from.name;
    status.halt = { region: from.name, reason: `${whys}; rolled back ${names}; later regions held, retry resumes at ${from.name}${haltedBefore}`, at: Date.now(), cause: batch[0]!.cause };
    return false;
  };

  // ---- the rollout ----
  try {
    let i = input.carried?.regionIndex ?? 0;
    if (v2) {
      // A continued run watches again what the previous run watched, picks up its intents,
      // and if it was halted (a region, or a migration step) waits for retry or abort first.
      status.regions.forEach((r, j) => r.status === 'promoted' && j + 1 < thePlan.regions.length && watchPromoted(j));
      for (const a of input.carried?.approvals ?? []) approvals.add(a);
      // A region held as inconclusive is watched again too.
      status.regions.forEach((r, j) => r.status === 'inconclusive' && input.carried?.halted && watchPromoted(j));
      // Every region promoted and still running: only contract migrations were left.
      if (input.carried && firstUnpromoted() < 0) pastPointOfNoReturn = true;
      if (input.carried?.halted) {
        retryRequested = input.carried.retry ?? false;
        await waitHalted(status.halt?.region ?? thePlan.regions[Math.min(i, thePlan.regions.length - 1)]!.name, i, true);
      }
      // Applied steps are skipped, so a continued run only finishes what is left.
      if (thePlan.migrations.some((m) => m.phase === 'expand')) await applyMigrations('expand', thePlan.regions[0]!.name, 0);
    } else if (!input.carried && thePlan.migrations.some((m) => m.phase === 'expand')) {
      status.summary = 'running expand migrations';
      await runMigrations('expand', 'apply');
    }
    // v2 never finishes while a region does not run the version: it always works on the
    // first region that is not promoted (regions still promoted after a late regression
    // elsewhere are skipped, not redeployed).
    const more = () => (v2 ? lateBreaches.length > 0 || firstUnpromoted() >= 0 : i < thePlan.regions.length);
    while (more()) {
      if (abortRequested) throw new Aborted();
      if (lateBreaches.length > 0) {
        if (await onLateBreaches(i)) return await finish();
        i = firstUnpromoted();
        await waitHalted(status.regions[i]!.name, i);
        continue;
      }
      if (v2) i = firstUnpromoted();
      // A region held as inconclusive was watched while halted; its own soak watches it now.
      const heldWatch = promotedWatches.get(i);
      if (heldWatch) {
        heldWatch.cancel();
        promotedWatches.delete(i);
      }
      let outcome: SoakOutcome;
      regionScope = new CancellationScope();
      try {
        outcome = await regionScope.run(() => runRegion(i));
      } catch (e) {
        if (abortRequested || e instanceof Aborted) throw new Aborted();
        if (isCancellation(e)) {
          if (lateBreaches.length > 0) continue; // interrupted by a late regression: handled above
          throw new Aborted();
        }
        // A deploy that failed for good is a failed region: roll back what it may have touched.
        outcome = { kind: 'failed', reason: `deploy to ${thePlan.regions[i]!.name} failed: ${causeMessage(e)}`, cause: causeWithDetail({ kind: 'deploy-failed', region: thePlan.regions[i]!.name }, causeMessage(e)) };
      } finally {
        regionScope = undefined;
      }
      const r = status.regions[i]!;
      if (outcome.kind === 'passed') {
        r.status = 'promoted';
        r.promotedAt = Date.now();
        if (v2 && i + 1 < thePlan.regions.length) watchPromoted(i);
        i += 1;
        publish();
        if (i < thePlan.regions.length && lateBreaches.length === 0 && workflowInfo().continueAsNewSuggested) await continueWithState(i, false);
        continue;
      }

      if (outcome.gate) r.lastGate = outcome.gate;
      r.status = outcome.kind === 'failed' ? 'failed' : 'inconclusive';
      status.halt = { region: r.name, reason: outcome.reason, at: Date.now(), cause: outcome.cause };
      publish();
      if (outcome.kind === 'failed') {
        // Failing a gate (not a deploy error) makes the version bad for this service.
        if (outcome.gate) quarantine(r.name, outcome.reason);
        notify('rollback', outcome.reason, r.name);
        if (thePlan.failurePolicy === 'rollback-all') {
          await rollBackEverything(r.name, `${outcome.reason}; every deployed region rolled back (policy rollback-all)`, outcome.cause);
          return await finish();
        }
        await rollbackAll([i], 'halted');
        status.halt = { region: r.name, reason: `${outcome.reason}; ${r.name} rolled back, later regions held`, at: Date.now(), cause: outcome.cause };
      } else if (v2) {
        // Inconclusive is not rolled back: the region keeps the version while an operator
        // decides, so it stays watched; a breach there is a regression like any other.
        watchPromoted(i);
      }
      await waitHalted(r.name, i);
    }
    // Watching ends with the last promotion: contract migrations are the point of no return.
    stopPromotedWatches();
    if (v2) {
      // Unreachable by design (the loop runs until every region is promoted); if a breach
      // ever slipped in at the last promotion, fail loudly rather than report success.
      if (lateBreaches.length > 0 || firstUnpromoted() >= 0) throw ApplicationFailure.nonRetryable(`the rollout reached its end with regions not running ${thePlan.version}; it did not succeed (a bug: please report it)`, ROLLOUT_FAILURE.failed, status);
      pastPointOfNoReturn = true;
      publish();
    }
    if (thePlan.migrations.some((m) => m.phase === 'contract')) {
      if (v2) await applyMigrations('contract', thePlan.regions.at(-1)!.name, thePlan.regions.length);
      else {
        status.summary = 'running contract migrations';
        await runMigrations('contract', 'apply');
      }
    }
    status.state = 'succeeded';
    notify('succeeded', `${thePlan.service} ${thePlan.version} is live in ${thePlan.regions.length} regions`);
    return await finish();
  } catch (e) {
    // Cancelling the workflow itself (Temporal UI "Cancel", `temporal workflow cancel`)
    // cancels the root scope. It is an abort, with its rollbacks, never a silent stop; and
    // the abort must run outside the cancelled scope to finish at all.
    const workflowCancelled = v2 && CancellationScope.current().consideredCancelled;
    if (workflowCancelled && !abortRequested && (isCancellation(e) || e instanceof Aborted)) {
      abortRequested = true;
      status.actions.push({ action: 'abort', by: 'temporal', reason: 'workflow cancellation requested (Temporal UI or `temporal workflow cancel`)', at: Date.now(), via: 'signal', accepted: true, note: 'treated as abort' });
    }
    if (e instanceof Aborted || (abortRequested && isCancellation(e))) return workflowCancelled ? CancellationScope.nonCancellable(() => abortAll()) : abortAll();
    throw e;
  }
}

function describeGate(g: GateResult): string {
  const bad = g.checks.filter((c) => c.verdict !== 'pass');
  return (bad.length ? bad : g.checks).map((c) => `${c.name} ${c.verdict}: ${c.detail}`).join('; ') || g.verdict;
}

function causeMessage(e: unknown): string {
  let err = e as { message?: string; cause?: unknown } | undefined;
  // Activity failures wrap the real reason; operators want the innermost message.
  while (err && err.cause && typeof err.cause === 'object') err = err.cause as typeof err;
  return err?.message ?? String(e);
}
