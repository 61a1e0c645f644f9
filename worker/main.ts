// The worker process: `npm run worker`. Config from env (every bad variable named, exit 2),
// JSON logs (pretty on a TTY), Prometheus metrics at MRCD_METRICS_HOST:MRCD_METRICS_PORT
// when the port is set, graceful shutdown on SIGINT/SIGTERM: in-flight activities get
// MRCD_SHUTDOWN_GRACE to finish, and Temporal hands anything left to another worker.
import { ConfigError, connectTemporal } from '../common/connection';
import { loadWorkerConfig } from './config';
import { createLogger } from './logger';
import { bindAddress, installRuntime } from './runtime';
import { createWorker } from './create';
import type { ConnectionConfig } from '../common/connection';
import { createCommands, missingSearchAttributes } from './search-attributes';

/** Missing search attributes, or undefined when the check itself is not allowed (e.g. a Cloud key without operator rights). */
async function checkSearchAttributes(c: ConnectionConfig): Promise<string[] | undefined> {
  const connection = await connectTemporal(c);
  try {
    return await missingSearchAttributes(connection, c.namespace);
  } catch {
    return undefined;
  } finally {
    await connection.close();
  }
}

async function main(): Promise<number> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`mrcd worker: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createLogger(config.logLevel, config.logFormat);
  const { metrics } = config;
  try {
    installRuntime(logger, metrics ? { metrics } : {});
  } catch (e) {
    if (!metrics) throw e;
    // Most likely the port is taken (another worker on this host?).
    logger.fatal({ metrics: bindAddress(metrics), err: (e as Error).message }, 'cannot serve metrics at MRCD_METRICS_HOST:MRCD_METRICS_PORT');
    return 1;
  }
  if (metrics) logger.info({ metrics: `http://${bindAddress(metrics)}/metrics` }, 'serving Prometheus metrics');
  const { address, namespace, taskQueue } = config.connection;
  // Checked before the worker exists: a rollout in a namespace without them stops moving.
  let missing: string[] | undefined;
  try {
    missing = await checkSearchAttributes(config.connection);
  } catch (e) {
    logger.fatal({ address, namespace, err: (e as Error).message }, 'cannot reach Temporal at TEMPORAL_ADDRESS');
    return 1;
  }
  if (missing === undefined) logger.warn({ namespace }, 'could not list search attributes (no operator rights?); make sure they exist: docs/operations.md');
  if (missing && missing.length > 0) {
    logger.fatal(
      { namespace, missing },
      `search attributes missing in namespace ${namespace}: rollouts would stop at their first upsert. Create them:\n${createCommands(missing, namespace)}`,
    );
    return 2;
  }
  let created;
  try {
    created = await createWorker({
      connection: config.connection,
      ...(config.workflowBundlePath ? { workflowBundle: config.workflowBundlePath } : {}),
      ...(config.maxConcurrentActivities ? { maxConcurrentActivities: config.maxConcurrentActivities } : {}),
      ...(config.maxConcurrentWorkflowTasks ? { maxConcurrentWorkflowTasks: config.maxConcurrentWorkflowTasks } : {}),
      shutdownGraceMs: config.shutdownGraceMs,
      activitiesOnly: config.activitiesOnly,
    });
  } catch (e) {
    logger.fatal({ address, namespace, err: (e as Error).message }, 'cannot start the worker: is Temporal reachable at TEMPORAL_ADDRESS?');
    return 1;
  }
  const encryption = config.connection.payloadKeys ? `on, key ${config.connection.payloadKeys.currentKeyId}` : 'off';
  logger.info({ address, namespace, taskQueue, payloadEncryption: encryption }, 'worker started');
  try {
    await created.worker.run();
  } finally {
    await created.connection.close();
  }
  logger.info('worker stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`mrcd worker: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
