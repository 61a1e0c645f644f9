// Operator messages: every action is a signal and an update of the same name (definitions.ts),
// judged by the action table of state.ts, recorded accepted or not, and turned into an
// intent on the run that the flow acts on at its next safe point.
import { log, setDefaultSignalHandler, setHandler } from '@temporalio/workflow';
import { boundActions, MAX_RECORDED_TEXT, type ActionRecord } from '../../domain/action-log';
import {
  ACTION_DESCRIPTIONS,
  actionSignals,
  actionUpdateDescription,
  actionUpdates,
  STATUS_QUERY_DESCRIPTION,
  statusQuery,
  type ActionResult,
} from '../../domain/definitions';
import { checkAction, legalActions, OPERATOR_ACTIONS, payloadProblem, type ActionPayload, type OperatorActionName } from '../../domain/state';
import { acceptAction } from '../../domain/operator-intents';
import type { RolloutRun } from './run';
import { actionSpec } from '../../domain/operator-actions';
import { policyChangedSignal, type PolicyNotice } from '../../domain/policy-definitions';

/** Installs the status query and every action's handlers; must run before the workflow's first await, or an early update is rejected. */
export function installHandlers(run: RolloutRun): void {
  const bounded = run.gen.attemptKeys;
  // An empty region is a mistake, not "the current one": refused with the edges patch.
  const opts = { bounded, nonEmptyRegion: run.gen.edges };
  // Descriptions (what the Web UI lists) are not part of history: replay is unaffected.
  setHandler(statusQuery, () => ({ ...run.status, legalActions: legalActions(run.ctx()) }), { description: STATUS_QUERY_DESCRIPTION });
  for (const action of OPERATOR_ACTIONS) {
    setHandler(
      actionSignals[action],
      (payload: ActionPayload) => {
        const problem = payloadProblem(payload, opts);
        // Never drop an operator action silently: a malformed one is recorded as rejected.
        if (problem) rejectSignal(run, action, payload, `invalid payload: ${problem}`);
        else apply(run, action, payload, 'signal');
      },
      { description: ACTION_DESCRIPTIONS[action] },
    );
    setHandler(actionUpdates[action], (payload: ActionPayload) => apply(run, action, payload, 'update'), {
      description: actionUpdateDescription(action),
      validator: (payload: ActionPayload) => {
        const problem = payloadProblem(payload, opts);
        const why = problem !== undefined ? `invalid ${action} payload: ${problem}` : refusal(run, action, payload);
        if (why === undefined) return;
        // A rejected update leaves no trace in history: the worker log is where it shows.
        const p = (payload ?? {}) as Partial<ActionPayload>;
        log.warn('operator update rejected', { action, by: typeof p.by === 'string' ? p.by.slice(0, MAX_RECORDED_TEXT) : '(unknown)', why });
        throw new Error(why);
      },
    });
  }
  // The fleet policy's word: what would hold this rollout now (shown in its status), and a nudge for a held step.
  setHandler(
    policyChangedSignal,
    (notice: PolicyNotice) => {
      run.policyNotice = notice;
      run.policyNudges += 1;
      // receivedAt: when this rollout learned it (M9 in docs/benchmarks.md measures from the freeze to here).
      if (notice.blockers.length > 0) run.status.policy = { ...notice, receivedAt: Date.now() };
      else delete run.status.policy;
      run.publish();
    },
    { description: 'Sent by the fleet policy (mrcd-policy) when what holds this rollout changes' },
  );
  // A signal name with no handler (a typo from the UI or `temporal workflow signal`) is an
  // operator who believes they acted: record the refusal with the names that work.
  if (run.gen.attemptKeys) {
    setDefaultSignalHandler((name: string, ...args: unknown[]) => {
      rejectSignal(run, name, args[0], `unknown signal "${name}": the rollout takes ${OPERATOR_ACTIONS.join(', ')} (payload {"reason": "...", "by": "..."})`);
    });
  }
}

/**
 * A workflow cancel, as the operator's abort it is: judged by the same action table, so it
 * is refused (and recorded) past the point of no return and a no-op while an abort already
 * compensates; the rollout then goes on to its verdict.
 */
export function cancelAsAbort(run: RolloutRun): void {
  apply(run, 'abort', { by: 'temporal', reason: 'workflow cancellation requested (Temporal UI "Cancel" or `temporal workflow cancel`)' }, 'signal');
}

