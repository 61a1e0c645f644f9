// The final gate before a promotion: the SLO checks over the soak and, when the workflow
// asks, what the deployer says the region runs. One activity for both keeps history at
// one step per gate; the two answers stay apart so that a region changed from outside
// is never mistaken for a bad version (which would quarantine it).
import { ROLLOUT_METRICS } from '../domain/metrics';
import { activitySignal, currentContext } from './activity-context';
import type { GateInput, GateResult } from '../domain/activity-contract';
import { evaluateGate } from './slo/gate';
import { checkDeployment } from './deployers/running-version';
import { readerFor } from './deployers/registry';

export async function evaluateFinalGate(input: GateInput): Promise<GateResult> {
  const { deployer, ...slo } = input;
  const gate = await evaluateGate(slo);
  if (!deployer) return counted(input.service, gate);
  const signal = activitySignal();
  const deployment = await checkDeployment(readerFor(deployer), { service: input.service, region: input.region, version: input.version }, signal);
  return counted(input.service, { ...gate, deployment });
}

/**
 * Counted here rather than in the workflow: both ways a gate runs (the soak watch's last
 * check and the gate activity) come through this function. Counted once the whole answer
 * is in, per evaluation: a gate evaluated again by a retry counts again. Outside an
 * activity (the CLI, tests) there is no meter.
 */
function counted(service: string, gate: GateResult): GateResult {
  const m = ROLLOUT_METRICS.gateVerdicts;
  currentContext()?.metricMeter.createCounter(m.name, undefined, m.help).add(1, { service, verdict: gate.verdict });
  return gate;
}
