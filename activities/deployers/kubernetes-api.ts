// The kubernetes deployer's calls to a region's API server (@kubernetes/client-node), each
// bounded in time and each failure classified with the region and what to fix: RBAC, a
// missing Deployment or container, an unreachable server, a kubeconfig without the context.
import { ApiException, AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Container, type V1Deployment } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { cancellationOf } from '../activity-context';
import { bodyErrorText, failureForStatus } from '../http-errors';
import { transportErrorText } from '../http-transport';
import { ACTIVITY_FAILURE, DEPLOY_FAILURE } from '../../domain/failures';
import { formatDuration } from '../../domain/duration';
import { STATUS_TIMEOUT_MS } from './running-version';
import type { KubernetesTarget } from './kubernetes-target';
import type { DeployerConfig } from './deployer';

/** What mrcd records on a Deployment it changed. */
export const ANNOTATION = {
  /** The idempotency key of the last step that set the image: a retried attempt attaches to it. */
  key: 'mrcd.dev/idempotency-key',
  step: 'mrcd.dev/step',
  /** The exact image a deploy replaced: what its rollback restores. */
  previousImage: 'mrcd.dev/previous-image',
} as const;

export interface KubeApi {
  read(): Promise<V1Deployment>;
  /** Sets the container's image (and annotations) if the Deployment is still as read. */
  setImage(read: V1Deployment, container: string, image: string, annotations: Record<string, string>): Promise<V1Deployment>;
  /** Images of the Deployment's older ReplicaSets that still have pods. */
  oldImages(dep: V1Deployment, container: string): Promise<string[]>;
}

type KubernetesDeployer = DeployerConfig<'kubernetes'>;

function config(d: KubernetesDeployer, target: KubernetesTarget, what: string): KubeConfig {
  const kc = new KubeConfig();
  if (!d.kubeconfigEnv) {
    try {
      kc.loadFromCluster();
    } catch (e) {
      throw ApplicationFailure.nonRetryable(
        `${what}: no in-cluster service account (${(e as Error).message}); run the worker in the region's cluster, or set deployer.kubeconfigEnv`,
        ACTIVITY_FAILURE.deployConfig,
      );
    }
    return kc;
  }
  const path = process.env[d.kubeconfigEnv];
  if (!path) {
    throw ApplicationFailure.nonRetryable(
      `${what}: environment variable ${d.kubeconfigEnv} is not set on the worker; it must hold the path of the kubeconfig with context ${target.context}`,
      ACTIVITY_FAILURE.deployConfig,
    );
  }
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw ApplicationFailure.nonRetryable(
      `${what}: cannot read the kubeconfig ${path} ($${d.kubeconfigEnv}): ${(e as Error).message}`,
      ACTIVITY_FAILURE.deployConfig,
    );
  }
  if (!kc.getContextObject(target.context)) {
    throw ApplicationFailure.nonRetryable(
      `${what}: the kubeconfig ${path} ($${d.kubeconfigEnv}) has no context ${target.context} (it has: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none'
      }); set deployer.regions.<region>.context or add the context`,
      ACTIVITY_FAILURE.deployConfig,
    );
  }
  kc.setCurrentContext(target.context);
  return kc;
}