/** Why the action is refused now (the action table, then the region it names), or undefined. */
function refusal(run: RolloutRun, action: OperatorActionName, payload: ActionPayload): string | undefined {
  const check = checkAction(action, run.ctx());
  return check.legal ? regionMismatch(run, action, payload) : check.reason;
}

/** An action with a target region acts on the one that waits or soaks now; naming another is refused. */
function regionMismatch(run: RolloutRun, action: OperatorActionName, payload: ActionPayload): string | undefined {
  const target = actionSpec(action).target;
  if (!payload.region || !target) return undefined;
  const want = target.status === 'awaiting-approval' ? run.ctx().awaitingApproval : run.ctx().soaking;
  return payload.region === want ? undefined : `${action} names region ${payload.region}, but the region ${target.words} is ${want}`;
}

/** Every operator action lands here, accepted or not; with attempt keys the list and its texts stay bounded. */
function record(run: RolloutRun, a: ActionRecord): void {
  if (run.gen.attemptKeys) boundActions(run.status, a);
  else run.status.actions.push(a);
  if (!a.accepted) log.warn('operator action rejected', { action: a.action, by: a.by, via: a.via, why: a.note });
}

function rejectSignal(run: RolloutRun, action: string, payload: unknown, note: string): void {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<ActionPayload>;
  record(run, {
    action,
    by: typeof p.by === 'string' ? p.by : '(unknown)',
    reason: typeof p.reason === 'string' ? p.reason : '',
    at: Date.now(),
    via: 'signal',
    accepted: false,
    note,
  });
  run.publish();
}

function apply(run: RolloutRun, action: OperatorActionName, payload: ActionPayload, via: 'signal' | 'update'): ActionResult {
  const { status } = run;
  const entry = { action, by: payload.by, reason: payload.reason, at: Date.now(), via, ...(payload.region ? { region: payload.region } : {}) };
  const check = checkAction(action, run.ctx());
  const refused = refusal(run, action, payload);
  if (refused !== undefined || !check.legal) {
    record(run, { ...entry, accepted: false, note: refused ?? 'refused' });
    run.publish();
    return { action, state: status.state, note: refused ?? 'refused' };
  }
  if (check.noop) {
    record(run, { ...entry, accepted: true, note: check.noop });
    run.publish();
    return { action, state: status.state, note: check.noop };
  }
  const note = act(run, action, payload);
  record(run, { ...entry, accepted: true, note });
  run.publish();
  return { action, state: status.state, note };
}

/** Records an accepted action as the run's intents (domain/operator-intents.ts) and reports it; returns what the operator is told. */
function act(run: RolloutRun, action: OperatorActionName, payload: ActionPayload): string {
  const { status } = run;
  const found = status.state;
  const region =
    action === 'approve' ? (payload.region ?? run.ctx().awaitingApproval!) : action === 'skip-soak' ? (payload.region ?? run.ctx().soaking!) : undefined;
  status.state = acceptAction(run.intents, action, found, region, run.gen.attemptKeys);
  switch (action) {
    case 'pause':
      status.pausedBy = payload.by;
      run.notify('paused', `paused by ${payload.by}: ${payload.reason}`, status.currentRegion);
      return 'paused: the next promotion is held; soaks and SLO watches go on';
    case 'resume':
      if (found !== 'paused') return retrying(run);
      delete status.pausedBy;
      run.notify('resumed', `resumed by ${payload.by}: ${payload.reason}`, status.currentRegion);
      return 'resumed';
    case 'retry':
      return retrying(run);
    case 'abort':
      run.regionScope?.cancel();
      return 'aborting: every deployed region will be rolled back in reverse order';
    case 'approve': {
      const r = status.regions.find((x) => x.name === region);
      if (r) r.approvedBy = payload.by;
      return `approved ${region}`;
    }
    case 'skip-soak':
      status.overrides!.push({ kind: 'skip-soak', by: payload.by, reason: payload.reason, at: Date.now(), region: region! });
      run.notify('override', `skip-soak of ${region} by ${payload.by}: ${payload.reason}`, region);
      return `soak of ${region} cut short; its gate is still evaluated`;
  }
}

/** retry (or resume of a halt): the flow acts on it at its next safe point; the state says so at once. */
function retrying(run: RolloutRun): string {
  return `retrying ${run.status.halt?.region ?? 'the halted step'}`;
}
