// The deployer settings of a plan, one schema per `deployer.type` (docs/deployers.md).
import { z } from 'zod';
import { DEFAULT_DEPLOY_TIMEOUT, DEFAULT_POLL_INTERVAL, DURATION_BOUNDS, duration, envName, httpUrl } from './schema-primitives';

export const httpDeployerSchema = z.strictObject({
  type: z.literal('http'),
  /** Base URL; the deployer calls POST {baseUrl}/regions/{region}/deploy etc. */
  baseUrl: httpUrl,
  tokenEnv: envName.optional(),
  /** How long one deploy or rollback may take before it is a failure. */
  timeout: duration(DURATION_BOUNDS.deployTimeout).default(DEFAULT_DEPLOY_TIMEOUT),
  pollInterval: duration(DURATION_BOUNDS.pollInterval).default(DEFAULT_POLL_INTERVAL),
});

export const argv = z.array(z.string().min(1)).min(1, 'must be a non-empty argv array');

export const commandDeployerSchema = z.strictObject({
  type: z.literal('command'),
  deploy: argv,
  rollback: argv,
  status: argv.optional(),
  /** Names of worker environment variables passed through to the command. */
  passEnv: z.array(envName).default([]),
  timeout: duration(DURATION_BOUNDS.deployTimeout).default(DEFAULT_DEPLOY_TIMEOUT),
});

/** The names a kubernetes setting may use; anything else in {{…}} is a typo. */
const TEMPLATE_VARS = ['service', 'region', 'version'] as const;

/** A text with {{service}} {{region}} {{version}} placeholders (only those in `allowed`). */
function template(allowed: readonly (typeof TEMPLATE_VARS)[number][], required?: (typeof TEMPLATE_VARS)[number]) {
  return z
    .string()
    .min(1)
    .superRefine((s, ctx) => {
      for (const m of s.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
        if (!(allowed as readonly string[]).includes(m[1]!))
          ctx.addIssue({ code: 'custom', message: `unknown placeholder {{${m[1]}}}: use ${allowed.map((a) => `{{${a}}}`).join(', ')}` });
      }
      if (required && !new RegExp(`\\{\\{\\s*${required}\\s*\\}\\}`).test(s))
        ctx.addIssue({ code: 'custom', message: `must contain {{${required}}}: the image is how mrcd tells one version from another` });
    });
}

/** Where one region's workload lives, when the defaults' templates do not say it. */
export const kubernetesTargetSchema = z.strictObject({
  /** The kube context of the region's cluster. */
  context: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
});

export const kubernetesDeployerSchema = z.strictObject({
  type: z.literal('kubernetes'),
  /**
   * The worker's environment variable holding the kubeconfig's path. Without it the worker
   * uses its in-cluster service account (a worker running inside the region's cluster).
   */
  kubeconfigEnv: envName.optional(),
  /** The kube context of a region's cluster. */
  context: template(['region', 'service']).default('{{region}}'),
  namespace: template(['region', 'service']).default('{{service}}'),
  /** The Deployment; mrcd sets one container's image and waits for the rollout. */
  deployment: template(['region', 'service']).default('{{service}}'),
  container: template(['region', 'service']).default('{{service}}'),
  /** The image of a version, e.g. registry.example.com/{{service}}:{{version}}. */
  image: template(TEMPLATE_VARS, 'version'),
  /** Per region, where it differs from the templates above (keys are region names). */
  regions: z.record(z.string(), kubernetesTargetSchema).default({}),
  timeout: duration(DURATION_BOUNDS.deployTimeout).default(DEFAULT_DEPLOY_TIMEOUT),
  pollInterval: duration(DURATION_BOUNDS.pollInterval).default(DEFAULT_POLL_INTERVAL),
});

export const deployerSchema = z.discriminatedUnion('type', [httpDeployerSchema, commandDeployerSchema, kubernetesDeployerSchema]);
