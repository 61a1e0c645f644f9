// Racing operators, as a model (issue 13 item 5): random schedules of operator actions
// (duplicated, out of order, naming the wrong region) interleaved with what the rollout
// itself does (soaks start and end, gates pass or breach, rollbacks finish or fail,
// contract migrations start). Each action is judged by the action table of
// domain/state.ts and applied the way workflows/rollout/messages.ts applies it; after
// every step the rollout must be in a legal state, each action accepted (maybe as a no-op)
// or refused with the actions legal now, and an abort final: nothing but its duplicate (or a
// retry of a failed rollback) is accepted after it, and the rollout ends aborted.
// test/integration/operator-race.test.ts sends such schedules to a real rollout.
//
// Reproducing a failure: fast-check prints the seed and the shrunk schedule;
//   FC_SEED=<seed> FC_PATH=<path> node --import tsx --test test/unit/action-race-model.test.ts
// (FC_RUNS=<n> runs more.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkAction,
  legalActions,
  OPERATOR_ACTIONS,
  ROLLOUT_STATES,
  TERMINAL_STATES,
  type ActionContext,
  type OperatorActionName,
  type RolloutState,
} from '../../domain/state';

import { acceptAction, OperatorIntents } from '../../domain/operator-intents';
function params(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : numRuns,
    includeErrorInReport: true,
    ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
  };
}

const REGIONS = ['small', 'medium', 'large'] as const;

interface Op {
  kind: 'op';
  action: OperatorActionName;
  region?: string;
  /** Sent twice in a row, like a double click or a retried CLI call. */
  twice: boolean;
}
const FLOW = [
  'deploy-and-soak',
  'soak-ends',
  'gate-passes',
  'breach',
  'inconclusive',
  'rollbacks-done',
  'rollback-fails',
  'contract-starts',
  'contract-fails',
  'contract-done',
] as const;
interface Flow {
  kind: 'flow';
  event: (typeof FLOW)[number];
}
type Step = Op | Flow;

/**
 * A rollout as the workflow keeps it (the fields of RolloutRun that the action table and
 * messages.ts read and write), moved by operator actions and by the flow's own events.
 */
class RolloutSim {
  state: RolloutState = 'running';
  /** The workflow's own intents object, moved by the workflow's own acceptAction. */
  readonly intents = new OperatorIntents();
  pastPointOfNoReturn = false;
  region = 0;
  soaking?: string;
  awaitingApproval?: string;
  /** Soaked, its gate next (no approval needed). */
  gating?: string;
  recorded: { action: string; accepted: boolean; note?: string }[] = [];
  everAborted = false;

  constructor(readonly approvalRequired: boolean) {}

  ctx(): ActionContext {
    return {
      state: this.state,
      abortRequested: this.intents.abortRequested,
      ...(this.soaking ? { soaking: this.soaking } : {}),
      ...(this.awaitingApproval ? { awaitingApproval: this.awaitingApproval } : {}),
      ...(this.pastPointOfNoReturn ? { pastPointOfNoReturn: true } : {}),
    };
  }

  /** messages.ts apply(): the table, then the region named; recorded either way. */
  send(action: OperatorActionName, region: string | undefined): { accepted: boolean; noop?: string; refused?: string } {
    const ctx = this.ctx();
    const check = checkAction(action, ctx);
    let refused = check.legal ? undefined : check.reason;
    if (check.legal && region && (action === 'approve' || action === 'skip-soak')) {
      const want = action === 'approve' ? ctx.awaitingApproval : ctx.soaking;
      if (region !== want) refused = `${action} names region ${region}, but the region is ${want}`;
    }
    if (refused !== undefined) {
      this.recorded.push({ action, accepted: false, note: refused });
      return { accepted: false, refused };
    }
    if (check.legal && check.noop) {
      this.recorded.push({ action, accepted: true, note: check.noop });
      return { accepted: true, noop: check.noop };
    }
    this.act(action, region);
    this.recorded.push({ action, accepted: true });
    return { accepted: true };
  }

