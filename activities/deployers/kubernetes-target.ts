// Where a region's workload lives for the kubernetes deployer, and how an image names a
// version: the plan's templates filled for one region. Pure, so the rules are tested
// without a cluster.
import type { NormalizedKubernetesDeployer } from '../../plan';

export interface KubernetesTarget {
  /** The kube context (unused with the in-cluster service account). */
  context: string;
  namespace: string;
  deployment: string;
  container: string;
  /** The image of the version the step is about. */
  image: string;
  /** "Deployment checkout/api in context eu-west-1": how failures name it. */
  where: string;
}

type Vars = { service: string; region: string; version?: string };

function fill(template: string, vars: Vars): string {
  return template.replace(/\{\{\s*(service|region|version)\s*\}\}/g, (_m, name: keyof Vars) => vars[name] ?? '');
}

/** The workload of `region` and the image of `version`. */
export function targetOf(d: NormalizedKubernetesDeployer, service: string, region: string, version: string): KubernetesTarget {
  const own = d.regions[region] ?? {};
  const vars = { service, region, version };
  const context = own.context ?? fill(d.context, vars);
  const namespace = own.namespace ?? fill(d.namespace, vars);
  const deployment = fill(d.deployment, vars);
  const container = fill(d.container, vars);
  const where = `Deployment ${namespace}/${deployment}${d.kubeconfigEnv ? ` in context ${context}` : ' (in-cluster)'}`;
  return { context, namespace, deployment, container, image: fill(d.image, vars), where };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The version an image is of, by the plan's image template; undefined when the image does
 * not fit the template (set by hand to something else, or a digest).
 */
export function versionOfImage(d: NormalizedKubernetesDeployer, service: string, region: string, image: string): string | undefined {
  const parts = d.image.split(/\{\{\s*version\s*\}\}/);
  const pattern = parts.map((p) => escapeRegExp(fill(p, { service, region }))).join('([A-Za-z0-9][A-Za-z0-9._+-]*)');
  const m = new RegExp(`^${pattern}$`).exec(image);
  if (!m) return undefined;
  const versions = m.slice(1);
  // {{version}} twice in the template must name one version.
  return versions.every((v) => v === versions[0]) ? versions[0] : undefined;
}

/**
 * What an image runs, in the words status uses: its version when it fits the template,
 * else the image itself ("image nginx:1.27"), which never equals a version.
 */
export function runsOfImage(d: NormalizedKubernetesDeployer, service: string, region: string, image: string): string {
  return versionOfImage(d, service, region, image) ?? `image ${image}`;
}
