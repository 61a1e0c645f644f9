// Shared by the tests that run workflows: the pinned CLI and one workflow bundle per process.
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { findTemporalCli, INSTALL_HINT } from '../../dev/temporal-binaries';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

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

/**
 * The time-skipping test server knows no custom search attributes until told; the
 * workflow's upserts would fail its tasks (BadSearchAttributes) otherwise.
 */
export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  const Keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  const searchAttributes = Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, Keyword]));
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
}