  /** messages.ts act(): the intents and the state by the workflow's own code; the flow's reaction to it modelled here. */
  private act(action: OperatorActionName, region: string | undefined): void {
    const target = action === 'approve' ? (region ?? this.awaitingApproval!) : action === 'skip-soak' ? (region ?? this.soaking!) : undefined;
    const found = this.state;
    this.state = acceptAction(this.intents, action, found, target, true);
    if (action === 'abort') {
      this.everAborted = true;
      // The region's scope is cancelled: its soak or approval wait ends.
      this.soaking = undefined;
      this.awaitingApproval = undefined;
      this.gating = undefined;
    }
    // A retry (or resume of a halt) is picked up at once here, and a retried halt is not paused.
    if ((action === 'retry' || (action === 'resume' && found !== 'paused')) && this.state === 'running') this.intents.unpause();
  }

  /** The flow's own events, when they can happen (docs/rollout-states.md); false when this one cannot now. */
  flow(event: Flow['event']): boolean {
    const inFlight = (this.state === 'running' || this.state === 'paused') && !this.intents.abortRequested && !this.pastPointOfNoReturn;
    const name = REGIONS[this.region];
    switch (event) {
      case 'deploy-and-soak':
        // A pause holds the next deploy.
        if (!inFlight || this.intents.paused || this.soaking || this.awaitingApproval || this.gating || !name) return false;
        this.soaking = name;
        return true;
      case 'soak-ends':
        if (!inFlight || !this.soaking) return false;
        if (this.approvalRequired) this.awaitingApproval = this.soaking;
        else this.gating = this.soaking;
        this.soaking = undefined;
        return true;
      case 'gate-passes': {
        // Promotion: needs the approval when required, and no pause.
        const r = this.awaitingApproval ?? this.gating;
        if (!inFlight || !r || this.intents.paused || (this.approvalRequired && !this.intents.isApproved(r))) return false;
        this.awaitingApproval = undefined;
        this.gating = undefined;
        this.region++;
        return true;
      }
      case 'breach':
        if (!inFlight || (!this.soaking && !this.awaitingApproval && !this.gating)) return false;
        this.soaking = undefined;
        this.awaitingApproval = undefined;
        this.gating = undefined;
        for (const r of REGIONS) this.intents.forgetApproval(r); // an approval holds for one attempt
        this.state = 'rolling-back';
        return true;
      case 'inconclusive':
        if (!inFlight || !this.soaking) return false;
        this.soaking = undefined;
        this.state = 'halted';
        return true;
      case 'rollbacks-done':
        if (this.state !== 'rolling-back') return false;
        if (this.intents.abortRequested) this.state = 'aborted';
        else {
          this.state = 'halted';
          this.intents.dropRetry();
        }
        return true;
      case 'rollback-fails':
        if (this.state !== 'rolling-back') return false;
        this.state = 'rollback-failed';
        this.intents.dropRetry();
        return true;
      case 'contract-starts':
        if (this.state !== 'running' || this.intents.abortRequested || this.pastPointOfNoReturn || this.region < REGIONS.length) return false;
        this.pastPointOfNoReturn = true;
        return true;
      case 'contract-fails':
        if (!this.pastPointOfNoReturn || this.state !== 'running') return false;
        this.state = 'halted';
        return true;
      case 'contract-done':
        if (!this.pastPointOfNoReturn || this.state !== 'running') return false;
        this.state = 'succeeded';
        return true;
    }
  }

  /** After a halt, a retry re-runs the region (the flow picks it up at once here). */
  pickUpRetry(): void {
    if (this.state === 'running') this.intents.takeRetry();
  }
}

const op: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('op' as const),
  action: fc.constantFrom(...OPERATOR_ACTIONS),
  region: fc.option(fc.constantFrom(...REGIONS, 'elsewhere'), { nil: undefined }),
  twice: fc.boolean(),
});
const flowStep: fc.Arbitrary<Step> = fc.record({ kind: fc.constant('flow' as const), event: fc.constantFrom(...FLOW) });
const schedule = fc.array(fc.oneof({ weight: 3, arbitrary: op }, { weight: 2, arbitrary: flowStep }), { minLength: 1, maxLength: 80 });

