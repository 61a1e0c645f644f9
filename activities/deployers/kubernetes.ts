// The kubernetes deployer: sets one container's image on a region's Deployment and waits for
// the rollout the way the Deployment controller defines it, and says what a region runs from
// the Deployment and its ReplicaSets, never from its own answer.
//
// - A deploy records on the Deployment, in the same patch as the image, its idempotency key
//   and the exact image it replaced. A retried attempt (a worker killed mid-deploy, a timeout)
//   that finds its key and its image attaches to the rollout instead of patching again; the
//   patch carries the resourceVersion it read, so a change made meanwhile is not overwritten.
// - A rollback sets the image back to the exact previous one (the version before, by the
//   plan's image template, or the image the deploy recorded). Running it twice lands on the
//   same pod template, so on the same ReplicaSet: never `rollout undo`, whose "the revision
//   before the current one" flips a region back to the bad version when it runs twice.
// - ProgressDeadlineExceeded is a failed deploy with its cause, never a timeout; a paused
//   Deployment is refused (its rollout would never progress).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { V1Deployment } from '@kubernetes/client-node';
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';
import { ACTIVITY_FAILURE, DEPLOY_FAILURE } from '../../domain/failures';
import { formatDuration } from '../../domain/duration';
import { confirmDeployed, rollingOut } from './running-version';
import { readerOf, type Deployer, type DeployerConfig, type RegionRef } from './deployer';
import { idempotencyKey, stepText, type DeployStep } from './step';
import { heartbeatChunkMs } from './http';
import { ANNOTATION, containerOf, kubeApi, rolloutState, type KubeApi } from './kubernetes-api';
import { runsOfImage, targetOf, versionOfImage, type KubernetesTarget } from './kubernetes-target';

type KubernetesDeployer = DeployerConfig<'kubernetes'>;

export const kubernetesDeployer: Deployer<KubernetesDeployer> = {
  deploy: (input) => setImage(input, 'deploy'),
  rollback: (input) => setImage(input, 'rollback'),
  running: kubernetesRunning,
  // A retried attempt finds its key on the Deployment; reading first would take a rollback
  // under way for a region changed by hand.
  resumesByKey: true,
};

/** What a region runs: the image of its Deployment once fully rolled out; mid-rollout, both. */
async function kubernetesRunning(d: KubernetesDeployer, ref: RegionRef, signal?: AbortSignal): Promise<string | null> {
  const target = targetOf(d, ref.service, ref.region, ref.version);
  const api = kubeApi(d, target, `status of ${ref.service} in ${ref.region}`, signal);
  const dep = await api.read();
  const container = containerOf(dep, target, `status of ${ref.service} in ${ref.region}`);
  const state = rolloutState(dep);
  if ((dep.spec?.replicas ?? 1) === 0 && state.kind === 'complete') return null;
  const runs = runsOfImage(d, ref.service, ref.region, container.image ?? '');
  if (state.kind === 'complete') return runs;
  const old = await api.oldImages(dep, container.name);
  return rollingOut(runs, old.length ? old.map((i) => runsOfImage(d, ref.service, ref.region, i)).join(', ') : null);
}

