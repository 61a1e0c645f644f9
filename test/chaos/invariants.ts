// The chaos run's judgement, pure: what the simulator's ledger, the final statuses, the
// migration logs and the histories say, against what each rollout should have done. No
// I/O here, so test/unit/chaos-invariants.test.ts can hand it ledgers that break each rule.
import type { LedgerEntry } from '../../dev/simulator';

export type Verdict = 'succeeded' | 'aborted';

export interface MigrationRun {
  at: number;
  name: string;
  phase: 'expand' | 'contract';
  direction: 'apply' | 'revert';
}

export interface RolloutOutcome {
  service: string;
  truth: 'good' | 'bad';
  /** In plan order. */
  regions: string[];
  oldVersion: string;
  newVersion: string;
  /** What the rollout must end as, given its truth and the operator actions that took effect. */
  expected: Verdict;
  /** The state it ended in (undefined: it never ended). */
  finalState?: string;
  /** Bad versions: the region of the first halt caused by an SLO breach. */
  caughtIn?: string;
  /** SLO-breach halts of a good version: a false alarm. */
  falseBreaches: number;
  /** What each region runs at the end (sim.versionOf). */
  finalVersions: Record<string, string | undefined>;
  workflowTaskFailures: number;
  /** Each region's deploy attempts as the rollout's final status counts them (RegionState.attempts). */
  attempts?: Record<string, number>;
  /** Undefined: the plan has no migrations. */
  migrationRuns?: MigrationRun[];
  /** Each region's status in the rollout's final status (RegionState.status): what the verdict claims of it. */
  finalRegionStatus?: Record<string, string>;
  /** How Temporal closed the workflow (describe().status.name: COMPLETED, CANCELED, FAILED...). */
  closeStatus?: string;
  /** What the final status recorded per region (epoch ms, the workflow's times). */
  regionTimes?: Record<string, { deployedAt?: number; promotedAt?: number }>;
  /** The rollout's own start and end as its final status records them. */
  startedAt?: number;
  endedAt?: number;
}

export type Rule =
  | 'verdict'
  | 'caught-first-region'
  | 'idempotency-key-reused'
  | 'duplicate-deploy'
  | 'deploy-after-failed-region'
  | 'rollback-lost'
  | 'workflow-task-failed'
  | 'migration-order'
  | 'promoted-not-running'
  | 'rolled-back-running-new'
  | 'past-point-of-no-return'
  | 'workflow-canceled'
  | 'compensation-unfinished'
  | 'time-untrue'
  | 'policy-deploy-frozen'
  | 'policy-over-limit'
  | 'policy-deploy-without-slot'
  | 'policy-lost';

export interface Violation {
  rule: Rule;
  service?: string;
  detail: string;
}

/** Parses operationKey(): workflowId:rolloutRunId:target:version:step:attempt. */
export function parseKey(key: string): { run: string; target: string; version: string; step: string; attempt: number } | undefined {
  const parts = key.split(':');
  if (parts.length !== 6) return undefined;
  const [, run, target, version, step, attempt] = parts as [string, string, string, string, string, string];
  const n = Number(attempt);
  return Number.isInteger(n) ? { run, target, version, step, attempt: n } : undefined;
}

