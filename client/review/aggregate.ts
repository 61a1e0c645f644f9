// The review's arithmetic: pure, over collected rollouts (client/review/collect.ts does the
// I/O), so the figures are tested on a recorded fixture without a server. Definitions of
// every figure: footnotes.ts and docs/review.md.
import { FOOTNOTES } from './footnotes';
import { holdsFromStatus, inferHolds, type HoldFacts } from './holds';
import {
  STAGES,
  VERDICTS,
  type CheckFigures,
  type ShadowFigures,
  type CollectedRollout,
  type DurationStat,
  type GroupFigures,
  type GrowthRow,
  type OverrideRow,
  type ReviewedStatus,
  type ReviewOptions,
  type ReviewReport,
  type Stage,
  type StaleHold,
  type Verdict,
} from './types';

/** What one rollout contributes, before grouping. */
interface RolloutFacts extends HoldFacts {
  verdict: Verdict;
  /** Index of the first region that caught a problem. */
  caughtAt?: number;
  stages: Record<Stage, number[]>;
  overrides: OverrideRow[];
  staleHolds: StaleHold[];
  reminders?: { sent: number; escalated: number };
  undeclaredGrowth: boolean;
}

const TERMINAL_VERDICTS = new Set<string>(['succeeded', 'rolled-back', 'aborted', 'failed']);

function verdictOf(c: CollectedRollout): Verdict {
  if (c.status && TERMINAL_VERDICTS.has(c.status.state)) return c.status.state as Verdict;
  if (c.execution === 'TERMINATED') return 'terminated';
  if (c.execution === 'TIMED_OUT') return 'timed-out';
  return 'no-status';
}

/** The region index that first caught a problem: failed gate or breach in its last result, or a regression. */
function caughtAt(s: ReviewedStatus): number | undefined {
  const hits: number[] = [];
  s.regions.forEach((r, i) => {
    if (r.lastGate?.verdict === 'fail' || r.regressedAt !== undefined) hits.push(i);
  });
  const cause = s.halt?.cause;
  if (cause && (cause.kind === 'slo-breach' || cause.kind === 'gate-failed' || cause.kind === 'late-regression') && cause.region) {
    const i = s.regions.findIndex((r) => r.name === cause.region);
    if (i >= 0) hits.push(i);
  }
  return hits.length ? Math.min(...hits) : undefined;
}

function factsOf(c: CollectedRollout, o: ReviewOptions): RolloutFacts {
  const verdict = verdictOf(c);
  const stages: Record<Stage, number[]> = { deploy: [], soak: [], hold: [], region: [], rollout: [] };
  const facts: RolloutFacts = {
    verdict,
    everHalted: false,
    pausedMs: 0,
    paused: false,
    haltedMs: 0,
    stages,
    overrides: [],
    staleHolds: [],
    undeclaredGrowth: false,
  };
  const s = c.status;
  if (!s) return facts;
  const end = s.endedAt ?? c.closedAt;
  const who = { service: c.service, version: c.version, workflowId: c.workflowId };
  const stale = (kind: StaleHold['kind'], from: number, to: number, open: boolean, region?: string) => {
    if (to - from > o.staleAfterMs)
      facts.staleHolds.push({ ...who, kind, ...(region ? { region } : {}), from, to, durationMs: to - from, endedWithRollout: open });
  };

  const caught = caughtAt(s);
  if (caught !== undefined) facts.caughtAt = caught;
  if (s.holds) holdsFromStatus(s, end, facts, stale);
  else inferHolds(s, end, facts, stale);

  // Stages of every promoted region, and the whole rollout.
  s.regions.forEach((r, i) => {
    const turn = i === 0 ? s.startedAt : s.regions[i - 1]!.promotedAt;
    if (r.status !== 'promoted' && r.promotedAt === undefined) return;
    if (turn === undefined || r.deployedAt === undefined || r.promotedAt === undefined) return;
    stages.deploy.push(r.deployedAt - turn);
    stages.region.push(r.promotedAt - turn);
    if (r.lastGate && r.lastGate.verdict === 'pass') {
      stages.soak.push(r.lastGate.at - r.deployedAt);
      stages.hold.push(r.promotedAt - r.lastGate.at);
      if (r.approvedBy && !s.holds) stale('approval', r.lastGate.at, r.promotedAt, false, r.name);
    }
  });
  stages.rollout.push(end - s.startedAt);

  for (const x of s.overrides ?? [])
    facts.overrides.push({
      ...who,
      kind: x.kind,
      by: x.by,
      reason: x.reason,
      at: x.at,
      ...(x.region ? { region: x.region } : {}),
      ...(x.detail ? { detail: x.detail } : {}),
    });
  if (s.reminders) facts.reminders = { sent: s.reminders.sent, escalated: s.reminders.escalated };
  facts.undeclaredGrowth = s.regions.length > 2 && !(s.growthDeclared ?? !!s.growthReason?.trim());
  return facts;
}

