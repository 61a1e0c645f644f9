// The baseline the benchmarks compare with: the rollout a newcomer to Temporal writes first.
// Per region: deploy, then a timer loop with one activity per SLO check for the whole soak,
// then the gate. Every check costs its own activity (and workflow task) events.
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { GateResult, WatchOutcome } from '../domain/activity-contract';

export interface NaiveInput {
  regions: string[];
  soakMs: number;
  intervalMs: number;
}

interface NaiveActivities {
  deployRegion(input: { region: string }): Promise<unknown>;
  rollbackRegion(input: { region: string }): Promise<unknown>;
  /** One check; "breach" ends the soak. */
  naiveCheck(input: { region: string; since: number }): Promise<WatchOutcome['kind'] | 'pass'>;
  evaluateGate(input: { region: string }): Promise<GateResult>;
}

const acts = proxyActivities<NaiveActivities>({ startToCloseTimeout: '1m' });

export async function naiveRollout(input: NaiveInput): Promise<{ events: number; outcome: string }> {
  for (const region of input.regions) {
    await acts.deployRegion({ region });
    const since = Date.now();
    while (Date.now() - since < input.soakMs) {
      if ((await acts.naiveCheck({ region, since })) === 'breach') {
        await acts.rollbackRegion({ region });
        return { events: workflowInfo().historyLength, outcome: `rolled back ${region}` };
      }
      await sleep(input.intervalMs);
    }
    await acts.evaluateGate({ region });
  }
  return { events: workflowInfo().historyLength, outcome: 'succeeded' };
}
