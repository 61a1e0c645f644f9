// The chaos run's invariant checker (test/chaos/invariants.ts) on hand-made ledgers: clean
// runs pass, and each rule fires on a ledger that breaks it. Without these, a chaos run
// reporting zero violations could be a checker that cannot see any.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerEntry } from '../../dev/simulator';
import { checkInvariants, checkPolicy, countByRule, parseKey, type PolicyRun, type RolloutOutcome, type Rule } from '../../test/chaos/invariants';

const R = ['r1', 'r2', 'r3'];
const OLD = '1.0.0';
const NEW = '2.0.0';
let seq = 0;

function entry(service: string, kind: 'deploy' | 'rollback', region: string, at: number, attempt = 1, key?: string): LedgerEntry {
  seq += 1;
  return {
    seq,
    at,
    service,
    region,
    kind,
    version: kind === 'deploy' ? NEW : OLD,
    fromVersion: kind === 'deploy' ? OLD : NEW,
    idempotencyKey: key ?? `rollout-${service}:run-1:${region}:${NEW}:${kind}:${attempt}`,
  };
}

function good(over: Partial<RolloutOutcome> = {}): RolloutOutcome {
  return {
    service: 'svc',
    truth: 'good',
    regions: R,
    oldVersion: OLD,
    newVersion: NEW,
    expected: 'succeeded',
    finalState: 'succeeded',
    falseBreaches: 0,
    finalVersions: { r1: NEW, r2: NEW, r3: NEW },
    workflowTaskFailures: 0,
    attempts: { r1: 1, r2: 1, r3: 1 },
    ...over,
  };
}

function bad(over: Partial<RolloutOutcome> = {}): RolloutOutcome {
  return good({
    service: 'bad',
    truth: 'bad',
    expected: 'aborted',
    finalState: 'aborted',
    caughtIn: 'r1',
    finalVersions: { r1: OLD, r2: OLD, r3: OLD },
    ...over,
  });
}

function manual(service: string, region: string, at: number, version = OLD): LedgerEntry {
  seq += 1;
  return { seq, at, service, region, kind: 'manual', version, fromVersion: version === OLD ? NEW : OLD, idempotencyKey: '' };
}

const goodLedger = () => [entry('svc', 'deploy', 'r1', 100), entry('svc', 'deploy', 'r2', 200), entry('svc', 'deploy', 'r3', 300)];
const badLedger = () => [entry('bad', 'deploy', 'r1', 100), entry('bad', 'rollback', 'r1', 150)];

function rules(outcomes: RolloutOutcome[], ledger: LedgerEntry[]): Rule[] {
  return [...new Set(checkInvariants(outcomes, ledger).map((v) => v.rule))].sort();
}

