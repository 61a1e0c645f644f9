// Walks the whole action × state table of docs/rollout-states.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkAction,
  legalActions,
  OPERATOR_ACTIONS,
  payloadProblem,
  ROLLOUT_STATES,
  type ActionContext,
  type OperatorActionName,
  type RolloutState,
} from '../../domain/state';

// expected[state] = actions that act (legal, not a no-op), with a region soaking and one awaiting approval
const EXPECTED: Record<RolloutState, OperatorActionName[]> = {
  running: ['pause', 'abort', 'approve', 'skip-soak'],
  paused: ['resume', 'abort', 'approve', 'skip-soak'],
  halted: ['resume', 'abort', 'retry'],
  'rolling-back': ['abort'],
  'rollback-failed': ['resume', 'abort', 'retry'],
  succeeded: [],
  'rolled-back': [],
  aborted: [],
  failed: [],
};
const NOOPS: Partial<Record<RolloutState, OperatorActionName[]>> = { running: ['resume'], paused: ['pause'] };

for (const state of ROLLOUT_STATES) {
  test(`state ${state}: legal and illegal actions`, () => {
    const ctx: ActionContext = { state, abortRequested: false, soaking: 'eu', awaitingApproval: 'eu' };
    assert.deepEqual(new Set(legalActions(ctx)), new Set(EXPECTED[state]));
    for (const action of OPERATOR_ACTIONS) {
      const c = checkAction(action, ctx);
      if (EXPECTED[state].includes(action)) assert.deepEqual(c, { legal: true }, `${action} in ${state}`);
      else if (NOOPS[state]?.includes(action)) assert.ok(c.legal && c.noop, `${action} in ${state} is a harmless no-op`);
      else {
        assert.equal(c.legal, false, `${action} in ${state} must be refused`);
        if (!c.legal) {
          assert.match(c.reason, new RegExp(`^${action} is not possible: `));
          assert.match(
            c.reason,
            EXPECTED[state].length ? new RegExp(`Legal now: ${EXPECTED[state].join(', ')}$`) : /Legal now: nothing \(the rollout has ended\)$/,
          );
        }
      }
    }
  });
}

test('without a soaking or waiting region, approve and skip-soak are refused with a reason', () => {
  const ctx: ActionContext = { state: 'running', abortRequested: false };
  const a = checkAction('approve', ctx);
  assert.equal(a.legal, false);
  if (!a.legal) assert.match(a.reason, /no region is waiting for approval\. Legal now: pause, abort$/);
  const s = checkAction('skip-soak', ctx);
  assert.equal(s.legal, false);
});

test('once an abort is requested only a duplicate abort (no-op) or, after a failed rollback, a retry is accepted', () => {
  const aborting: ActionContext = { state: 'rolling-back', abortRequested: true };
  assert.deepEqual(checkAction('abort', aborting), { legal: true, noop: 'abort already requested' });
  for (const a of ['pause', 'resume', 'retry', 'approve', 'skip-soak'] as const) assert.equal(checkAction(a, aborting).legal, false);
  const stuck: ActionContext = { state: 'rollback-failed', abortRequested: true };
  assert.deepEqual(checkAction('retry', stuck), { legal: true });
  assert.deepEqual(checkAction('resume', stuck), { legal: true });
});

test('past the point of no return (contract migrations running) nothing is accepted, and the reason says why', () => {
  const ctx: ActionContext = { state: 'running', abortRequested: false, pastPointOfNoReturn: true };
  assert.deepEqual(legalActions(ctx), []);
  for (const a of OPERATOR_ACTIONS) {
    const c = checkAction(a, ctx);
    assert.equal(c.legal, false);
    if (!c.legal) assert.match(c.reason, /contract migrations are running: past the point of no return/);
  }
});

test('payloads: reason and by are required, unknown fields named', () => {
  assert.equal(payloadProblem({ reason: 'r', by: 'b' }), undefined);
  assert.equal(payloadProblem({ reason: 'r', by: 'b', region: 'eu' }), undefined);
  assert.match(payloadProblem(undefined)!, /must be a JSON object/);
  assert.match(payloadProblem('pause')!, /must be a JSON object/);
  assert.match(payloadProblem([])!, /must be a JSON object/);
  assert.equal(payloadProblem({ reason: ' ', by: 'b' }), 'reason: must be a non-empty string');
  assert.equal(payloadProblem({ reason: 'r' }), 'by: must be a non-empty string naming who acts');
  assert.equal(payloadProblem({ reason: 'r', by: 'b', region: 3 }), 'region: must be a string');
  assert.equal(payloadProblem({ reason: 'r', by: 'b', force: true }), 'unknown field force (allowed: reason, by, region)');
});
