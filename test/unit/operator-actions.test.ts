// The catalogue of operator actions (domain/operator-actions.ts) is the one description of
// each action: the signal and update definitions, the Web UI's descriptions, mrcd's commands
// and the live view's commands all come from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionSpec, OPERATOR_ACTION_CATALOGUE } from '../../domain/operator-actions';
import { ACTION_DESCRIPTIONS, actionSignals, actionUpdates } from '../../domain/definitions';
import { OPERATOR_ACTIONS, type RolloutStatus } from '../../domain/state';
import { actionCommand } from '../../client/live-view';
import { buildProgram } from '../../cli/main';

test('every action of the catalogue has a signal and an update of its own name, with its description', () => {
  assert.deepEqual([...OPERATOR_ACTIONS], Object.keys(OPERATOR_ACTION_CATALOGUE));
  for (const a of OPERATOR_ACTIONS) {
    assert.equal(actionSignals[a].name, a);
    assert.equal(actionUpdates[a].name, a);
    assert.equal(ACTION_DESCRIPTIONS[a], actionSpec(a).description);
    assert.match(actionSpec(a).description, /Payload \{"reason"/, `${a}: the Web UI description shows the payload`);
  }
  assert.deepEqual(Object.keys(actionSignals), [...OPERATOR_ACTIONS]);
  assert.deepEqual(Object.keys(actionUpdates), [...OPERATOR_ACTIONS]);
});

test('mrcd has a command per action, described by the catalogue', () => {
  const program = buildProgram();
  for (const a of OPERATOR_ACTIONS) {
    const cmd = program.commands.find((c) => c.name() === a);
    assert.ok(cmd, `mrcd ${a}`);
    assert.equal(cmd.description(), actionSpec(a).summary);
  }
});

test('the live view names the target region of an action that has one, and only then', () => {
  const s = {
    service: 'api',
    regions: [
      { name: 'eu', status: 'awaiting-approval' },
      { name: 'us', status: 'soaking' },
    ],
  } as unknown as RolloutStatus;
  for (const a of OPERATOR_ACTIONS) {
    const target = actionSpec(a).target;
    const want = target ? ` --region ${target.status === 'awaiting-approval' ? 'eu' : 'us'}` : '';
    assert.equal(actionCommand(s, a), `mrcd ${a} api${want} --reason "..."`);
  }
  // Only overrides are marked as such; skip-soak is one.
  assert.deepEqual(
    OPERATOR_ACTIONS.filter((a) => actionSpec(a).override),
    ['skip-soak'],
  );
});
