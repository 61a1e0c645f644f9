// The runbook a halt points to: a section of docs/runbook.md for every halt cause and waiting
// state, and the same link in the Web UI's details, `mrcd status` and notifications.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HALT_KINDS, type HaltKind } from '../../domain/halt-cause';
import { RUNBOOK_WAITS, runbookLink, runbookSection } from '../../domain/runbook';
import { renderDetails } from '../../domain/summary';
import type { RolloutState, RolloutStatus } from '../../domain/state';
import { statusTable } from '../../cli/main';
import { slackText } from '../../activities/notify';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'runbook.md'), 'utf8');
const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);

function status(state: RolloutState, extra: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    rolloutId: 'rollout-checkout',
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example.com/checkout' },
    state,
    regions: [
      { name: 'small', size: 1, status: 'promoted', attempts: 1 },
      { name: 'medium', size: 10, status: 'rolled-back', attempts: 1 },
    ],
    actions: [],
    legalActions: [],
    startedAt: 0,
    failurePolicy: 'halt',
    summary: '',
    ...extra,
  };
}
const halted = (kind: HaltKind, state: RolloutState = 'halted') =>
  status(state, { halt: { region: 'medium', reason: 'why', at: 0, cause: { kind, region: 'medium' } } });

test('docs/runbook.md has a section for every halt cause and waiting state, and no section the code cannot link', () => {
  const sections = [...HALT_KINDS, ...RUNBOOK_WAITS, 'rollback-all'];
  for (const s of sections) assert.ok(headings.includes(s), `docs/runbook.md has no "## ${s}"`);
  assert.deepEqual(
    headings.filter((h) => !sections.includes(h)),
    ['The four moves'],
  );
  // A newcomer can pause, inspect, resume and abort from this page alone.
  for (const cmd of [
    'mrcd pause',
    'mrcd status',
    'mrcd resume',
    'mrcd abort',
    'temporal workflow query',
    'temporal workflow update execute',
    'Send a Signal',
  ]) {
    assert.ok(doc.includes(cmd), `the runbook shows ${cmd}`);
  }
});

test('the section follows the cause, the wait, or nothing when nobody needs to act', () => {
  for (const kind of HALT_KINDS) assert.equal(runbookSection(halted(kind)), kind);
  assert.equal(runbookSection(halted('slo-breach', 'rolled-back')), 'rollback-all');
  assert.equal(runbookSection(halted('rollback-failed', 'rollback-failed')), 'rollback-failed');
  assert.equal(runbookSection(halted('aborted', 'aborted')), 'aborted');
  assert.equal(runbookSection(status('paused', { pausedBy: 'me' })), 'paused');
  const waiting = (s: 'awaiting-approval' | 'waiting-window') =>
    status('running', { currentRegion: 'medium', regions: [{ name: 'medium', size: 10, status: s, attempts: 1 }] });
  assert.equal(runbookSection(waiting('awaiting-approval')), 'awaiting-approval');
  assert.equal(runbookSection(waiting('waiting-window')), 'waiting-window');
  assert.equal(runbookSection(status('running')), undefined);
  assert.equal(runbookSection(status('succeeded')), undefined);
  // A halt that was retried (running again) needs nobody.
  assert.equal(runbookSection(status('running', { halt: { reason: 'x', at: 0, cause: { kind: 'slo-breach' } } })), undefined);
});

test('the Web UI details, mrcd status and the notification carry the same link', () => {
  const s = halted('slo-breach');
  assert.equal(runbookLink(s), 'docs/runbook.md#slo-breach');
  assert.equal(runbookLink(s, 'https://github.com/acme/mrcd/blob/main/'), 'https://github.com/acme/mrcd/blob/main/docs/runbook.md#slo-breach');
  assert.ok(renderDetails(s).split('\n').includes('Runbook: docs/runbook.md#slo-breach · team runbook: https://runbooks.example.com/checkout'));
  assert.ok(statusTable(s).split('\n').includes('runbook: docs/runbook.md#slo-breach'));
  assert.ok(!renderDetails(status('running')).includes('Runbook:'));
  const text = slackText({
    notifications: [],
    owner: s.owner,
    event: { kind: 'halted', rolloutId: s.rolloutId, service: 'checkout', version: '2.0.0', message: 'why', at: 0, runbook: runbookLink(s)! },
  });
  assert.ok(text.endsWith('; what to do: docs/runbook.md#slo-breach'), text);
});