describe('chaos invariants', () => {
  test('a clean run has no violations: a good rollout, a bad one caught and aborted, a retried bad one, migrations in order', () => {
    const retried = bad({ service: 'bad2', attempts: { r1: 2, r2: 0, r3: 0 } });
    const ledger = [
      ...goodLedger(),
      ...badLedger(),
      entry('bad2', 'deploy', 'r1', 100),
      entry('bad2', 'rollback', 'r1', 150),
      // The operator's retry: a second attempt of the same region, its own key.
      entry('bad2', 'deploy', 'r1', 200, 2),
      entry('bad2', 'rollback', 'r1', 250, 2),
    ];
    const migrated = good({
      migrationRuns: [
        { at: 50, name: 'a', phase: 'expand', direction: 'apply' },
        // At-least-once: a re-run is not a violation.
        { at: 60, name: 'a', phase: 'expand', direction: 'apply' },
        { at: 400, name: 'b', phase: 'contract', direction: 'apply' },
      ],
    });
    assert.deepEqual(checkInvariants([migrated, bad(), retried], ledger), []);
    assert.deepEqual(countByRule([]).verdict, 0);
  });

  test('verdict: ended otherwise than expected, never ended, or a good version halted on a breach', () => {
    assert.deepEqual(rules([good({ finalState: 'aborted' })], goodLedger()), ['verdict']);
    assert.deepEqual(rules([good({ finalState: undefined })], goodLedger()), ['verdict']);
    assert.deepEqual(rules([good({ falseBreaches: 1 })], goodLedger()), ['verdict']);
    assert.deepEqual(rules([bad({ finalState: 'succeeded' })], badLedger()), ['verdict']);
  });

  test('caught-first-region: a bad version caught later than its first region, or never', () => {
    assert.deepEqual(rules([bad({ caughtIn: 'r2' })], badLedger()), ['caught-first-region']);
    assert.deepEqual(rules([bad({ caughtIn: undefined })], badLedger()), ['caught-first-region']);
  });

  test('idempotency-key-reused: two ledger entries with one key', () => {
    const ledger = [...goodLedger(), entry('svc', 'deploy', 'r2', 250, 1, `rollout-svc:run-1:r2:${NEW}:deploy:1`)];
    assert.ok(rules([good()], ledger).includes('idempotency-key-reused'));
  });

  test('duplicate-deploy: a region and version deployed twice in one attempt (keys differing elsewhere)', () => {
    const ledger = [...goodLedger(), entry('svc', 'deploy', 'r3', 350, 1, `rollout-svc:run-1:r3:${NEW}:redeploy:1`)];
    // Two attempts counted, so only the keys can tell that both deploys claim attempt 1.
    const twoAttempts = good({ attempts: { r1: 1, r2: 1, r3: 2 } });
    assert.deepEqual(rules([twoAttempts], ledger), ['duplicate-deploy']);
    const counts = countByRule(checkInvariants([twoAttempts], ledger));
    assert.equal(counts['duplicate-deploy'], 1);
  });

  test('duplicate-deploy: more deploys of a region than the rollout made attempts, even under fresh keys', () => {
    const ledger = [...goodLedger(), entry('svc', 'deploy', 'r2', 250, 1, 'f3a1c2e0-random-key')];
    assert.deepEqual(rules([good({ attempts: { r1: 1, r2: 1, r3: 1 } })], ledger), ['duplicate-deploy']);
    // A retried region: two attempts, two deploys, no violation.
    assert.deepEqual(rules([good({ attempts: { r1: 1, r2: 2, r3: 1 } })], ledger), []);
  });

  test('deploy-after-failed-region: a later region deployed while an earlier one was rolled back', () => {
    const ledger = [
      entry('svc', 'deploy', 'r1', 100),
      entry('svc', 'rollback', 'r1', 150),
      entry('svc', 'deploy', 'r2', 200),
      entry('svc', 'deploy', 'r3', 300),
    ];
    assert.ok(rules([good({ finalVersions: { r1: OLD, r2: NEW, r3: NEW }, finalState: 'succeeded' })], ledger).includes('deploy-after-failed-region'));
    // A bad version past its first region, even with that region re-deployed first.
    const past = [...badLedger(), entry('bad', 'deploy', 'r1', 200, 2), entry('bad', 'deploy', 'r2', 300), entry('bad', 'rollback', 'r2', 350)];
    assert.ok(rules([bad({ finalVersions: { r1: NEW, r2: OLD, r3: OLD } })], past).includes('deploy-after-failed-region'));
    // Skipping a region: r2 deployed while r1 never was.
    assert.ok(rules([good()], [entry('svc', 'deploy', 'r2', 100)]).includes('deploy-after-failed-region'));
  });

  test('rollback-lost: an aborted or bad rollout leaves a region on the new version, a success leaves one on the old', () => {
    assert.deepEqual(rules([bad({ finalVersions: { r1: NEW, r2: OLD, r3: OLD } })], [entry('bad', 'deploy', 'r1', 100)]), ['rollback-lost']);
    const aborted = good({ expected: 'aborted', finalState: 'aborted', finalVersions: { r1: OLD, r2: NEW, r3: OLD } });
    assert.deepEqual(rules([aborted], [entry('svc', 'deploy', 'r1', 100), entry('svc', 'deploy', 'r2', 200), entry('svc', 'rollback', 'r1', 300)]), [
      'rollback-lost',
    ]);
    assert.deepEqual(rules([good({ finalVersions: { r1: NEW, r2: NEW, r3: undefined } })], goodLedger()), ['rollback-lost']);
  });

  test('workflow-task-failed: any WorkflowTaskFailed event', () => {
    assert.deepEqual(rules([good({ workflowTaskFailures: 2 })], goodLedger()), ['workflow-task-failed']);
  });

  test('migration-order: expand after the first deploy, contract before the last, none at all, or the wrong ones on abort', () => {
    const m = (runs: NonNullable<RolloutOutcome['migrationRuns']>, over: Partial<RolloutOutcome> = {}) => good({ migrationRuns: runs, ...over });
    const expand = { name: 'a', phase: 'expand', direction: 'apply' } as const;
    const contract = { name: 'b', phase: 'contract', direction: 'apply' } as const;
    const revert = { name: 'a', phase: 'expand', direction: 'revert' } as const;
    assert.deepEqual(
      rules(
        [
          m([
            { ...expand, at: 150 },
            { ...contract, at: 400 },
          ]),
        ],
        goodLedger(),
      ),
      ['migration-order'],
      'expand after the first deploy',
    );
    assert.deepEqual(
      rules(
        [
          m([
            { ...expand, at: 50 },
            { ...contract, at: 250 },
          ]),
        ],
        goodLedger(),
      ),
      ['migration-order'],
      'contract before the last deploy',
    );
    assert.deepEqual(rules([m([{ ...contract, at: 400 }])], goodLedger()), ['migration-order'], 'no expand');
    assert.deepEqual(rules([m([{ ...expand, at: 50 }])], goodLedger()), ['migration-order'], 'succeeded without contract');
    const abortLedger = [entry('svc', 'deploy', 'r1', 100), entry('svc', 'rollback', 'r1', 200)];
    const aborted = { expected: 'aborted', finalState: 'aborted', finalVersions: { r1: OLD, r2: OLD, r3: OLD } } as const;
    assert.deepEqual(
      rules(
        [
          m(
            [
              { ...expand, at: 50 },
              { ...revert, at: 300 },
            ],
            aborted,
          ),
        ],
        abortLedger,
      ),
      [],
      'a clean abort',
    );
    assert.deepEqual(rules([m([{ ...expand, at: 50 }], aborted)], abortLedger), ['migration-order'], 'no revert');
    assert.deepEqual(
      rules(
        [
          m(
            [
              { ...expand, at: 50 },
              { ...revert, at: 150 },
            ],
            aborted,
          ),
        ],
        abortLedger,
      ),
      ['migration-order'],
      'revert before the rollback',
    );
    assert.deepEqual(
      rules(
        [
          m(
            [
              { ...expand, at: 50 },
              { ...revert, at: 300 },
              { ...contract, at: 400 },
            ],
            aborted,
          ),
        ],
        abortLedger,
      ),
      ['migration-order'],
      'contract on an abort',
    );
  });

  test('promoted-not-running: a region the succeeded verdict calls promoted runs something else', () => {
    const promoted = { r1: 'promoted', r2: 'promoted', r3: 'promoted' };
    assert.deepEqual(rules([good({ finalRegionStatus: promoted })], goodLedger()), []);
    // A rollout that succeeded (as expected) while a region changed by hand went unread.
    const lied = good({ finalRegionStatus: promoted, finalVersions: { r1: NEW, r2: OLD, r3: NEW } });
    const found = rules([lied], [...goodLedger(), manual('svc', 'r2', 350)]);
    assert.ok(found.includes('promoted-not-running'), found.join());
  });

  test('rolled-back-running-new: a region the aborted verdict calls rolled back runs the new version', () => {
    const statuses = { r1: 'rolled-back', r2: 'pending', r3: 'pending' };
    assert.deepEqual(rules([bad({ finalRegionStatus: statuses })], badLedger()), []);
    // `rollout undo` run twice: the second rollback toggled the bad version back.
    const toggled = [...badLedger(), { ...entry('bad', 'rollback', 'r1', 180, 2), version: NEW, fromVersion: OLD }];
    const found = rules([bad({ finalRegionStatus: statuses, finalVersions: { r1: NEW, r2: OLD, r3: OLD } })], toggled);
    assert.ok(found.includes('rolled-back-running-new'), found.join());
    for (const finalState of ['rolled-back', 'aborted']) {
      const o = good({ expected: 'aborted', finalState, finalRegionStatus: statuses, finalVersions: { r1: NEW, r2: OLD, r3: OLD } });
      assert.ok(rules([o], badLedger()).includes('rolled-back-running-new'), finalState);
    }
  });

  test('past-point-of-no-return: a rollback or an expand revert after the first contract apply', () => {
    const runs = (extra: NonNullable<RolloutOutcome['migrationRuns']> = []) => [
      { at: 50, name: 'a', phase: 'expand', direction: 'apply' } as const,
      { at: 400, name: 'b', phase: 'contract', direction: 'apply' } as const,
      ...extra,
    ];
    assert.deepEqual(rules([good({ migrationRuns: runs() })], goodLedger()), []);
    const afterRollback = rules([good({ migrationRuns: runs() })], [...goodLedger(), entry('svc', 'rollback', 'r3', 450)]);
    assert.ok(afterRollback.includes('past-point-of-no-return'), afterRollback.join());
    const afterRevert = rules([good({ migrationRuns: runs([{ at: 500, name: 'a', phase: 'expand', direction: 'revert' }]) })], goodLedger());
    assert.deepEqual(afterRevert, ['past-point-of-no-return']);
    // A rollback before the contract (a retried region) is no violation of this rule.
    const retried = [entry('svc', 'deploy', 'r1', 100), entry('svc', 'rollback', 'r1', 120), entry('svc', 'deploy', 'r1', 140, 2), ...goodLedger().slice(1)];
    assert.deepEqual(rules([good({ migrationRuns: runs(), attempts: { r1: 2, r2: 1, r3: 1 } })], retried), []);
  });

  test('workflow-canceled: a workflow that closed as CANCELED instead of with its verdict', () => {
    assert.deepEqual(rules([good({ closeStatus: 'COMPLETED' })], goodLedger()), []);
    assert.deepEqual(rules([bad({ closeStatus: 'CANCELED' })], badLedger()), ['workflow-canceled']);
    assert.equal(countByRule(checkInvariants([bad({ closeStatus: 'CANCELED' })], badLedger()))['workflow-canceled'], 1);
  });

  test('manual changes are never counted as deploys of the rollout (keys, attempts, order, migrations)', () => {
    // r2 changed by hand to the old version during its soak, to the new one later, and the
    // rollout halted (not-running-version) and redeployed it on the operator's retry: attempt 2.
    const ledger = [
      entry('svc', 'deploy', 'r1', 100),
      entry('svc', 'deploy', 'r2', 200),
      manual('svc', 'r2', 220),
      manual('svc', 'r2', 230, NEW),
      manual('svc', 'r2', 240),
      entry('svc', 'deploy', 'r2', 260, 2),
      entry('svc', 'deploy', 'r3', 300),
      // By hand after the contract migration: not the rollout's touch.
      manual('svc', 'r1', 500, NEW),
    ];
    const o = good({
      attempts: { r1: 1, r2: 2, r3: 1 },
      migrationRuns: [
        { at: 50, name: 'a', phase: 'expand', direction: 'apply' },
        { at: 400, name: 'b', phase: 'contract', direction: 'apply' },
      ],
    });
    assert.deepEqual(checkInvariants([o], ledger), []);
    // The same changes as deploys break the rules a manual entry must not.
    const asDeploys = ledger.map((e) => (e.kind === 'manual' ? { ...e, kind: 'deploy' as const, idempotencyKey: '' } : e));
    const found = rules([o], asDeploys);
    for (const r of ['idempotency-key-reused', 'duplicate-deploy', 'migration-order'] as Rule[]) assert.ok(found.includes(r), `${r} in ${found.join()}`);
  });

  test('keys parse as operationKey() writes them', () => {
    assert.deepEqual(parseKey('rollout-a:run-9:eu-west-1:2.0.0:deploy:3'), { run: 'run-9', target: 'eu-west-1', version: '2.0.0', step: 'deploy', attempt: 3 });
    assert.equal(parseKey('not-a-key'), undefined);
  });
  test('time-untrue: a region recorded as deployed before its deploy landed, or promoted after the rollout ended, is flagged; true times pass', () => {
    const times = (r1: { deployedAt: number; promotedAt: number }) => ({
      r1,
      r2: { deployedAt: 200, promotedAt: 1300 },
      r3: { deployedAt: 300, promotedAt: 1400 },
    });
    const ok = good({ startedAt: 50, endedAt: 2000, regionTimes: times({ deployedAt: 100, promotedAt: 1100 }) });
    assert.deepEqual(rules([ok], goodLedger()), []);
    // A worker that took over ran with a time from before the deploy landed (item 6).
    const stale = good({ regionTimes: times({ deployedAt: 60, promotedAt: 1100 }) });
    assert.deepEqual(rules([stale], goodLedger()), ['time-untrue']);
    const afterEnd = good({ startedAt: 50, endedAt: 1200, regionTimes: times({ deployedAt: 100, promotedAt: 1100 }) });
    assert.deepEqual(rules([afterEnd], goodLedger()), ['time-untrue']);
  });
  test('compensation-unfinished: a closed rollout with a region still rolling back or rollback-failed is flagged', () => {
    const done = bad({ finalRegionStatus: { r1: 'rolled-back', r2: 'pending', r3: 'pending' } });
    assert.deepEqual(rules([done], badLedger()), []);
    const cut = bad({ finalRegionStatus: { r1: 'rollback-failed', r2: 'pending', r3: 'pending' } });
    assert.deepEqual(rules([cut], badLedger()), ['compensation-unfinished']);
  });
});

