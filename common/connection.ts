// Where Temporal is and how to reach it, from the environment and the temporal CLI's config
// file profile (profile.ts). Shared by the worker, the CLI and the client library so that
// one set of variables and one file configure all of them.
import { readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUE_DEFAULT } from '../domain/definitions';
import { selectProfile } from './profile';
import { probeTls } from './tls-probe';
import { payloadKeysFromEnv, type PayloadKeys } from './payload-codec';

const nonEmpty = z.string('must be a string').trim().min(1, 'must not be empty');
const hostPort = z
  .string('must be a string')
  .trim()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233');
const path = z.string('must be a string').trim().min(1, 'must be a file path');
// PEM text is taken as written, not trimmed.
const pem = z.string('must be a string').refine((s) => s.trim() !== '', 'must not be empty');

export const ADDRESS_DEFAULT = '127.0.0.1:7233';
export const NAMESPACE_DEFAULT = 'default';

// No defaults for address and namespace here: a profile comes between these and the defaults.
export const connectionEnvSchema = z.object({
  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: nonEmpty.optional(),
  MRCD_TASK_QUEUE: nonEmpty.default(TASK_QUEUE_DEFAULT),
  /** Temporal Cloud API key. It is the worker's own credential, never part of a plan. */
  TEMPORAL_API_KEY: nonEmpty.optional(),
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  TEMPORAL_TLS_CERT_PATH: path.optional(),
  TEMPORAL_TLS_KEY_PATH: path.optional(),
  TEMPORAL_TLS_CA_PATH: path.optional(),
  TEMPORAL_TLS_SERVER_NAME: nonEmpty.optional(),
  /** Temporal's client config file (TOML, the temporal CLI's); default ~/.config/temporalio/temporal.toml. */
  TEMPORAL_CONFIG_FILE: path.optional(),
  /** The profile of that file to use; default "default". */
  TEMPORAL_PROFILE: nonEmpty.optional(),
});

// A profile as the file has it (key names of `temporal config`). Strings a key needs are
// checked like the variables; keys mrcd does not use (codec, ...) are ignored, as the CLI does.
const fileTlsSchema = z.object({
  disabled: z.boolean('must be true or false').optional(),
  server_name: nonEmpty.optional(),
  client_cert_path: path.optional(),
  client_cert_data: pem.optional(),
  client_key_path: path.optional(),
  client_key_data: pem.optional(),
  server_ca_cert_path: path.optional(),
  server_ca_cert_data: pem.optional(),
});
const fileProfileSchema = z.object({
  address: hostPort.optional(),
  namespace: nonEmpty.optional(),
  api_key: nonEmpty.optional(),
  tls: fileTlsSchema.optional(),
  grpc_meta: z.record(z.string(), z.string('must be a string')).optional(),
});
type FileProfile = z.infer<typeof fileProfileSchema>;

export interface ConnectionConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer; serverNameOverride?: string };
  /** gRPC headers on every call (a profile's grpc_meta). */
  metadata?: Record<string, string>;
  /** The config file profile this was read from, when one applied: for messages. */
  profile?: { file: string; name: string };
  /** Payload encryption keys (MRCD_PAYLOAD_KEY_ID, MRCD_PAYLOAD_KEY_<id>: payload-codec.ts); absent: off. */
  payloadKeys?: PayloadKeys;
}

/** Raised for bad settings; names every bad variable, and the file and key of every bad profile value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const secret = (name: string) => /KEY|TOKEN|_DATA$/i.test(name);

export function issuesToProblems(error: z.ZodError, env: Record<string, string | undefined>): string[] {
  return error.issues.map((i) => {
    const name = String(i.path[0] ?? '(env)');
    const value = env[name];
    const shown = value === undefined ? '' : secret(name) ? ' (value hidden)' : ` (got ${JSON.stringify(value)})`;
    return `${name}: ${i.message}${shown}`;
  });
}

// Headers (grpc_meta) often carry credentials, so their values are never shown either.
function fileProblems(error: z.ZodError, file: string, profile: string, values: Record<string, unknown>): string[] {
  return error.issues.map((i) => {
    const key = i.path.map(String).join('.');
    const value = i.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), values);
    const shown =
      value === undefined || typeof value === 'object'
        ? ''
        : secret(key) || key.startsWith('grpc_meta.')
          ? ' (value hidden)'
          : ` (got ${JSON.stringify(value)})`;
    return `${file}: profile.${profile}.${key}: ${i.message}${shown}`;
  });
}

/** Where a certificate or key comes from: a file, or PEM text in the profile itself. */
type Source = { what: string; path: string } | { what: string; data: string };