export function checkInvariants(outcomes: RolloutOutcome[], ledger: LedgerEntry[]): Violation[] {
  const out: Violation[] = [];

  // Idempotency keys honoured: the simulator records an operation once per key.
  // A change made by hand (kind 'manual') is no operation of a rollout and has no key.
  const byKey = new Map<string, LedgerEntry[]>();
  for (const e of ledger.filter((x) => x.kind !== 'manual')) byKey.set(e.idempotencyKey, [...(byKey.get(e.idempotencyKey) ?? []), e]);
  for (const [key, es] of byKey) {
    if (es.length > 1) out.push({ rule: 'idempotency-key-reused', service: es[0]!.service, detail: `${es.length} ledger entries for key ${key}` });
  }

  for (const o of outcomes) {
    const mine = ledger.filter((e) => e.service === o.service).sort((a, b) => a.seq - b.seq);
    const v = (detail: string, rule: Rule) => out.push({ rule, service: o.service, detail });

    if (o.finalState !== o.expected) v(`ended ${o.finalState ?? 'never (still running)'}, expected ${o.expected}`, 'verdict');
    if (o.falseBreaches > 0) v(`a good version halted on an SLO breach ${o.falseBreaches} time(s)`, 'verdict');
    if (o.truth === 'bad' && o.caughtIn !== o.regions[0])
      v(`bad version caught in ${o.caughtIn ?? 'no region'}, not in ${o.regions[0]}`, 'caught-first-region');
    if (o.truth === 'bad') {
      const beyond = mine.filter((e) => e.kind === 'deploy' && e.region !== o.regions[0]);
      if (beyond.length) v(`bad version deployed past its first region: ${beyond.map((e) => e.region).join(', ')}`, 'deploy-after-failed-region');
    }

    // Once per attempt: two deploys of one region and version in the same attempt of one rollout.
    const perAttempt = new Map<string, number>();
    for (const e of mine.filter((x) => x.kind === 'deploy')) {
      const k = parseKey(e.idempotencyKey);
      const id = `${k?.run ?? '?'}/${e.region}/${e.version}/${k?.attempt ?? e.idempotencyKey}`;
      perAttempt.set(id, (perAttempt.get(id) ?? 0) + 1);
    }
    for (const [id, n] of perAttempt) if (n > 1) v(`${id} deployed ${n} times in one attempt`, 'duplicate-deploy');
    // The same, whatever the keys say: never more deploys of a region than the rollout made attempts at it.
    if (o.attempts) {
      for (const r of o.regions) {
        const n = mine.filter((e) => e.kind === 'deploy' && e.region === r && e.version === o.newVersion).length;
        if (n > (o.attempts[r] ?? 0)) v(`${r} deployed ${n} times in ${o.attempts[r] ?? 0} attempt(s)`, 'duplicate-deploy');
      }
    }

    // No region after a failed one: replaying the ledger, a region is deployed only while every
    // earlier region runs the new version (a failed region is rolled back before anything goes on).
    // A change by hand is not a failed region: the rollout finds it by reading the region
    // (the read before success at the latest) and redeploys, so the replay leaves it out.
    const running = new Map(o.regions.map((r) => [r, o.oldVersion]));
    for (const e of mine.filter((x) => x.kind !== 'manual')) {
      const i = o.regions.indexOf(e.region);
      if (e.kind === 'deploy' && e.version === o.newVersion) {
        const behind = o.regions.slice(0, Math.max(i, 0)).filter((r) => running.get(r) !== o.newVersion);
        if (behind.length) v(`${e.region} deployed (ledger #${e.seq}) while ${behind.join(', ')} did not run ${o.newVersion}`, 'deploy-after-failed-region');
      }
      running.set(e.region, e.version);
    }

    // No rollback lost: the end state every region must be in.
    const want = o.expected === 'succeeded' ? o.newVersion : o.oldVersion;
    for (const r of o.regions) {
      if (o.finalVersions[r] !== want) v(`${r} runs ${o.finalVersions[r] ?? 'nothing'} at the end, expected ${want}`, 'rollback-lost');
    }

    // What the verdict says of each region is true of the fleet: a region a succeeded rollout
    // calls promoted runs the new version, one an aborted or rolled-back rollout calls rolled
    // back does not (a rollback toggled back by `rollout undo`, or a region changed by hand
    // and not read again, would make the status lie).
    for (const r of o.regions) {
      const said = o.finalRegionStatus?.[r];
      if (o.finalState === 'succeeded' && said === 'promoted' && o.finalVersions[r] !== o.newVersion)
        v(`${r} is promoted in the succeeded verdict but runs ${o.finalVersions[r] ?? 'nothing'}`, 'promoted-not-running');
      if ((o.finalState === 'aborted' || o.finalState === 'rolled-back') && said === 'rolled-back' && o.finalVersions[r] === o.newVersion)
        v(`${r} is rolled-back in the ${o.finalState} verdict but runs ${o.newVersion}`, 'rolled-back-running-new');
    }

    // The point of no return: once the first contract migration ran, nothing is undone.
    const contractAt = (o.migrationRuns ?? []).filter((r) => r.phase === 'contract' && r.direction === 'apply').map((r) => r.at);
    if (contractAt.length) {
      const first = Math.min(...contractAt);
      const late = mine.filter((e) => e.kind === 'rollback' && e.at > first);
      if (late.length)
        v(`rollback of ${late.map((e) => `${e.region} (ledger #${e.seq})`).join(', ')} after the first contract migration`, 'past-point-of-no-return');
      const reverts = (o.migrationRuns ?? []).filter((r) => r.phase === 'expand' && r.direction === 'revert' && r.at > first);
      if (reverts.length) v(`${reverts.length} expand revert(s) after the first contract migration`, 'past-point-of-no-return');
    }

    // Recorded times are true and in order, whichever worker ran each task: a region is
    // deployed no earlier than its deploy landed (the simulator's clock), all within the
    // rollout's life.
    if (o.regionTimes) checkTimes(o, mine, v);

    // A workflow cancel is an abort by the action table: the workflow ends with its verdict.
    if (o.closeStatus === 'CANCELED') v('the workflow closed as CANCELED, not with a verdict', 'workflow-canceled');
    // A closed rollout left no compensation half done: no region still rolling back or failed to.
    const unfinished = o.regions.filter((r) => o.finalRegionStatus?.[r] === 'rolling-back' || o.finalRegionStatus?.[r] === 'rollback-failed');
    if (o.finalState !== undefined && unfinished.length)
      v(`ended ${o.finalState} with ${unfinished.join(', ')} still ${unfinished.map((r) => o.finalRegionStatus![r]).join(', ')}`, 'compensation-unfinished');

    if (o.workflowTaskFailures > 0) v(`${o.workflowTaskFailures} WorkflowTaskFailed event(s) in the history`, 'workflow-task-failed');

    if (o.migrationRuns) checkMigrations(o, mine, v);
  }
  return out;
}

/** What the run asked of the fleet policy, and the policy as read at the end (undefined: it could not be read). */
export interface PolicyRun {
  region: string;
  limit: number;
  freeze: { from: number; until: number };
  /** The policy's log at the end, oldest first: slots granted and given back, the freeze's expiry. */
  log?: { at: number; action: string; detail?: string }[];
  /** Slots still held at the end (every rollout ended: none). */
  leases?: number;
}

/**
 * The fleet policy held through the run: a slot of the limited region is granted only
 * outside the freeze, never more than the limit hold one at once (the policy's log replayed),
 * every deploy that landed there landed while its rollout held a slot (the simulator's
 * ledger), and the policy was still there at the end, with nothing held.
 */
export function checkPolicy(run: PolicyRun, ledger: LedgerEntry[]): Violation[] {
  const out: Violation[] = [];
  if (!run.log) return [{ rule: 'policy-lost', detail: 'the fleet policy could not be read at the end of the run' }];
  if (run.leases) out.push({ rule: 'policy-lost', detail: `${run.leases} slot(s) still held after every rollout ended` });
  if (!run.log.some((e) => e.action === 'expire')) out.push({ rule: 'policy-lost', detail: 'the freeze never ended by itself' });
  const rolloutOf = (detail = '') => detail.split(' ')[0]!;
  const holders = new Map<string, number[]>(); // rollout → [since]
  const intervals = new Map<string, { from: number; to: number }[]>();
  for (const e of run.log) {
    const id = rolloutOf(e.detail);
    if (e.action === 'grant') {
      if (e.at >= run.freeze.from && e.at < run.freeze.until)
        out.push({ rule: 'policy-deploy-frozen', service: id, detail: `a slot of ${run.region} granted at ${e.at}, inside the freeze` });
      holders.set(id, [e.at]);
      if (holders.size > run.limit)
        out.push({ rule: 'policy-over-limit', detail: `${holders.size} rollouts held a slot of ${run.region} at ${e.at} (limit ${run.limit})` });
    } else if ((e.action === 'release' || e.action === 'reclaim') && (e.detail ?? '').includes(`(${run.region}`)) {
      const since = holders.get(id);
      if (since) intervals.set(id, [...(intervals.get(id) ?? []), { from: since[0]!, to: e.at }]);
      holders.delete(id);
    }
  }
  for (const [id, since] of holders) intervals.set(id, [...(intervals.get(id) ?? []), { from: since[0]!, to: Infinity }]);
  // The log keeps the newest 500 changes: deploys older than its first record are not judged.
  const first = run.log[0]?.at ?? Infinity;
  for (const e of ledger.filter((x) => x.kind === 'deploy' && x.region === run.region && x.at > first)) {
    const id = e.idempotencyKey.split(':')[0]!;
    if (!(intervals.get(id) ?? []).some((i) => e.at >= i.from && e.at <= i.to))
      out.push({ rule: 'policy-deploy-without-slot', service: e.service, detail: `${e.region} deployed (ledger #${e.seq}) while ${id} held no slot there` });
  }
  return out;
}

/** At-least-once runs are fine; order is not negotiable. */
function checkTimes(o: RolloutOutcome, mine: LedgerEntry[], v: (d: string, rule: Rule) => void): void {
  for (const r of o.regions) {
    const t = o.regionTimes?.[r];
    if (!t || t.promotedAt === undefined || t.deployedAt === undefined) continue;
    const landed = mine.filter((e) => e.kind === 'deploy' && e.region === r && e.version === o.newVersion && e.at <= t.promotedAt!).map((e) => e.at);
    const last = landed.length ? Math.max(...landed) : undefined;
    if (last !== undefined && t.deployedAt < last) v(`${r}: deployedAt ${last - t.deployedAt} ms before its deploy landed`, 'time-untrue');
    // Not judged here yet: a whole soak between deployedAt and promotedAt. A bounded run (seed
    // 1373656604) saw a region promoted 12 ms after its recorded deployedAt, unexplained so far;
    // failover-times.test.ts asserts the soak's length where it is controlled.
    if (o.startedAt !== undefined && t.deployedAt < o.startedAt) v(`${r}: deployed before the rollout started`, 'time-untrue');
    if (o.endedAt !== undefined && t.promotedAt > o.endedAt) v(`${r}: promoted after the rollout ended`, 'time-untrue');
  }
}

function checkMigrations(o: RolloutOutcome, mine: LedgerEntry[], v: (d: string, r: Rule) => void): void {
  const runs = o.migrationRuns!;
  const of = (phase: string, direction: string) => runs.filter((r) => r.phase === phase && r.direction === direction).map((r) => r.at);
  const expandApply = of('expand', 'apply');
  const contractApply = of('contract', 'apply');
  const expandRevert = of('expand', 'revert');
  const deploys = mine.filter((e) => e.kind === 'deploy').map((e) => e.at);
  // Changes by hand are not the rollout's.
  const touches = mine.filter((e) => e.kind !== 'manual').map((e) => e.at);
  if (deploys.length && !expandApply.length) v('regions deployed without the expand migration', 'migration-order');
  if (deploys.length && expandApply.length && Math.max(...expandApply) >= Math.min(...deploys))
    v('an expand migration ran after the first region was deployed', 'migration-order');
  if (o.expected === 'succeeded' && o.finalState === 'succeeded' && !contractApply.length) v('succeeded without its contract migration', 'migration-order');
  if (contractApply.length && touches.length && Math.min(...contractApply) <= Math.max(...touches))
    v('a contract migration ran before the last region was deployed or rolled back', 'migration-order');
  if (o.expected === 'aborted' && contractApply.length) v('an aborted rollout ran its contract migration', 'migration-order');
  if (o.expected === 'aborted' && o.finalState === 'aborted' && expandApply.length && !expandRevert.length)
    v('aborted without reverting its expand migration', 'migration-order');
  const rollbacks = mine.filter((e) => e.kind === 'rollback').map((e) => e.at);
  if (expandRevert.length && rollbacks.length && Math.min(...expandRevert) <= Math.max(...rollbacks))
    v('the expand migration was reverted before every region was rolled back', 'migration-order');
}

/** Violations counted by rule, every rule present (0 when clean), for the figures. */
export function countByRule(vs: Violation[]): Record<Rule, number> {
  const rules: Rule[] = [
    'verdict',
    'caught-first-region',
    'idempotency-key-reused',
    'duplicate-deploy',
    'deploy-after-failed-region',
    'rollback-lost',
    'workflow-task-failed',
    'migration-order',
    'promoted-not-running',
    'rolled-back-running-new',
    'past-point-of-no-return',
    'workflow-canceled',
    'compensation-unfinished',
    'time-untrue',
    'policy-deploy-frozen',
    'policy-over-limit',
    'policy-deploy-without-slot',
    'policy-lost',
  ];
  const c = Object.fromEntries(rules.map((r) => [r, 0])) as Record<Rule, number>;
  for (const x of vs) c[x.rule] += 1;
  return c;
}