/** Mean and nearest-rank 95th percentile. */
export function durationStat(xs: number[]): DurationStat {
  if (!xs.length) return { n: 0 };
  const sorted = [...xs].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, meanMs: Math.round(mean), p95Ms: sorted[Math.ceil(0.95 * sorted.length) - 1]! };
}

function group(key: string, members: { c: CollectedRollout; f: RolloutFacts }[]): GroupFigures {
  const verdicts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const caughtAt: number[] = [];
  const stageValues: Record<Stage, number[]> = { deploy: [], soak: [], hold: [], region: [], rollout: [] };
  const g: GroupFigures = {
    key,
    rollouts: members.length,
    verdicts,
    rates: { ...verdicts },
    everHalted: 0,
    problems: 0,
    caughtAt,
    caughtInFirstRegion: 0,
    paused: { rollouts: 0, totalMs: 0 },
    halted: { rollouts: 0, totalMs: 0 },
    stages: {} as Record<Stage, DurationStat>,
    overrides: 0,
    staleHolds: 0,
    reminders: { rollouts: 0, sent: 0, escalated: 0 },
    undeclaredGrowth: 0,
  };
  for (const { f } of members) {
    verdicts[f.verdict] += 1;
    if (f.everHalted) g.everHalted += 1;
    if (f.caughtAt !== undefined) {
      g.problems += 1;
      while (caughtAt.length <= f.caughtAt) caughtAt.push(0);
      caughtAt[f.caughtAt]! += 1;
      if (f.caughtAt === 0) g.caughtInFirstRegion += 1;
    }
    if (f.paused) g.paused.rollouts += 1;
    g.paused.totalMs += f.pausedMs;
    if (f.everHalted) g.halted.rollouts += 1;
    g.halted.totalMs += f.haltedMs;
    for (const st of STAGES) stageValues[st].push(...f.stages[st]);
    g.overrides += f.overrides.length;
    g.staleHolds += f.staleHolds.length;
    if (f.reminders) {
      g.reminders.rollouts += 1;
      g.reminders.sent += f.reminders.sent;
      g.reminders.escalated += f.reminders.escalated;
    }
    if (f.undeclaredGrowth) g.undeclaredGrowth += 1;
  }
  for (const v of VERDICTS) g.rates[v] = members.length ? verdicts[v] / members.length : 0;
  if (g.problems) g.firstRegionRate = g.caughtInFirstRegion / g.problems;
  for (const st of STAGES) g.stages[st] = durationStat(stageValues[st]);
  return g;
}

function groupsBy(all: { c: CollectedRollout; f: RolloutFacts }[], key: (c: CollectedRollout) => string): GroupFigures[] {
  const by = new Map<string, { c: CollectedRollout; f: RolloutFacts }[]>();
  for (const x of all) {
    const k = key(x.c);
    let list = by.get(k);
    if (!list) by.set(k, (list = []));
    list.push(x);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, xs]) => group(k, xs));
}

