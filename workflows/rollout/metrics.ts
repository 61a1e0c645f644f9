// The rollout metrics of docs/operations.md ("Metrics"), read off the status each time the
// run publishes it: every change of state, region, halt and hold is published (run.ts), so
// the flow itself has no metric calls to forget. Gate verdicts are counted by the gate
// activity (activities/final-gate.ts).
//
// Why this is safe in workflow code without a patch: the SDK's workflow metricMeter is a
// sink, not a command, so it adds no history events and cannot change what replay expects;
// and it skips emission while replaying (@temporalio/workflow lib/metrics.js checks
// `workflowInfo().unsafe.isReplaying` before each sink call; the worker drops sink calls
// made during replay), so a rollout replayed after a worker restart or a cache eviction is
// not counted twice. What this class remembers between publishes is rebuilt by that replay.
import type { MetricCounter, MetricHistogram } from '@temporalio/common';
import { metricMeter } from '@temporalio/workflow';
import type { HaltCause } from '../../domain/halt-cause';
import { ROLLOUT_METRICS, type MetricDefinition } from '../../domain/metrics';
import { TERMINAL_STATES, type HoldKind, type RegionStatus, type RolloutState, type RolloutStatus } from '../../domain/state';

const counter = (m: MetricDefinition): MetricCounter => metricMeter.createCounter(m.name, undefined, m.help);
// No unit: the exporter would append it to the name, which already says seconds.
const seconds = (m: MetricDefinition): MetricHistogram => metricMeter.createHistogram(m.name, 'float', undefined, m.help);
/** The gate is the soak's last step: a soak extended for evidence goes soaking → gating → soaking. */
const inSoak = (s: RegionStatus | undefined): boolean => s === 'soaking' || s === 'gating';

export class RolloutMetrics {
  // Created per run: the workflow meter exists only inside a workflow's context.
  private readonly transitions = counter(ROLLOUT_METRICS.stateTransitions);
  private readonly ended = counter(ROLLOUT_METRICS.rolloutsEnded);
  private readonly promoted = counter(ROLLOUT_METRICS.regionsPromoted);
  private readonly rolledBack = counter(ROLLOUT_METRICS.regionsRolledBack);
  private readonly halts = counter(ROLLOUT_METRICS.halts);
  private readonly soak = seconds(ROLLOUT_METRICS.soakSeconds);
  private readonly holdTime = seconds(ROLLOUT_METRICS.holdSeconds);

  private state: RolloutState;
  private readonly regions: RegionStatus[];
  private readonly soakSince = new Map<number, number>();
  /** Causes already counted: a cause is recorded again after a failed rollback is retried. */
  private readonly causes = new Set<HaltCause>();
  private hold: { kind: HoldKind; since: number } | undefined;

  /** A continued run (continue-as-new) takes up what its status says without counting it again. */
  constructor(status: RolloutStatus, continued: boolean) {
    this.state = status.state;
    this.regions = status.regions.map((r) => r.status);
    if (status.halt?.cause) this.causes.add(status.halt.cause);
    if (status.hold) this.hold = { kind: status.hold.kind, since: status.hold.since };
    if (continued) return;
    counter(ROLLOUT_METRICS.rolloutsStarted).add(1, { service: status.service });
    this.transitions.add(1, { service: status.service, state: status.state });
  }

  /** Counts what changed since the last publish. */
  observe(s: RolloutStatus): void {
    const service = s.service;
    const now = Date.now();
    if (s.state !== this.state) {
      this.state = s.state;
      this.transitions.add(1, { service, state: s.state });
      if (TERMINAL_STATES.has(s.state)) this.ended.add(1, { service, verdict: s.state });
    }
    s.regions.forEach((r, i) => {
      const before = this.regions[i];
      if (r.status === before) return;
      this.regions[i] = r.status;
      if (r.status === 'promoted') this.promoted.add(1, { service });
      if (r.status === 'rolled-back') this.rolledBack.add(1, { service });
      if (inSoak(r.status) && !inSoak(before)) this.soakSince.set(i, now);
      const since = this.soakSince.get(i);
      if (!inSoak(r.status) && since !== undefined) {
        this.soak.record((now - since) / 1000, { service });
        this.soakSince.delete(i);
      }
    });
    const cause = s.halt?.cause;
    if (cause && !this.causes.has(cause)) {
      this.causes.add(cause);
      this.halts.add(1, { service, kind: cause.kind });
    }
    // HoldReminders.update (called by publish just before) replaces status.hold when a hold
    // starts and removes it when the hold ends; a continued run keeps the one it carried.
    const held = this.hold;
    if (held && (s.hold?.kind !== held.kind || s.hold.since !== held.since)) this.holdTime.record((now - held.since) / 1000, { service, kind: held.kind });
    this.hold = s.hold && { kind: s.hold.kind, since: s.hold.since };
  }
}
