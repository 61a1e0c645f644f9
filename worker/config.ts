// The worker's configuration: every variable validated up front, every bad one named.
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../plan';
import { ConfigError, connectionConfigFromEnv, connectionEnvSchema, issuesToProblems, type ConnectionConfig } from '../common/connection';
import { KEY_ID_VAR } from '../common/payload-codec';

const positiveInt = z
  .string()
  .trim()
  .regex(/^[1-9]\d*$/, 'must be a positive whole number')
  .transform(Number);

const PORT = 'must be a port, 1 to 65535';
const port = z
  .string()
  .trim()
  .regex(/^[1-9]\d{0,4}$/, PORT)
  .transform(Number)
  .refine((n) => n <= 65_535, PORT);

const workerEnvSchema = z.object({
  MRCD_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  MRCD_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  MRCD_MAX_CONCURRENT_ACTIVITIES: positiveInt.optional(),
  MRCD_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.optional(),
  MRCD_SHUTDOWN_GRACE: z
    .string()
    .trim()
    .refine((s) => parseDuration(s) !== undefined, 'must be a duration such as "30s"')
    .default('30s'),
  MRCD_WORKFLOW_BUNDLE: z.string().trim().min(1).optional(),
  // A region-local worker runs its region's activities only (docs/operations.md, "Region-local workers").
  MRCD_WORKER_ROLE: z.enum(['all', 'activities']).default('all'),
  MRCD_METRICS_PORT: port.optional(),
  // Loopback unless told: a worker on a laptop serves nobody else. In a container loopback
  // is the container's own, so docker-compose.yml sets 0.0.0.0 for Prometheus to reach it.
  // An address, not a name: the SDK's exporter binds a socket address and resolves none.
  MRCD_METRICS_HOST: z
    .string()
    .trim()
    .refine((h) => isIP(h) !== 0, 'must be an IP address to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)')
    .default('127.0.0.1'),
});

/**
 * Every variable the worker reads: the connection's and its own (docker-compose.yml is
 * checked against these). Besides these, the payload keys MRCD_PAYLOAD_KEY_<id> named by
 * MRCD_PAYLOAD_KEY_ID (common/payload-codec.ts), whose names depend on their ids.
 */
export const WORKER_ENV_KEYS: readonly string[] = [...Object.keys(connectionEnvSchema.shape), ...Object.keys(workerEnvSchema.shape), KEY_ID_VAR];

export interface WorkerConfig {
  connection: ConnectionConfig;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  logFormat: 'json' | 'pretty';
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  shutdownGraceMs: number;
  /** A prebuilt workflow bundle (production); without it the worker bundles at start. */
  workflowBundlePath?: string;
  /** `activities`: a region-local worker, no workflow code (MRCD_WORKER_ROLE). */
  activitiesOnly: boolean;
  /** Where to serve Prometheus metrics at /metrics; none without MRCD_METRICS_PORT. */
  metrics?: MetricsEndpoint;
}

export interface MetricsEndpoint {
  /** An IPv4 or IPv6 address. */
  host: string;
  port: number;
}

/** Reads and validates the worker's environment; throws a ConfigError listing every bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env, isTty = Boolean(process.stdout.isTTY)): WorkerConfig {
  const problems: string[] = [];
  let connection: ConnectionConfig | undefined;
  try {
    connection = connectionConfigFromEnv(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) problems.push(...issuesToProblems(parsed.error, env));
  // A host alone serves nothing: whoever set it expects an endpoint that would never come up.
  if (env.MRCD_METRICS_HOST !== undefined && env.MRCD_METRICS_PORT === undefined)
    problems.push('MRCD_METRICS_HOST: set without MRCD_METRICS_PORT, so no metrics would be served; set the port too, or neither');
  if (problems.length || !connection || !parsed.success) throw new ConfigError(problems);
  const w = parsed.data;
  return {
    connection,
    logLevel: w.MRCD_LOG_LEVEL,
    logFormat: w.MRCD_LOG_FORMAT === 'auto' ? (isTty ? 'pretty' : 'json') : w.MRCD_LOG_FORMAT,
    ...(w.MRCD_MAX_CONCURRENT_ACTIVITIES ? { maxConcurrentActivities: w.MRCD_MAX_CONCURRENT_ACTIVITIES } : {}),
    ...(w.MRCD_MAX_CONCURRENT_WORKFLOW_TASKS ? { maxConcurrentWorkflowTasks: w.MRCD_MAX_CONCURRENT_WORKFLOW_TASKS } : {}),
    shutdownGraceMs: parseDuration(w.MRCD_SHUTDOWN_GRACE)!,
    ...(w.MRCD_WORKFLOW_BUNDLE ? { workflowBundlePath: w.MRCD_WORKFLOW_BUNDLE } : {}),
    activitiesOnly: w.MRCD_WORKER_ROLE === 'activities',
    ...(w.MRCD_METRICS_PORT ? { metrics: { host: w.MRCD_METRICS_HOST, port: w.MRCD_METRICS_PORT } } : {}),
  };
}