function read(source: Source, problems: string[]): Buffer | undefined {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (e) {
    problems.push(`${source.what}: cannot read ${source.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return undefined;
  }
}

/** A certificate or key of the profile: a path or the PEM itself (the SDK's loader refuses both). */
function fileSource(
  p: { file: string; name: string },
  tls: NonNullable<FileProfile['tls']>,
  base: 'client_cert' | 'client_key' | 'server_ca_cert',
): Source | undefined {
  const at = `${p.file}: profile.${p.name}.tls.${base}`;
  const path = tls[`${base}_path`];
  const data = tls[`${base}_data`];
  if (path !== undefined) return { what: `${at}_path`, path };
  return data !== undefined ? { what: `${at}_data`, data } : undefined;
}

const envSource = (name: string, path: string | undefined): Source | undefined => (path ? { what: name, path } : undefined);

/**
 * Builds the connection settings from env (and the config file profile it selects), or
 * throws a ConfigError naming each bad variable, file and key.
 *
 * Precedence is the temporal CLI's, setting by setting: a variable over the profile, the
 * profile over the defaults (the CLI's flags come first by being written into `env`). TLS is
 * on when TEMPORAL_TLS says so, else when the profile's tls.disabled says so, else when
 * anything that needs it is set: a client certificate, a CA, an API key, a profile [tls] table.
 */
export function connectionConfigFromEnv(env: Record<string, string | undefined> = process.env): ConnectionConfig {
  const parsed = connectionEnvSchema.safeParse(env);
  const problems = parsed.success ? [] : issuesToProblems(parsed.error, env);
  // The profile is read even when some variable is bad, so that one run names every problem.
  const fileVar = parsed.success ? parsed.data.TEMPORAL_CONFIG_FILE : connectionEnvSchema.shape.TEMPORAL_CONFIG_FILE.safeParse(env.TEMPORAL_CONFIG_FILE).data;
  const profileVar = parsed.success ? parsed.data.TEMPORAL_PROFILE : connectionEnvSchema.shape.TEMPORAL_PROFILE.safeParse(env.TEMPORAL_PROFILE).data;
  const badSelection = !parsed.success && parsed.error.issues.some((i) => i.path[0] === 'TEMPORAL_CONFIG_FILE' || i.path[0] === 'TEMPORAL_PROFILE');
  const selected = badSelection
    ? undefined
    : selectProfile({ ...(fileVar ? { file: fileVar } : {}), ...(profileVar ? { profile: profileVar } : {}) }, env, problems);
  let p: FileProfile = {};
  if (selected) {
    const checked = fileProfileSchema.safeParse(selected.values);
    if (checked.success) p = checked.data;
    else problems.push(...fileProblems(checked.error, selected.file, selected.name, selected.values));
  }
  const encryption = payloadKeysFromEnv(env);
  problems.push(...encryption.problems);
  if (!parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  if (Boolean(e.TEMPORAL_TLS_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_KEY_PATH)) {
    problems.push('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both for mTLS, or neither');
  }
  const apiKey = e.TEMPORAL_API_KEY ?? p.api_key;
  const envSwitch = e.TEMPORAL_TLS === undefined ? undefined : e.TEMPORAL_TLS === 'true' || e.TEMPORAL_TLS === '1';
  const fileSwitch = p.tls?.disabled === undefined ? undefined : !p.tls.disabled;
  const tlsOn = envSwitch ?? fileSwitch ?? Boolean(e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_CA_PATH || apiKey || p.tls);
  let tls: ConnectionConfig['tls'];
  if (tlsOn) {
    tls = {};
    // The client certificate and its key go together: the variables' pair, else the profile's.
    let crt = envSource('TEMPORAL_TLS_CERT_PATH', e.TEMPORAL_TLS_CERT_PATH);
    let key = envSource('TEMPORAL_TLS_KEY_PATH', e.TEMPORAL_TLS_KEY_PATH);
    let ca = envSource('TEMPORAL_TLS_CA_PATH', e.TEMPORAL_TLS_CA_PATH);
    if (selected && p.tls) {
      const fileCrt = fileSource(selected, p.tls, 'client_cert');
      const fileKey = fileSource(selected, p.tls, 'client_key');
      if (!crt && !key) {
        if (Boolean(fileCrt) !== Boolean(fileKey))
          problems.push(
            `${selected.file}: profile.${selected.name}.tls: a client certificate needs its key (client_cert_* and client_key_*): set both for mTLS, or neither`,
          );
        [crt, key] = [fileCrt, fileKey];
      }
      ca ??= fileSource(selected, p.tls, 'server_ca_cert');
    }
    if (crt && key) {
      const crtBuf = read(crt, problems);
      const keyBuf = read(key, problems);
      if (crtBuf && keyBuf) tls.clientCertPair = { crt: crtBuf, key: keyBuf };
    }
    if (ca) {
      const caBuf = read(ca, problems);
      if (caBuf) tls.serverRootCACertificate = caBuf;
    }
    const serverName = e.TEMPORAL_TLS_SERVER_NAME ?? p.tls?.server_name;
    if (serverName) tls.serverNameOverride = serverName;
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    address: e.TEMPORAL_ADDRESS ?? p.address ?? ADDRESS_DEFAULT,
    namespace: e.TEMPORAL_NAMESPACE ?? p.namespace ?? NAMESPACE_DEFAULT,
    taskQueue: e.MRCD_TASK_QUEUE,
    ...(apiKey ? { apiKey } : {}),
    ...(tls ? { tls } : {}),
    ...(p.grpc_meta && Object.keys(p.grpc_meta).length ? { metadata: p.grpc_meta } : {}),
    ...(selected ? { profile: { file: selected.file, name: selected.name } } : {}),
    ...(encryption.keys ? { payloadKeys: encryption.keys } : {}),
  };
}

/** What Connection.connect and NativeConnection.connect both take: address, TLS, API key, headers. */
export function connectOptions(c: ConnectionConfig): {
  address: string;
  tls?: NonNullable<ConnectionConfig['tls']>;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  return {
    address: c.address,
    ...(c.tls ? { tls: c.tls } : {}),
    ...(c.apiKey ? { apiKey: c.apiKey } : {}),
    ...(c.metadata ? { metadata: c.metadata } : {}),
  };
}

/**
 * A client connection to the configured Temporal (TLS and API key included); the caller
 * closes it. A failure caused by TLS says so, and which setting to look at (tls-probe.ts).
 */
export async function connectTemporal(c: ConnectionConfig): Promise<Connection> {
  try {
    return await Connection.connect({ ...connectOptions(c), connectTimeout: 5000 });
  } catch (e) {
    const why = await probeTls(c.address, c.tls);
    if (why === undefined) throw e;
    throw new Error(`TLS with ${c.address} failed: ${why}`, { cause: e });
  }
}