/** The answer to an action, as the table promises it. */
function assertAnswer(action: OperatorActionName, before: ActionContext, answer: ReturnType<RolloutSim['send']>): void {
  const legalBefore = legalActions(before);
  const check = checkAction(action, before);
  if (!answer.accepted) {
    assert.ok(answer.refused, 'a refusal says why');
    if (!check.legal) {
      assert.match(answer.refused, new RegExp(`^${action} is not possible: .+\\. Legal now: `));
      const listed = /Legal now: (.*)$/.exec(answer.refused)![1]!;
      if (legalBefore.length) assert.equal(listed, legalBefore.join(', '), 'the refusal lists exactly the legal actions');
      else assert.match(listed, /^nothing \(.+\)$/, 'with nothing legal, it says why');
      assert.ok(!legalBefore.includes(action), `${action} refused although listed as legal`);
    } else {
      // Legal by the table, refused for naming another region than the one waiting or soaking.
      assert.ok(action === 'approve' || action === 'skip-soak');
    }
  } else {
    // Accepted: listed as legal, or a harmless no-op of a duplicate.
    assert.ok(check.legal);
    if (answer.noop) assert.ok(!legalBefore.includes(action), 'a no-op is not offered as an action');
    else assert.ok(legalBefore.includes(action), `${action} accepted but not listed in ${legalBefore.join(', ')}`);
  }
}

function assertLegalState(sim: RolloutSim, history: string[]): void {
  const where = `after ${history.slice(-6).join(' → ')}`;
  assert.ok((ROLLOUT_STATES as readonly string[]).includes(sim.state), `${sim.state} is no rollout state (${where})`);
  const legal = legalActions(sim.ctx());
  // legalActions and checkAction agree for every action.
  for (const a of OPERATOR_ACTIONS) {
    const c = checkAction(a, sim.ctx());
    assert.equal(legal.includes(a), c.legal && !c.noop, `${a} in ${sim.state}: legalActions and checkAction disagree (${where})`);
  }
  if (TERMINAL_STATES.has(sim.state)) assert.deepEqual(legal, [], `an ended rollout offers nothing (${where})`);
  if (sim.state === 'paused') assert.ok(sim.intents.paused, where);
  if (sim.soaking || sim.awaitingApproval || sim.gating)
    assert.ok(sim.state === 'running' || sim.state === 'paused', `a region soaks or waits while ${sim.state} (${where})`);
  // Abort is final.
  if (sim.everAborted) {
    assert.ok(sim.intents.abortRequested, `the abort was forgotten (${where})`);
    assert.ok(['rolling-back', 'rollback-failed', 'aborted'].includes(sim.state), `aborted, then ${sim.state} (${where})`);
    const offered = new Set(legal);
    for (const a of offered)
      assert.ok(a === 'abort' || (sim.state === 'rollback-failed' && (a === 'retry' || a === 'resume')), `${a} offered after an abort (${where})`);
  }
  if (sim.pastPointOfNoReturn) assert.ok(!sim.everAborted || sim.state !== 'succeeded', where);
}

test('the simulated rollout starts where the workflow does, and a clean run succeeds (else the properties prove little)', () => {
  const sim = new RolloutSim(true);
  for (const r of REGIONS) {
    assert.ok(sim.flow('deploy-and-soak'));
    assert.ok(sim.flow('soak-ends'));
    assert.equal(sim.flow('gate-passes'), false, 'not without the approval');
    assert.deepEqual(sim.send('approve', r), { accepted: true });
    assert.ok(sim.flow('gate-passes'));
  }
  assert.ok(sim.flow('contract-starts'));
  assert.equal(sim.send('abort', undefined).accepted, false, 'past the point of no return');
  assert.ok(sim.flow('contract-done'));
  assert.equal(sim.state, 'succeeded');
});