describe('the fleet policy through a chaos run', () => {
  // r2 limited to one rollout at a time, frozen from 1000 to 2000.
  const run = (log: PolicyRun['log'], leases = 0): PolicyRun => ({ region: 'r2', limit: 1, freeze: { from: 1000, until: 2000 }, log, leases });
  const grant = (id: string, at: number) => ({ at, action: 'grant', detail: `${id} (svc)` });
  const release = (id: string, at: number) => ({ at, action: 'release', detail: `${id} (r2)` });
  const expire = { at: 2000, action: 'expire', detail: 'F-1' };
  const deploy = (svc: string, at: number) => entry(svc, 'deploy', 'r2', at);
  const found = (r: PolicyRun, ledger: LedgerEntry[]) => [...new Set(checkPolicy(r, ledger).map((v) => v.rule))].sort();

  test('slots taken in turns outside the freeze, each deploy inside its slot: clean', () => {
    const log = [grant('rollout-a', 100), release('rollout-a', 900), expire, grant('rollout-b', 2100), release('rollout-b', 2900)];
    assert.deepEqual(found(run(log), [deploy('a', 300), deploy('b', 2400)]), []);
  });
  test('policy-deploy-frozen: a slot granted inside the freeze', () => {
    assert.deepEqual(found(run([grant('rollout-a', 1500), release('rollout-a', 1900), expire]), [deploy('a', 1600)]), ['policy-deploy-frozen']);
  });
  test('policy-over-limit: a second holder before the first gave its slot back', () => {
    const log = [grant('rollout-a', 100), grant('rollout-b', 200), release('rollout-a', 900), release('rollout-b', 950), expire];
    assert.deepEqual(found(run(log), [deploy('a', 300), deploy('b', 300)]), ['policy-over-limit']);
  });
  test('policy-deploy-without-slot: a deploy landing after its rollout gave its slot back, or with none', () => {
    const log = [grant('rollout-a', 100), release('rollout-a', 900), expire];
    assert.deepEqual(found(run(log), [deploy('a', 950)]), ['policy-deploy-without-slot']);
    assert.deepEqual(found(run(log), [deploy('c', 300)]), ['policy-deploy-without-slot']);
  });
  test('policy-lost: no policy at the end, slots still held, or a freeze that never ended', () => {
    assert.deepEqual(found(run(undefined), []), ['policy-lost']);
    assert.deepEqual(found(run([grant('rollout-a', 100), release('rollout-a', 900), expire], 1), [deploy('a', 300)]), ['policy-lost']);
    assert.deepEqual(found(run([grant('rollout-a', 100), release('rollout-a', 900)]), [deploy('a', 300)]), ['policy-lost']);
  });
});