function checkFigures(rollouts: CollectedRollout[]): CheckFigures[] {
  const by = new Map<string, CheckFigures>();
  const of = (name: string) => {
    let c = by.get(name);
    if (!c) by.set(name, (c = { name, seen: 0, evaluated: 0, failed: 0 }));
    return c;
  };
  for (const { status: s } of rollouts) {
    if (!s) continue;
    for (const r of s.regions)
      for (const check of r.lastGate?.checks ?? []) {
        const c = of(check.name);
        c.seen += 1;
        if (check.verdict === 'pass' || check.verdict === 'fail') c.evaluated += 1;
        if (check.verdict === 'fail') c.failed += 1;
      }
    // The deciding check of a halt whose region's result was replaced by a retry.
    const cause = s.halt?.cause;
    if (cause?.check && cause.verdict === 'fail') {
      const region = s.regions.find((r) => r.name === cause.region);
      if (!region?.lastGate?.checks.some((x) => x.name === cause.check && x.verdict === 'fail')) {
        const c = of(cause.check);
        c.seen += 1;
        c.evaluated += 1;
        c.failed += 1;
      }
    }
  }
  return [...by.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Each shadow check's verdicts beside the verdict of the gate it sat in (each region's last gate result). */
function shadowFigures(rollouts: CollectedRollout[]): ShadowFigures[] {
  const by = new Map<string, ShadowFigures>();
  const conclusive = (v: string) => v === 'pass' || v === 'fail';
  for (const { status: s } of rollouts)
    for (const r of s?.regions ?? [])
      for (const check of r.lastGate?.checks ?? []) {
        if (!check.shadow) continue;
        let f = by.get(check.name);
        if (!f) by.set(check.name, (f = { name: check.name, compared: 0, agreed: 0, wouldFail: 0, wouldPass: 0, undecided: 0 }));
        const gate = r.lastGate!.verdict;
        if (!conclusive(check.verdict) || !conclusive(gate)) f.undecided += 1;
        else {
          f.compared += 1;
          if (check.verdict === gate) f.agreed += 1;
          else if (check.verdict === 'fail') f.wouldFail += 1;
          else f.wouldPass += 1;
        }
      }
  return [...by.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The quarterly review of finished rollouts: pure arithmetic over what collect.ts gathered. */
export function aggregate(collected: CollectedRollout[], o: ReviewOptions): ReviewReport {
  const rollouts = collected.filter(
    (c) =>
      c.closedAt >= o.since && c.closedAt < o.until && (o.service === undefined || c.service === o.service) && (o.owner === undefined || c.owner === o.owner),
  );
  const all = rollouts.map((c) => ({ c, f: factsOf(c, o) }));
  const checks = checkFigures(rollouts);
  return {
    window: { since: o.since, until: o.until, staleAfterMs: o.staleAfterMs },
    filter: { ...(o.service !== undefined ? { service: o.service } : {}), ...(o.owner !== undefined ? { owner: o.owner } : {}) },
    total: group('all', all),
    byService: groupsBy(all, (c) => c.service),
    byOwner: groupsBy(all, (c) => c.owner),
    overrides: all.flatMap((x) => x.f.overrides).sort((a, b) => a.at - b.at),
    checks,
    checksNeverFailed: checks.filter((c) => c.evaluated > 0 && c.failed === 0).map((c) => c.name),
    checksNeverEvaluated: checks.filter((c) => c.evaluated === 0).map((c) => c.name),
    shadow: shadowFigures(rollouts),
    staleHolds: all.flatMap((x) => x.f.staleHolds).sort((a, b) => b.durationMs - a.durationMs),
    undeclaredGrowth: all
      .filter((x) => x.f.undeclaredGrowth)
      .map(({ c }): GrowthRow => ({ service: c.service, version: c.version, workflowId: c.workflowId, regions: c.status!.regions.length })),
    footnotes: { ...FOOTNOTES },
  };
}