test('any schedule of actions and flow events: a legal state after every step, every action accepted or refused with the legal actions, abort final', () => {
  const stats = { accepted: 0, noop: 0, refused: 0, aborted: 0, succeeded: 0, halted: 0, rollbackFailed: 0 };
  fc.assert(
    fc.property(fc.boolean(), schedule, (approvalRequired, steps) => {
      const sim = new RolloutSim(approvalRequired);
      const history: string[] = [];
      for (const step of steps) {
        if (step.kind === 'flow') {
          if (sim.flow(step.event)) history.push(step.event);
        } else {
          for (let i = 0; i < (step.twice ? 2 : 1); i++) {
            const before = sim.ctx();
            const n = sim.recorded.length;
            const answer = sim.send(step.action, step.region);
            history.push(`${step.action}${step.region ? `(${step.region})` : ''}:${answer.accepted ? (answer.noop ? 'noop' : 'ok') : 'refused'}`);
            assert.equal(sim.recorded.length, n + 1, 'every action is recorded, accepted or not');
            assertAnswer(step.action, before, answer);
            stats[answer.accepted ? (answer.noop ? 'noop' : 'accepted') : 'refused']++;
            // A duplicate of an accepted pause or abort is a no-op.
            if (i === 1 && answer.accepted && (step.action === 'pause' || step.action === 'abort') && history.at(-2)?.endsWith(':ok'))
              assert.ok(answer.noop, `a second ${step.action} is a no-op`);
          }
          sim.pickUpRetry();
        }
        assertLegalState(sim, history);
      }
      // Run the flow to its end: an aborted rollout ends aborted, whatever came after.
      const wasAborted = sim.everAborted;
      for (let i = 0; i < 20 && !TERMINAL_STATES.has(sim.state); i++) {
        if (sim.state === 'rollback-failed') sim.send('retry', undefined);
        else if (!sim.flow('rollbacks-done')) {
          if (sim.state === 'halted' || sim.state === 'paused') sim.send('resume', undefined);
          else if (sim.state === 'running') {
            sim.pickUpRetry();
            for (const e of ['contract-done', 'contract-starts', 'gate-passes', 'soak-ends', 'deploy-and-soak'] as const) if (sim.flow(e)) break;
            if (sim.awaitingApproval) sim.send('approve', undefined);
          }
        }
        assertLegalState(sim, history);
      }
      if (wasAborted) assert.equal(sim.state, 'aborted', 'an aborted rollout ends aborted');
      if (sim.state === 'aborted') stats.aborted++;
      if (sim.state === 'succeeded') stats.succeeded++;
      if (steps.some((s) => s.kind === 'flow' && s.event === 'rollback-fails')) stats.rollbackFailed++;
      if (history.includes('inconclusive') || history.includes('rollbacks-done')) stats.halted++;
    }),
    params(1500),
  );
  // The schedules reach every kind of answer and ending, or the property proves little.
  for (const [k, v] of Object.entries(stats)) assert.ok(v > 0, `${k} never happened: ${JSON.stringify(stats)}`);
});

test('from any context the table can be asked about: the same answer each time, refusals list the legal actions, nothing after the end or an abort', () => {
  const ctxArb = fc.record({
    state: fc.constantFrom(...ROLLOUT_STATES),
    abortRequested: fc.boolean(),
    soaking: fc.option(fc.constantFrom(...REGIONS), { nil: undefined }),
    awaitingApproval: fc.option(fc.constantFrom(...REGIONS), { nil: undefined }),
    pastPointOfNoReturn: fc.boolean(),
  });
  fc.assert(
    fc.property(ctxArb, fc.constantFrom(...OPERATOR_ACTIONS), (raw, action) => {
      const ctx: ActionContext = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as unknown as ActionContext;
      const a = checkAction(action, ctx);
      const b = checkAction(action, ctx);
      assert.deepEqual(a, b, 'the table is a function of the context');
      if (!a.legal) {
        assert.match(a.reason, /Legal now: .+$/);
        assert.ok(!legalActions(ctx).includes(action));
      }
      if (TERMINAL_STATES.has(ctx.state)) assert.equal(a.legal, false, 'nothing after the end');
      if (ctx.abortRequested && a.legal)
        assert.ok(action === 'abort' || (ctx.state === 'rollback-failed' && (action === 'retry' || action === 'resume')) || ctx.pastPointOfNoReturn);
    }),
    params(2000),
  );
});