async function setImage(input: DeployInput<KubernetesDeployer> | RollbackInput<KubernetesDeployer>, step: DeployStep): Promise<DeployResult> {
  const d = input.deployer;
  const ctx = Context.current();
  const key = idempotencyKey(input, step);
  const what = stepText(input, step);
  const target = targetOf(d, input.service, input.region, input.version);
  const api = kubeApi(d, target, what, ctx.cancellationSignal);
  // Per attempt, as the http deployer: a retry after a timeout gets a fresh budget.
  const deadline = Date.now() + d.timeoutMs;

  const dep = await api.read();
  const container = containerOf(dep, target, what);
  if (dep.spec?.paused) {
    throw ApplicationFailure.nonRetryable(
      `${what}: ${target.where} is paused, so no rollout of it would progress; resume it (kubectl rollout resume deployment/${target.deployment} -n ${target.namespace}) or finish what paused it, then retry`,
      ACTIVITY_FAILURE.deployConfig,
    );
  }
  const annotations = dep.metadata?.annotations ?? {};
  const current = container.image ?? '';
  const want = step === 'deploy' ? target.image : rollbackImage(input as RollbackInput<KubernetesDeployer>, target, annotations, what);
  // The image this step replaces: a deploy of a version the region already runs keeps the
  // recorded one, or its rollback would "restore" the very version.
  const previousImage = current !== want ? current : annotations[ANNOTATION.previousImage];

  let since: number | undefined;
  const attached = annotations[ANNOTATION.key] === key;
  if (attached) {
    // This key already set the image: one patch per key. Whatever runs now (even a change by
    // hand since) is what the wait and the confirmation judge.
    ctx.log.info('attaching to the rollout this key started', { key, deployment: target.where });
  } else {
    since = Date.now();
    await api.setImage(dep, container.name, want, {
      [ANNOTATION.key]: key,
      [ANNOTATION.step]: step,
      ...(step === 'deploy' && previousImage ? { [ANNOTATION.previousImage]: previousImage } : {}),
    });
  }
  ctx.heartbeat({ key, image: want });
  await waitForRollout(api, target, what, deadline, d, since);

  if (step === 'deploy') {
    const sleep = (ms: number) => {
      ctx.heartbeat({ key, image: want });
      return ctx.sleep(ms);
    };
    await confirmDeployed(readerOf(kubernetesDeployer, d), input, { signal: ctx.cancellationSignal, sleep });
  }
  const result: DeployResult = { region: input.region, version: input.version, idempotencyKey: key };
  // What ran before this deploy, as the region showed it (the version itself for a redeploy
  // of what runs, like the http deployer's answer); an attempt that attached read it from the
  // record its key left.
  const ranBefore = attached ? annotations[ANNOTATION.previousImage] : current;
  const before =
    step === 'deploy' ? ranBefore && versionOfImage(d, input.service, input.region, ranBefore) : 'previousVersion' in input ? input.previousVersion : undefined;
  if (before) result.previousVersion = before;
  return result;
}

/**
 * The image a rollback restores: the previous version's by the template when the workflow
 * knows it, else the image the deploy recorded on the Deployment. Neither: refused, since
 * "the revision before" is exactly what must not be guessed.
 */
function rollbackImage(input: RollbackInput<KubernetesDeployer>, target: KubernetesTarget, annotations: Record<string, string>, what: string): string {
  if (input.previousVersion) return targetOf(input.deployer, input.service, input.region, input.previousVersion).image;
  const recorded = annotations[ANNOTATION.previousImage];
  if (recorded) return recorded;
  throw ApplicationFailure.nonRetryable(
    `${what}: neither the rollout nor ${target.where} (annotation ${ANNOTATION.previousImage}) knows the image before ${input.version}; set the image by hand, then retry`,
    ACTIVITY_FAILURE.deployConfig,
  );
}

/**
 * Waits until the Deployment controller calls the rollout complete (its observedGeneration
 * caught up, every replica updated and available, no old one left), heartbeating between
 * reads. ProgressDeadlineExceeded fails the step with the controller's message.
 */
async function waitForRollout(
  api: KubeApi,
  target: KubernetesTarget,
  what: string,
  deadline: number,
  d: KubernetesDeployer,
  since: number | undefined,
): Promise<void> {
  const ctx = Context.current();
  const chunk = heartbeatChunkMs(ctx.info.heartbeatTimeoutMs);
  for (;;) {
    const dep: V1Deployment = await api.read();
    const state = rolloutState(dep, since);
    ctx.heartbeat({ image: target.image, rollout: state.words });
    if (state.kind === 'complete') return;
    if (state.kind === 'deadline-exceeded') {
      throw ApplicationFailure.nonRetryable(
        `${what}: ${target.where} did not progress (ProgressDeadlineExceeded): ${state.words}`,
        ACTIVITY_FAILURE.deployFailed,
      );
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw ApplicationFailure.retryable(
        `${what}: not rolled out within ${formatDuration(d.timeoutMs)} (${target.where}: ${state.words})`,
        DEPLOY_FAILURE.timeout,
      );
    }
    await ctx.sleep(Math.min(d.pollIntervalMs, left, chunk));
  }
}
