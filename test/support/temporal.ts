// Real Temporal servers for tests: the time-skipping test server (workflow unit tests)
// and the CLI dev server (integration tests), both from the project's pinned binaries.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { findTemporalCli, findTestServer, INSTALL_HINT } from '../../dev/temporal-binaries';

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const bin = findTestServer();
  if (!bin) throw new Error(`No time-skipping test server: ${INSTALL_HINT}`);
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: bin.path } } });
  // The workflow upserts typed search attributes; the server refuses unknown ones.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((k) => [k, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

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
