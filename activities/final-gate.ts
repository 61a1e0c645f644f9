// The final gate before a promotion: the SLO checks over the soak and, when the workflow
// asks, what the deployer says the region runs. One activity for both keeps history at
// one step per gate; the two answers stay apart so that a region changed from outside
// is never mistaken for a bad version (which would quarantine it).
import { activitySignal } from './activity-context';
import type { GateInput, GateResult } from './types';
import { evaluateGate } from './slo/gate';
import { checkDeployment } from './deployers/running-version';

export async function evaluateFinalGate(input: GateInput): Promise<GateResult> {
  const { deployer, ...slo } = input;
  const gate = await evaluateGate(slo);
  if (!deployer) return gate;
  const signal = activitySignal();
  const deployment = await checkDeployment(deployer, { service: input.service, region: input.region, version: input.version }, signal);
  return { ...gate, deployment };
}
