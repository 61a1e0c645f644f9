// Shared by the tests that run workflows: the pinned CLI and one workflow bundle per process.
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { findTemporalCli, INSTALL_HINT } from '../../dev/temporal-binaries';

export function requireCli(): string {
  const cli = findTemporalCli();
  if (!cli) throw new Error(INSTALL_HINT);
  return cli.path;
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

