// What the review reads (one finished rollout as visibility and its close event tell it)
// and what it reports. Plain JSON both ways: the collected rollouts are the recorded
// fixture of test/fixtures/review, the report is `mrcd review --format json`.
import type { CheckResult, Verdict as CheckVerdict } from '../../domain/activity-contract';
import type { HaltCause } from '../../domain/halt-cause';
import type { RegionState, RolloutStatus } from '../../domain/state';

/** What the review reads of a region: a full status has it, and so does a review memo (domain/review-memo.ts). */
export type ReviewedRegion = Pick<RegionState, 'name' | 'status' | 'deployedAt' | 'promotedAt' | 'regressedAt' | 'approvedBy'> & {
  lastGate?: { verdict: CheckVerdict; at: number; checks: Pick<CheckResult, 'name' | 'verdict' | 'shadow'>[] };
};

/**
 * What the review reads of a final status: the fields a full status has (from a close
 * event) and a review memo carries. Older rollouts lack some fields; a memo lacks the free
 * text (overrides are read from the close event when there are any).
 */
export type ReviewedStatus = Pick<RolloutStatus, 'state' | 'startedAt' | 'endedAt' | 'holds' | 'hold' | 'overrides'> & {
  service?: string;
  version?: string;
  owner?: { team: string };
  halt?: { at: number; region?: string; cause?: Pick<HaltCause, 'kind' | 'region' | 'check' | 'verdict'> };
  regions: ReviewedRegion[];
  /** Absent in a memo: a rollout that writes one records its holds exactly. */
  actions?: RolloutStatus['actions'];
  reminders?: { sent: number; escalated: number };
  growthReason?: string;
  /** From a memo: whether the plan gave a growth reason (the reason itself is free text). */
  growthDeclared?: boolean;
};

/** One finished rollout: its last run as visibility lists it, and its final status if it wrote one. */
export interface CollectedRollout {
  workflowId: string;
  runId: string;
  service: string;
  owner: string;
  version: string;
  /** Temporal's status of the execution: COMPLETED, FAILED, TERMINATED, TIMED_OUT, CANCELLED. */
  execution: string;
  /** The last run's start (a continued-as-new rollout started earlier: see status.startedAt). */
  runStartedAt: number;
  closedAt: number;
  /** The final status from the close event; absent when Temporal ended it (terminated, timed out) or it wrote none. */
  status?: ReviewedStatus;
}

export interface ReviewOptions {
  since: number;
  until: number;
  /** A pause, halt or approval wait longer than this is a stale hold. */
  staleAfterMs: number;
  service?: string;
  owner?: string;
}

/** Verdicts: the rollout's own final state, or what Temporal says when it wrote none. */
export const VERDICTS = ['succeeded', 'rolled-back', 'aborted', 'failed', 'terminated', 'timed-out', 'no-status'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Count, mean and 95th percentile (nearest rank) of durations in ms; mean and p95 absent when n = 0. */
export interface DurationStat {
  n: number;
  meanMs?: number;
  p95Ms?: number;
}

export const STAGES = ['deploy', 'soak', 'hold', 'region', 'rollout'] as const;
export type Stage = (typeof STAGES)[number];

/** The figures of one group of rollouts (all, one service, one owner). */
export interface GroupFigures {
  key: string;
  rollouts: number;
  verdicts: Record<Verdict, number>;
  /** Verdict counts divided by rollouts, 0..1. */
  rates: Record<Verdict, number>;
  everHalted: number;
  /** Rollouts in which a region failed its gate, breached or regressed. */
  problems: number;
  /** caughtAt[i]: problems first caught in the rollout's region i (0 = first, smallest). */
  caughtAt: number[];
  caughtInFirstRegion: number;
  /** caughtInFirstRegion / problems; absent without problems. */
  firstRegionRate?: number;
  paused: { rollouts: number; totalMs: number };
  halted: { rollouts: number; totalMs: number };
  stages: Record<Stage, DurationStat>;
  overrides: number;
  staleHolds: number;
  reminders: { rollouts: number; sent: number; escalated: number };
  undeclaredGrowth: number;
}

export interface OverrideRow {
  service: string;
  version: string;
  workflowId: string;
  kind: string;
  by: string;
  reason: string;
  at: number;
  region?: string;
  detail?: string;
}

export interface CheckFigures {
  name: string;
  /** Region gate results that listed the check. */
  seen: number;
  /** Of those, pass or fail (a measured value against its threshold). */
  evaluated: number;
  failed: number;
}

/** A shadow check against the gate it sat in: how its verdicts agreed with the ones acted on. */
export interface ShadowFigures {
  name: string;
  /** Gate results where both the shadow check and the gate were conclusive (pass or fail). */
  compared: number;
  agreed: number;
  /** The shadow check failed where the gate passed: it would have rolled back. */
  wouldFail: number;
  /** The shadow check passed where the gate failed: it would have let the region through. */
  wouldPass: number;
  /** The shadow check or the gate was inconclusive or an error. */
  undecided: number;
}

export interface StaleHold {
  service: string;
  version: string;
  workflowId: string;
  kind: 'pause' | 'halt' | 'approval';
  region?: string;
  from: number;
  to: number;
  durationMs: number;
  /** The hold had not ended when the rollout did. */
  endedWithRollout: boolean;
}

export interface GrowthRow {
  service: string;
  version: string;
  workflowId: string;
  regions: number;
}

export interface ReviewReport {
  window: { since: number; until: number; staleAfterMs: number };
  filter: { service?: string; owner?: string };
  total: GroupFigures;
  byService: GroupFigures[];
  byOwner: GroupFigures[];
  overrides: OverrideRow[];
  checks: CheckFigures[];
  checksNeverFailed: string[];
  checksNeverEvaluated: string[];
  shadow: ShadowFigures[];
  staleHolds: StaleHold[];
  undeclaredGrowth: GrowthRow[];
  /** Each figure's definition, by the name the tables use. */
  footnotes: Record<string, string>;
}
