// Ground truth before a verdict: what regions run, read from the regions. A region held for
// approval or by a pause is read again at its promotion (someone may have rolled it back by
// hand meanwhile), and every region once more before the rollout may succeed: "succeeded"
// means every region runs the version at the end, not that each did at its own gate.
import type { DeploymentCheck } from '../../domain/activity-contract';
import type { NormalizedRegion } from '../../plan';
import { causeWithDetail } from '../../domain/halt-cause';
import { gateActs, inRegion } from './activities';
import { waitHalted } from './halts';
import { Aborted, type SoakOutcome } from './outcomes';
import type { RolloutRun } from './run';
import { stopWatching } from './watches';

/** What `names` run, each read by a worker of its own region's task queue (one read per queue). */
async function read(run: RolloutRun, names: string[]): Promise<DeploymentCheck[]> {
  const { plan } = run;
  const regions = names.map((name) => plan.regions.find((r) => r.name === name)!);
  const queues = [...new Set(regions.map((r) => r.taskQueue))];
  const readOn = (group: NormalizedRegion[]) =>
    inRegion(gateActs.readRegionVersions, group[0]!, {
      deployer: plan.deployer,
      service: plan.service,
      version: plan.version,
      regions: group.map((r) => r.name),
    });
  const groups = queues.map((q) => regions.filter((r) => r.taskQueue === q));
  const answers = await Promise.all(groups.map(readOn));
  if (run.intents.abortRequested) throw new Aborted();
  const byName = new Map(groups.flatMap((g, k) => g.map((r, j) => [r.name, answers[k]![j]!] as const)));
  return names.map((n) => byName.get(n)!);
}

/** Region i after a hold: undefined when it still runs the version (or cannot say: a command deployer without status), else why it may not be promoted. */
export async function stillRunsIt(run: RolloutRun, i: number): Promise<SoakOutcome | undefined> {
  const name = run.plan.regions[i]!.name;
  const [check] = await read(run, [name]);
  if (!check || check.verdict === 'pass' || check.verdict === 'unverified') return undefined;
  if (check.verdict === 'fail')
    return {
      kind: 'failed',
      reason: `${name} does not run ${run.plan.version} at its promotion (after a hold): ${check.detail}`,
      cause: causeWithDetail({ kind: 'not-running-version', region: name }, check.detail),
    };
  return {
    kind: 'inconclusive',
    reason: `what ${name} runs could not be read at its promotion: ${check.detail}`,
    cause: causeWithDetail({ kind: 'inconclusive', region: name }, check.detail),
  };
}

/**
 * Reads every region before the rollout may succeed. True when each runs the version (or
 * cannot say). Otherwise the regions that do not are failed (those that could not be read,
 * inconclusive), the rollout halts, and false after a retry: the main loop deploys them again.
 */
export async function everyRegionRunsIt(run: RolloutRun): Promise<boolean> {
  const { plan, status } = run;
  const checks = await read(
    run,
    plan.regions.map((r) => r.name),
  );
  if (run.lateBreaches.length > 0) return false;
  const off = checks.map((c, i) => ({ c, i })).filter(({ c }) => c.verdict === 'fail' || c.verdict === 'error');
  if (off.length === 0) return true;
  for (const { c, i } of off) {
    stopWatching(run, i);
    run.move(status.regions[i]!, c.verdict === 'fail' ? 'failed' : 'inconclusive');
  }
  const first = off[0]!;
  const name = plan.regions[first.i]!.name;
  const drifted = first.c.verdict === 'fail';
  const what = off.map(({ c }) => c.detail).join('; ');
  status.currentRegion = name;
  status.halt = {
    region: name,
    reason: drifted
      ? `not every region runs ${plan.version} at the end of the rollout: ${what}; retry deploys it again, abort rolls every region back`
      : `what every region runs could not be read at the end of the rollout: ${what}; retry deploys and reads again`,
    at: Date.now(),
    cause: causeWithDetail({ kind: drifted ? 'not-running-version' : 'inconclusive', region: name }, what),
  };
  run.publish();
  await waitHalted(run, name, first.i);
  return false;
}
