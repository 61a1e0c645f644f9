// What a rollout writes to its memo when it ends, for `mrcd review`: the figures of its
// status the review counts, in a bounded shape, so one paged visibility query reads a
// quarter of rollouts without a close event each (docs/review.md, docs/architecture.md
// "The review from visibility"). Only figures, names from the plan and times: memo is not
// encrypted by the payload codec, so no free text (reasons, who, provider messages) goes in.
import type { Verdict } from './activity-contract';
import type { HaltKind } from './halt-cause';
import type { EndedHold, HoldInfo, RegionStatus, RolloutState, RolloutStatus } from './state';

/** The memo field a rollout's review figures are written under. */
export const REVIEW_MEMO_KEY = 'mrcdReview';

/** Checks kept per region's last gate: a plan has a handful; a bound keeps the memo small whatever it has. */
export const MAX_MEMO_CHECKS = 20;

/** One check of a region's last gate: name, verdict, and 1 when it was a shadow check. */
export type MemoCheck = [name: string, verdict: Verdict, shadow?: 1];

export interface MemoRegion {
  name: string;
  status: RegionStatus;
  deployedAt?: number;
  promotedAt?: number;
  regressedAt?: number;
  gate?: { verdict: Verdict; at: number; checks: MemoCheck[] };
}

export interface ReviewMemo {
  /** The memo's shape: readers skip one they do not know and read the close event instead. */
  v: 1;
  state: RolloutState;
  /** The rollout's start (before any continue-as-new), and its end. */
  startedAt: number;
  endedAt?: number;
  halt?: { at: number; region?: string; cause?: { kind: HaltKind; region?: string; check?: string; verdict?: Verdict } };
  /** Ended holds (bounded in status by MAX_RECORDED_HOLDS), and one still open at the end. */
  holds: Omit<EndedHold, 'escalatedAt'>[];
  hold?: Omit<HoldInfo, 'escalatedAt'>;
  regions: MemoRegion[];
  /** How many overrides were used: their reasons are free text, read from the close event when there are any. */
  overrides: number;
  reminders?: { sent: number; escalated: number };
  growthDeclared: boolean;
}

const holdOf = <H extends HoldInfo>(h: H) => {
  const { escalatedAt: _dropped, ...rest } = h;
  return rest;
};

/** The review figures of a finished rollout's status (pure: the workflow calls it). */
export function reviewMemoOf(s: RolloutStatus): ReviewMemo {
  const cause = s.halt?.cause;
  return {
    v: 1,
    state: s.state,
    startedAt: s.startedAt,
    ...(s.endedAt !== undefined ? { endedAt: s.endedAt } : {}),
    ...(s.halt
      ? {
          halt: {
            at: s.halt.at,
            ...(s.halt.region !== undefined ? { region: s.halt.region } : {}),
            ...(cause
              ? {
                  cause: {
                    kind: cause.kind,
                    ...(cause.region !== undefined ? { region: cause.region } : {}),
                    ...(cause.check !== undefined ? { check: cause.check } : {}),
                    ...(cause.verdict !== undefined ? { verdict: cause.verdict } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    holds: (s.holds ?? []).map(holdOf),
    ...(s.hold ? { hold: holdOf(s.hold) } : {}),
    regions: s.regions.map((r) => ({
      name: r.name,
      status: r.status,
      ...(r.deployedAt !== undefined ? { deployedAt: r.deployedAt } : {}),
      ...(r.promotedAt !== undefined ? { promotedAt: r.promotedAt } : {}),
      ...(r.regressedAt !== undefined ? { regressedAt: r.regressedAt } : {}),
      ...(r.lastGate
        ? {
            gate: {
              verdict: r.lastGate.verdict,
              at: r.lastGate.at,
              checks: r.lastGate.checks.slice(0, MAX_MEMO_CHECKS).map((c): MemoCheck => (c.shadow ? [c.name, c.verdict, 1] : [c.name, c.verdict])),
            },
          }
        : {}),
    })),
    overrides: s.overrides?.length ?? 0,
    ...(s.reminders ? { reminders: { sent: s.reminders.sent, escalated: s.reminders.escalated } } : {}),
    growthDeclared: (s.growthReason ?? '').trim() !== '',
  };
}

/** A memo value as one this code can read, or undefined (absent, another shape, or a newer version). */
export function readReviewMemo(value: unknown): ReviewMemo | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const m = value as Partial<ReviewMemo>;
  return m.v === 1 && typeof m.state === 'string' && typeof m.startedAt === 'number' && Array.isArray(m.regions) && Array.isArray(m.holds)
    ? (m as ReviewMemo)
    : undefined;
}
