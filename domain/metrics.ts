// The rollout metrics as data: each one's name, kind, tags and meaning, and the buckets of
// the histograms. One list for the code that emits them (workflows/rollout/metrics.ts in
// the workflow, activities/final-gate.ts for gates), the worker's Prometheus exporter
// (bucket boundaries) and docs/operations.md ("Metrics"), which a test holds to it.
// Tags stay bounded: a service, a state, a verdict, a kind. Never a rollout id or a version:
// a series per rollout would grow Prometheus without bound.

export interface MetricDefinition {
  /** The name the meter is given; Prometheus shows counters with `_total` appended. */
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  tags: readonly string[];
  help: string;
}

export const ROLLOUT_METRICS = {
  rolloutsStarted: {
    name: 'mrcd_rollouts_started',
    kind: 'counter',
    tags: ['service'],
    help: 'Rollouts started (a continued run, after continue-as-new, is the same rollout and not counted again).',
  },
  rolloutsEnded: {
    name: 'mrcd_rollouts_ended',
    kind: 'counter',
    tags: ['service', 'verdict'],
    help: 'Rollouts ended, by verdict: succeeded, rolled-back, aborted or failed.',
  },
  stateTransitions: {
    name: 'mrcd_rollout_state_transitions',
    kind: 'counter',
    tags: ['service', 'state'],
    help: 'Times a rollout entered a state (the state entered; a start enters running).',
  },
  regionsPromoted: {
    name: 'mrcd_regions_promoted',
    kind: 'counter',
    tags: ['service'],
    help: 'Regions promoted (a region promoted again after a retry counts again).',
  },
  regionsRolledBack: {
    name: 'mrcd_regions_rolled_back',
    kind: 'counter',
    tags: ['service'],
    help: 'Region rollbacks that completed.',
  },
  gateVerdicts: {
    name: 'mrcd_gate_verdicts',
    kind: 'counter',
    tags: ['service', 'verdict'],
    help: "Final gates evaluated at a soak's end, by the SLO checks' verdict: pass, fail, inconclusive or error.",
  },
  halts: {
    name: 'mrcd_halts',
    kind: 'counter',
    tags: ['service', 'kind'],
    help: 'Halt causes recorded, by kind (domain/halt-cause.ts), aborts included.',
  },
  soakSeconds: {
    name: 'mrcd_soak_seconds',
    kind: 'histogram',
    tags: ['service'],
    help: 'Time a region soaked, its gate included: from the deploy to promotion, a hold, a failure or an abort.',
  },
  holdSeconds: {
    name: 'mrcd_hold_seconds',
    kind: 'histogram',
    tags: ['service', 'kind'],
    help: 'How long a hold lasted, by kind: paused, halted, rollback-failed, awaiting-approval, blocked.',
  },
  policyFreezesActive: {
    name: 'mrcd_policy_freezes_active',
    kind: 'gauge',
    tags: ['source'],
    help: 'Freezes of the fleet policy holding now, by source: command, policy-file, calendar, alert.',
  },
  policyRegionRollouts: {
    name: 'mrcd_policy_region_rollouts',
    kind: 'gauge',
    tags: ['region'],
    help: 'Rollouts deploying or soaking in a region, as the fleet policy counts them for region concurrency.',
  },
  policyRegionWaiting: {
    name: 'mrcd_policy_region_waiting',
    kind: 'gauge',
    tags: ['region'],
    help: 'Rollouts the fleet policy holds before a deploy or a promotion in a region (a freeze, a full region).',
  },
} as const satisfies Record<string, MetricDefinition>;

/**
 * Bucket boundaries in seconds. The exporter's defaults (0.05 s to 10 s) suit RPC
 * latencies; soaks last minutes to hours and holds up to days.
 */
export const METRIC_BUCKETS: Record<string, number[]> = {
  [ROLLOUT_METRICS.soakSeconds.name]: [1, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400],
  [ROLLOUT_METRICS.holdSeconds.name]: [1, 10, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200, 604_800],
};

/** The name Prometheus shows: the exporter appends `_total` to counters. */
export function exportedName(m: MetricDefinition): string {
  return m.kind === 'counter' ? `${m.name}_total` : m.name;
}
