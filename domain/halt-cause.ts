// Why a rollout stopped, as data: the runbook section, the notifications, the review and
// the tests read the cause; `halt.reason` stays the sentence for people.
import type { CheckResult, GateResult } from './activity-contract';

export const HALT_KINDS = [
  /** A check breached while the region soaked (or waited for approval). */
  'slo-breach',
  /** The final gate failed. */
  'gate-failed',
  /** Too little evidence until the soak's maximum: the region keeps the version, held. */
  'inconclusive',
  /** The deploy failed for good. */
  'deploy-failed',
  /** The deployer says the region does not run the version (changed by hand, or never landed). */
  'not-running-version',
  /** A promoted region regressed later. */
  'late-regression',
  'rollback-failed',
  'migration-failed',
  'aborted',
  'quarantine-refused',
  'quarantine-check-failed',
  'invalid-plan',
] as const;
export type HaltKind = (typeof HALT_KINDS)[number];

export interface HaltCause {
  kind: HaltKind;
  region?: string;
  /** The check that decided, with what it measured. */
  check?: string;
  verdict?: CheckResult['verdict'];
  value?: number;
  comparator?: CheckResult['comparator'];
  threshold?: number;
  baseline?: number;
  /** The migration step, for migration-failed. */
  migration?: string;
  phase?: 'expand' | 'contract';
  /** The provider's or deployer's own words, bounded. */
  detail?: string;
}

const MAX_DETAIL = 512;
const bounded = (s: string) => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL - 1)}…` : s);

const RANK: Record<CheckResult['verdict'], number> = { fail: 0, error: 1, inconclusive: 2, pass: 3 };

/** The cause of a halt decided by a gate result: the worst check and its figures. */
export function causeFromGate(kind: HaltKind, region: string, gate?: GateResult): HaltCause {
  // A shadow check is never what decided: it is recorded, not acted on.
  const worst = gate?.checks.filter((c) => !c.shadow).sort((a, b) => RANK[a.verdict] - RANK[b.verdict])[0];
  if (!worst) return { kind, region };
  return {
    kind,
    region,
    check: worst.name,
    verdict: worst.verdict,
    ...(worst.value !== undefined ? { value: worst.value } : {}),
    comparator: worst.comparator,
    threshold: worst.threshold,
    ...(worst.baseline !== undefined ? { baseline: worst.baseline } : {}),
    detail: bounded(worst.detail),
  };
}

/** A cause with the words of an error (a deploy, a migration, a lookup). */
export function causeWithDetail(cause: HaltCause, detail: string): HaltCause {
  return { ...cause, detail: bounded(detail) };
}
