// One region, one attempt: window → deploy → soak → gate → approval → promote. The soak
// and what follows it are soak.ts; the main loop promotes, rolls back or halts on the outcome.
import { sleep } from '@temporalio/workflow';
import { gateActs, inRegion } from './activities';
import { holdWhilePaused } from './halts';
import type { SoakOutcome } from './outcomes';
import { clearedByPolicy } from './policy';
import type { RolloutRun } from './run';
import { soakGateAndHold } from './soak';

export async function runRegion(run: RolloutRun, i: number): Promise<SoakOutcome> {
  const [region, r] = run.regionOf(i);
  const { status, plan } = run;
  // A region retried after an inconclusive halt still runs the version: its redeploy reports
  // the version itself as what ran before, which must not become the SLO baseline.
  const keepsBaseline = run.gen.edges && r.status === 'inconclusive' && r.baselineVersion !== undefined;
  r.attempts += 1;
  status.currentRegion = region.name;
  delete status.halt;
  // deployedAt says "this region runs (or may run) the version". It goes only when the
  // region was never deployed or was rolled back: a retried inconclusive region still runs it.
  if (r.status === 'pending' || r.status === 'rolled-back') {
    delete r.deployedAt;
    delete r.soakEndsAt;
  }
  delete r.watchProblem;
  if (r.attempts > 1) {
    // An approval was for the attempt that failed; a redeploy needs a fresh one.
    run.intents.forgetApproval(region.name);
    delete r.approvedBy;
  }
  run.publish();

  await holdWhilePaused(run, r);

  // The fleet policy is asked last, after the window: a deploy it held looks at its window
  // (and a pause) again, since the hold may have outlasted both.
  for (;;) {
    await waitForWindow(run, i);
    const { held } = await clearedByPolicy(run, i, 'deploy');
    if (!held) break;
    await holdWhilePaused(run, r);
  }

  run.move(r, 'deploying');
  run.publish();
  run.unsettledDeploys.add(i);
  const deployed = await inRegion(run.deployActs.deployRegion, region, {
    rolloutId: status.rolloutId,
    service: plan.service,
    region: region.name,
    version: plan.version,
    deployer: plan.deployer,
    ...run.keyOf('deploy', region.name, r.attempts),
  });
  run.unsettledDeploys.delete(i);
  if (deployed.previousVersion !== undefined && deployed.previousVersion !== plan.version) r.previousVersion = deployed.previousVersion;
  // The baseline is what ran before this deploy, even the same version redeployed.
  if (keepsBaseline) {
    // (the baseline of the attempt that first deployed it stays)
  } else if (deployed.previousVersion !== undefined) r.baselineVersion = deployed.previousVersion;
  else delete r.baselineVersion;
  // The deploy's own end, by the clock of the worker that ran it, where it is later: a worker
  // that took the rollout over can run this task with the time of the one before the old died.
  r.deployedAt = run.gen.edges ? Math.max(Date.now(), deployed.at ?? 0) : Date.now();
  const soakEndsAt = r.deployedAt + region.soakMs;
  r.soakEndsAt = soakEndsAt;
  run.move(r, 'soaking');
  run.publish();
  return soakGateAndHold(run, i, soakEndsAt);
}

/**
 * The window is asked again after every wait (with the edges patch): a pause across the
 * window, workers down at its opening or a clock that was off must not deploy outside it.
 */
async function waitForWindow(run: RolloutRun, i: number): Promise<void> {
  const [region, r] = run.regionOf(i);
  while (region.window) {
    const decision = await gateActs.nextDeployWindow({ window: region.window, now: Date.now(), soakMs: region.soakMs, region: region.name });
    if (decision.startAt <= Date.now()) break;
    run.move(r, 'waiting-window');
    r.waitingFor = decision.reason ?? 'its deploy window';
    r.waitingUntil = decision.startAt;
    run.publish();
    await sleep(decision.startAt - Date.now(), { summary: `deploy window of ${region.name}` });
    delete r.waitingFor;
    delete r.waitingUntil;
    // A pause while waiting for the window holds the deploy, as it would have before.
    await holdWhilePaused(run, r);
    if (!run.gen.edges) break;
  }
}
