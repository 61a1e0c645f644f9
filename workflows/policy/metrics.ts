// The fleet policy's gauges (docs/operations.md, "Metrics"), set after every change. The
// workflow meter is a sink that skips replay (see workflows/rollout/metrics.ts), so a
// policy replayed after a worker restart shows its gauges again at its next change.
import type { MetricGauge } from '@temporalio/common';
import { metricMeter } from '@temporalio/workflow';
import { ROLLOUT_METRICS, type MetricDefinition } from '../../domain/metrics';
import { freezeActive, type Freeze, type PolicyState } from '../../domain/policy';

const gauge = (m: MetricDefinition): MetricGauge => metricMeter.createGauge(m.name, 'int', undefined, m.help);
const SOURCES: readonly Freeze['source'][] = ['command', 'policy-file', 'calendar', 'alert'];

export class PolicyGauges {
  private readonly freezes = gauge(ROLLOUT_METRICS.policyFreezesActive);
  private readonly rollouts = gauge(ROLLOUT_METRICS.policyRegionRollouts);
  private readonly waiting = gauge(ROLLOUT_METRICS.policyRegionWaiting);
  /** Regions reported before: one that empties is set to 0, not left at its last value. */
  private readonly regions = new Set<string>();

  observe(p: PolicyState, now: number): void {
    for (const source of SOURCES) this.freezes.set(p.freezes.filter((f) => f.source === source && freezeActive(f, now)).length, { source });
    for (const r of [...p.leases.map((l) => l.region), ...p.waiting.map((w) => w.region)]) this.regions.add(r);
    for (const region of this.regions) {
      this.rollouts.set(p.leases.filter((l) => l.region === region).length, { region });
      this.waiting.set(p.waiting.filter((w) => w.region === region).length, { region });
    }
  }
}
