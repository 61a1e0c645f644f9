// What `mrcd status` prints for the states operators act on in an incident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusTable } from '../../cli/main';
import { summarize } from '../../domain/summary';
import type { RolloutStatus } from '../../domain/state';

function status(over: Partial<RolloutStatus> = {}): RolloutStatus {
  const s: RolloutStatus = {
    rolloutId: 'rollout-checkout',
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments-oncall', runbook: 'https://runbooks.example/checkout' },
    state: 'halted',
    regions: [
      { name: 'small', size: 1, status: 'rolled-back', attempts: 1, regressedAt: Date.UTC(2026, 10, 27, 1) },
      { name: 'large', size: 10, status: 'pending', attempts: 0 },
    ],
    actions: [],
    legalActions: ['resume', 'abort', 'retry'],
    startedAt: Date.UTC(2026, 10, 27),
    failurePolicy: 'halt',
    summary: '',
    halt: { region: 'small', reason: 'late regression in small after promotion: error-ratio fail', at: Date.UTC(2026, 10, 27, 1) },
    quarantine: { region: 'small', reason: 'late regression in small', at: Date.UTC(2026, 10, 27, 1) },
    overrides: [{ kind: 'skip-soak', by: 'ic', reason: 'hotfix for the outage', at: Date.UTC(2026, 10, 27), region: 'small' }],
    ...over,
  };
  s.summary = summarize(s);
  return s;
}

test('a quarantined, halted rollout says so, with the override used and what is legal now', () => {
  const out = statusTable(status());
  assert.match(out, /checkout 2\.0\.0 — halted/);
  assert.match(out, /halt: late regression in small after promotion/);
  assert.match(out, /quarantine: 2\.0\.0 failed its gate in small; new rollouts of it are refused without --override-quarantine/);
  assert.match(out, /override skip-soak \(small\) by ic: hotfix for the outage/);
  assert.match(out, /legal actions now: resume, abort, retry/);
  assert.match(out, /runbook: https:\/\/runbooks\.example\/checkout/);
});

test('a region waiting for its window says what for and until when', () => {
  const s = status({
    state: 'running',
    currentRegion: 'large',
    regions: [
      { name: 'small', size: 1, status: 'promoted', attempts: 1 },
      {
        name: 'large',
        size: 10,
        status: 'waiting-window',
        attempts: 1,
        waitingFor: 'outside mon-fri 09:00-17:00 UTC',
        waitingUntil: Date.UTC(2026, 10, 30, 9),
      },
    ],
    halt: undefined,
    quarantine: undefined,
    overrides: [],
  });
  assert.equal(s.summary, 'checkout 2.0.0: running in large (1/2 regions promoted); waiting for outside mon-fri 09:00-17:00 UTC until 2026-11-30T09:00:00Z');
  const out = statusTable(s);
  assert.match(out, /large .*waiting-window/);
  assert.doesNotMatch(out, /quarantine:/);
});
