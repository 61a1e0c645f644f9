// Where Temporal is and how to reach it, from the environment. Shared by the worker, the
// CLI and the client library so that one set of variables configures all of them.
import { readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUE_DEFAULT } from '../workflows/definitions';

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const hostPort = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');
const path = z.string().trim().min(1, 'must be a file path');

export const connectionEnvSchema = z.object({
  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: nonEmpty.default('default'),
  MRCD_TASK_QUEUE: nonEmpty.default(TASK_QUEUE_DEFAULT),
  /** Temporal Cloud API key. It is the worker's own credential, never part of a plan. */
  TEMPORAL_API_KEY: nonEmpty.optional(),
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  TEMPORAL_TLS_CERT_PATH: path.optional(),
  TEMPORAL_TLS_KEY_PATH: path.optional(),
  TEMPORAL_TLS_CA_PATH: path.optional(),
  TEMPORAL_TLS_SERVER_NAME: nonEmpty.optional(),
});

export interface ConnectionConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer; serverNameOverride?: string };
}

/** Raised for bad environment values; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function issuesToProblems(error: z.ZodError, env: Record<string, string | undefined>): string[] {
  return error.issues.map((i) => {
    const name = String(i.path[0] ?? '(env)');
    const value = env[name];
    const shown = value === undefined ? '' : name.includes('KEY') || name.includes('TOKEN') ? ' (value hidden)' : ` (got ${JSON.stringify(value)})`;
    return `${name}: ${i.message}${shown}`;
  });
}

function readFile(name: string, file: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (e) {
    problems.push(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return undefined;
  }
}

/** Builds the connection settings from env, or throws a ConfigError naming each bad variable. */
export function connectionConfigFromEnv(env: Record<string, string | undefined> = process.env): ConnectionConfig {
  const parsed = connectionEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(issuesToProblems(parsed.error, env));
  const e = parsed.data;
  const problems: string[] = [];
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    problems.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both for mTLS, or neither');
  }
  const wantTls = e.TEMPORAL_TLS === 'true' || e.TEMPORAL_TLS === '1' || Boolean(e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_CA_PATH || e.TEMPORAL_API_KEY);
  let tls: ConnectionConfig['tls'];
  if (wantTls && e.TEMPORAL_TLS !== 'false' && e.TEMPORAL_TLS !== '0') {
    tls = {};
    if (e.TEMPORAL_TLS_CERT_PATH && e.TEMPORAL_TLS_KEY_PATH) {
      const crt = readFile('TEMPORAL_TLS_CERT_PATH', e.TEMPORAL_TLS_CERT_PATH, problems);
      const key = readFile('TEMPORAL_TLS_KEY_PATH', e.TEMPORAL_TLS_KEY_PATH, problems);
      if (crt && key) tls.clientCertPair = { crt, key };
    }
    if (e.TEMPORAL_TLS_CA_PATH) {
      const ca = readFile('TEMPORAL_TLS_CA_PATH', e.TEMPORAL_TLS_CA_PATH, problems);
      if (ca) tls.serverRootCACertificate = ca;
    }
    if (e.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = e.TEMPORAL_TLS_SERVER_NAME;
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.MRCD_TASK_QUEUE,
    ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** A client connection to the configured Temporal (TLS and API key included); the caller closes it. */
export function connectTemporal(c: ConnectionConfig): Promise<Connection> {
  return Connection.connect({
    address: c.address,
    ...(c.tls ? { tls: c.tls } : {}),
    ...(c.apiKey ? { apiKey: c.apiKey } : {}),
    connectTimeout: 5000,
  });
}