/** The API of the region's cluster for one step; every call bounded and classified. */
export function kubeApi(d: KubernetesDeployer, target: KubernetesTarget, what: string, signal?: AbortSignal): KubeApi {
  const kc = config(d, target, what);
  const apps = kc.makeApiClient(AppsV1Api);
  const server = kc.getCurrentCluster()?.server ?? 'the in-cluster API server';
  const call = <T>(verb: string, fn: () => Promise<T>): Promise<T> => bounded(fn, { what, verb, target, server, signal });
  const name = target.deployment;
  const namespace = target.namespace;
  return {
    read: () => call('get deployments', () => apps.readNamespacedDeployment({ name, namespace })),
    setImage: (read, container, image, annotations) =>
      call('patch deployments', () =>
        apps.patchNamespacedDeployment(
          {
            name,
            namespace,
            body: {
              // Refused with 409 when the Deployment changed since it was read: read again.
              metadata: { resourceVersion: read.metadata?.resourceVersion, annotations },
              spec: { template: { spec: { containers: [{ name: container, image }] } } },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      ),
    oldImages: async (dep, container) => {
      const selector = Object.entries(dep.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const list = await call('list replicasets', () => apps.listNamespacedReplicaSet({ namespace, labelSelector: selector }));
      const uid = dep.metadata?.uid;
      const current = containerImage(dep.spec?.template?.spec?.containers, container);
      const images = list.items
        .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid) && (rs.status?.replicas ?? 0) > 0)
        .map((rs) => containerImage(rs.spec?.template?.spec?.containers, container))
        .filter((i): i is string => i !== undefined && i !== current);
      return [...new Set(images)];
    },
  };
}

function containerImage(containers: V1Container[] | undefined, name: string): string | undefined {
  return containers?.find((c) => c.name === name)?.image;
}

/** The container of the target in the Deployment; a wrong name fails for good, naming the ones there are. */
export function containerOf(dep: V1Deployment, target: KubernetesTarget, what: string): V1Container & { name: string } {
  const containers = dep.spec?.template?.spec?.containers ?? [];
  const c = containers.find((x) => x.name === target.container);
  if (!c) {
    throw ApplicationFailure.nonRetryable(
      `${what}: ${target.where} has no container ${target.container} (it has: ${containers.map((x) => x.name).join(', ') || 'none'}); set deployer.container`,
      ACTIVITY_FAILURE.deployConfig,
    );
  }
  return c;
}

/** How far the API server's clock may be behind the worker's when a condition is dated. */
const CLOCK_SLACK_MS = 5_000;

export type RolloutState = { kind: 'complete' | 'progressing' | 'deadline-exceeded'; words: string };

/**
 * Where a Deployment's rollout stands, as the Deployment controller defines complete
 * (kubectl rollout status): the controller saw this generation, every replica runs the
 * current template and is available, and no old replica is left.
 */
export function rolloutState(dep: V1Deployment, since?: number): RolloutState {
  const want = dep.spec?.replicas ?? 1;
  const s = dep.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (dep.metadata?.generation ?? 0);
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  const words = `${updated}/${want} updated, ${available} available, ${total} in all${observed ? '' : ', the controller has not seen the change yet'}`;
  if (observed && updated === want && available === want && total === want) return { kind: 'complete', words };
  // Only about this generation: the condition of a rollout before the change (left False
  // after an undo, say) says nothing of this one until the controller has seen it.
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const at = progressing?.lastUpdateTime ? new Date(progressing.lastUpdateTime).getTime() : undefined;
  // …nor one left from before this step changed the Deployment (the API server's clock may
  // be a little behind the worker's).
  const fresh = since === undefined || at === undefined || at >= since - CLOCK_SLACK_MS;
  if (observed && fresh && progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { kind: 'deadline-exceeded', words: progressing.message ?? 'ProgressDeadlineExceeded' };
  }
  return { kind: 'progressing', words };
}

/** One API call: within STATUS_TIMEOUT_MS, stopped by cancellation, failures in words. */
async function bounded<T>(
  fn: () => Promise<T>,
  at: { what: string; verb: string; target: KubernetesTarget; server: string; signal: AbortSignal | undefined },
): Promise<T> {
  const early = cancellationOf(at.signal);
  if (early) throw early;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          ApplicationFailure.retryable(
            `${at.what}: the API server at ${at.server} did not answer within ${formatDuration(STATUS_TIMEOUT_MS)}`,
            DEPLOY_FAILURE.unavailable,
          ),
        ),
      STATUS_TIMEOUT_MS,
    );
    onAbort = () => reject(cancellationOf(at.signal) ?? new Error('cancelled'));
    at.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([fn(), stop]);
  } catch (e) {
    throw classify(e, at);
  } finally {
    clearTimeout(timer);
    if (onAbort) at.signal?.removeEventListener('abort', onAbort);
  }
}

function classify(e: unknown, at: { what: string; verb: string; target: KubernetesTarget; server: string; signal: AbortSignal | undefined }): Error {
  const cancelled = cancellationOf(at.signal, e);
  if (cancelled) return cancelled;
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof ApiException) {
    const detail = bodyErrorText(e.body);
    const code = e.code;
    if (code === 401 || code === 403) {
      return ApplicationFailure.nonRetryable(
        `${at.what}: ${code === 401 ? 'not authenticated' : 'forbidden'} to ${at.verb} for ${at.target.where} (${detail}); grant the worker's credentials get and patch on deployments and list on replicasets in namespace ${at.target.namespace}`,
        ACTIVITY_FAILURE.deployConfig,
      );
    }
    if (code === 404) {
      return ApplicationFailure.nonRetryable(
        `${at.what}: ${at.target.where} not found (${detail}); create it, or set deployer.deployment / deployer.namespace`,
        ACTIVITY_FAILURE.deployConfig,
      );
    }
    if (code === 409)
      return ApplicationFailure.retryable(`${at.what}: ${at.target.where} changed while mrcd set its image; reading it again`, DEPLOY_FAILURE.unavailable);
    return failureForStatus(code, e.headers, e.body, { what: `${at.what} (${at.target.where})`, failures: DEPLOY_FAILURE });
  }
  return ApplicationFailure.retryable(
    `${at.what}: the API server of ${at.target.where} at ${at.server} is unreachable (${transportErrorText(causeOf(e))})`,
    DEPLOY_FAILURE.unavailable,
  );
}

/** fetch wraps the socket error (ECONNREFUSED …) as its cause. */
function causeOf(e: unknown): unknown {
  const cause = (e as { cause?: unknown } | null)?.cause;
  return cause instanceof Error ? cause : e;
}
