// The connection settings worker and mrcd share (common/connection.ts, common/profile.ts):
// the variables as they always were, Temporal's TOML config file profiles beneath them, the
// precedence flag > variable > profile > default, and every bad value named with where it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, connectionConfigFromEnv, connectOptions } from '../../common/connection';
import { defaultConfigFile } from '../../common/profile';
import { loadWorkerConfig, WORKER_ENV_KEYS } from '../../worker/config';
import { useTempDir } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const dir = useTempDir('mrcd-conn-');

function problems(env: Record<string, string>): string[] {
  try {
    connectionConfigFromEnv(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

let seq = 0;
function file(text: string, name = `f${++seq}`): string {
  const f = join(dir.path, name);
  writeFileSync(f, text);
  return f;
}

const TOML = (certs: { crt: string; key: string; ca: string }) => `
[profile.default]
address = "temporal.internal:7233"
namespace = "rollouts"

[profile.prod]
address = "prod.internal:7233"
namespace = "prod"
[profile.prod.tls]
client_cert_path = "${certs.crt}"
client_key_path = "${certs.key}"
server_ca_cert_path = "${certs.ca}"
server_name = "temporal.prod"
[profile.prod.grpc_meta]
x-team = "deploys"

[profile.cloud]
address = "ns.acct.tmprl.cloud:7233"
namespace = "ns.acct"
api_key = "secret-key"
`;

function certs() {
  return { crt: file('CRT', `crt${++seq}.pem`), key: file('KEY', `key${++seq}.pem`), ca: file('CA', `ca${++seq}.pem`) };
}

test('the variables alone, as before: defaults, TLS from a certificate, a CA or an API key, TEMPORAL_TLS=false wins', () => {
  assert.deepEqual(connectionConfigFromEnv({}), { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'mrcd-rollouts' });
  const c = certs();
  const mtls = connectionConfigFromEnv({
    TEMPORAL_ADDRESS: 'a:1',
    TEMPORAL_NAMESPACE: 'ns',
    MRCD_TASK_QUEUE: 'q',
    TEMPORAL_TLS_CERT_PATH: c.crt,
    TEMPORAL_TLS_KEY_PATH: c.key,
    TEMPORAL_TLS_CA_PATH: c.ca,
    TEMPORAL_TLS_SERVER_NAME: 'sn',
  });
  assert.deepEqual(mtls, {
    address: 'a:1',
    namespace: 'ns',
    taskQueue: 'q',
    tls: { clientCertPair: { crt: Buffer.from('CRT'), key: Buffer.from('KEY') }, serverRootCACertificate: Buffer.from('CA'), serverNameOverride: 'sn' },
  });
  assert.deepEqual(connectionConfigFromEnv({ TEMPORAL_API_KEY: 'k' }).tls, {}, 'an API key means TLS');
  assert.equal(connectionConfigFromEnv({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls, undefined);
  assert.deepEqual(connectionConfigFromEnv({ TEMPORAL_TLS: '1' }).tls, {});
  assert.equal(connectionConfigFromEnv({ TEMPORAL_TLS_SERVER_NAME: 'sn' }).tls, undefined, 'a server name alone does not turn TLS on');
  assert.deepEqual(connectOptions(connectionConfigFromEnv({ TEMPORAL_API_KEY: 'k' })), { address: '127.0.0.1:7233', tls: {}, apiKey: 'k' });

  assert.deepEqual(problems({ TEMPORAL_TLS_CERT_PATH: c.crt }), ['TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: set both for mTLS, or neither']);
  assert.deepEqual(problems({ TEMPORAL_TLS_CA_PATH: join(dir.path, 'nope.pem') }), [
    `TEMPORAL_TLS_CA_PATH: cannot read ${join(dir.path, 'nope.pem')} (ENOENT)`,
  ]);
  const bad = problems({ TEMPORAL_ADDRESS: 'nohost', TEMPORAL_TLS: 'yes', TEMPORAL_API_KEY: ' ' });
  assert.deepEqual(bad.slice(0, 2), [
    'TEMPORAL_ADDRESS: must be host:port, e.g. 127.0.0.1:7233 (got "nohost")',
    'TEMPORAL_API_KEY: must not be empty (value hidden)',
  ]);
  assert.match(bad[2]!, /^TEMPORAL_TLS: .*"true".* \(got "yes"\)$/);
  assert.equal(bad.length, 3);
});

test('a profile from TEMPORAL_CONFIG_FILE: "default" unless TEMPORAL_PROFILE names another; mTLS, a CA, headers, an API key', () => {
  const c = certs();
  const toml = file(TOML(c));
  assert.deepEqual(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml }), {
    address: 'temporal.internal:7233',
    namespace: 'rollouts',
    taskQueue: 'mrcd-rollouts',
    profile: { file: toml, name: 'default' },
  });
  const prod = connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
  assert.deepEqual(prod, {
    address: 'prod.internal:7233',
    namespace: 'prod',
    taskQueue: 'mrcd-rollouts',
    tls: {
      clientCertPair: { crt: Buffer.from('CRT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
      serverNameOverride: 'temporal.prod',
    },
    metadata: { 'x-team': 'deploys' },
    profile: { file: toml, name: 'prod' },
  });
  assert.deepEqual(connectOptions(prod).metadata, { 'x-team': 'deploys' });
  const cloud = connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
  assert.deepEqual(
    [cloud.address, cloud.namespace, cloud.apiKey, cloud.tls],
    ['ns.acct.tmprl.cloud:7233', 'ns.acct', 'secret-key', {}],
    'an API key means TLS, as for the CLI',
  );

  // PEM in the file itself, as `temporal config set` can write it.
  const inline = file('[profile.default.tls]\nclient_cert_data = """\nCRT-DATA\n"""\nclient_key_data = "KEY-DATA"\nserver_ca_cert_data = "CA-DATA"\n');
  assert.deepEqual(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: inline }).tls, {
    clientCertPair: { crt: Buffer.from('CRT-DATA\n'), key: Buffer.from('KEY-DATA') },
    serverRootCACertificate: Buffer.from('CA-DATA'),
  });
  assert.deepEqual(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: file('[profile.default.tls]\n') }).tls, {}, 'a [tls] table means TLS');
  assert.equal(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: file('[profile.default.tls]\ndisabled = true\n') }).tls, undefined);
});

test('precedence, setting by setting: a variable over the profile, the profile over the defaults', () => {
  const c = certs();
  const toml = file(TOML(c));
  const other = certs();
  writeFileSync(other.ca, 'OTHER-CA');
  const mixed = connectionConfigFromEnv({
    TEMPORAL_CONFIG_FILE: toml,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_NAMESPACE: 'from-env',
    TEMPORAL_TLS_CA_PATH: other.ca,
  });
  assert.equal(mixed.address, 'prod.internal:7233', 'the profile where no variable is set');
  assert.equal(mixed.namespace, 'from-env');
  assert.deepEqual(mixed.tls?.serverRootCACertificate, Buffer.from('OTHER-CA'));
  assert.deepEqual(mixed.tls?.clientCertPair, { crt: Buffer.from('CRT'), key: Buffer.from('KEY') });
  assert.equal(mixed.tls?.serverNameOverride, 'temporal.prod');

  // The variables' certificate pair replaces the profile's as a pair.
  writeFileSync(other.crt, 'ENV-CRT');
  writeFileSync(other.key, 'ENV-KEY');
  const pair = connectionConfigFromEnv({
    TEMPORAL_CONFIG_FILE: toml,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_TLS_CERT_PATH: other.crt,
    TEMPORAL_TLS_KEY_PATH: other.key,
  });
  assert.deepEqual(pair.tls?.clientCertPair, { crt: Buffer.from('ENV-CRT'), key: Buffer.from('ENV-KEY') });

  assert.equal(
    connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_TLS: 'false' }).tls,
    undefined,
    'TEMPORAL_TLS=false wins',
  );
  const off = file('[profile.default]\napi_key = "k"\n[profile.default.tls]\ndisabled = true\n');
  assert.equal(
    connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: off, TEMPORAL_TLS_CA_PATH: c.ca }).tls,
    undefined,
    "the profile's tls.disabled over what a CA implies",
  );
  assert.deepEqual(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: off, TEMPORAL_TLS: 'true' }).tls, {}, 'TEMPORAL_TLS over the profile');
  assert.equal(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_API_KEY: 'env-key' }).apiKey, 'env-key');

  // The worker reads the same: its variables include the file's and the profile's.
  assert.equal(loadWorkerConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }, false).connection.address, 'prod.internal:7233');
  for (const k of ['TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE']) assert.ok(WORKER_ENV_KEYS.includes(k), k);
});

test('the default file, as the CLI finds it: $XDG_CONFIG_HOME or ~/.config, then temporalio/temporal.toml; optional unless a profile is named', () => {
  assert.equal(defaultConfigFile({ HOME: '/home/u' }, 'linux'), '/home/u/.config/temporalio/temporal.toml');
  assert.equal(defaultConfigFile({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }, 'linux'), '/cfg/temporalio/temporal.toml');
  assert.equal(defaultConfigFile({ HOME: '/Users/u' }, 'darwin'), '/Users/u/Library/Application Support/temporalio/temporal.toml');
  assert.equal(defaultConfigFile({}, 'linux'), undefined);

  const home = join(dir.path, 'home');
  mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
  assert.equal(connectionConfigFromEnv({ HOME: home }).address, '127.0.0.1:7233', 'no file: the defaults');
  const at = join(home, '.config', 'temporalio', 'temporal.toml');
  assert.deepEqual(problems({ HOME: home, TEMPORAL_PROFILE: 'prod' }), [
    `TEMPORAL_PROFILE: no profile "prod": there is no config file (${at} does not exist; TEMPORAL_CONFIG_FILE names another)`,
  ]);
  assert.deepEqual(problems({ TEMPORAL_PROFILE: 'prod' }), [
    'TEMPORAL_PROFILE: no profile "prod": no config file (TEMPORAL_CONFIG_FILE is not set, and neither HOME nor XDG_CONFIG_HOME says where the default one is)',
  ]);
  writeFileSync(at, '');
  assert.equal(connectionConfigFromEnv({ HOME: home }).profile, undefined, 'an empty file: no profiles');
  writeFileSync(at, '[profile.default]\naddress = "home.internal:7233"\n');
  assert.deepEqual(connectionConfigFromEnv({ HOME: home }).profile, { file: at, name: 'default' });
  assert.equal(connectionConfigFromEnv({ HOME: home, TEMPORAL_ADDRESS: 'env:1' }).address, 'env:1');
  if (process.getuid?.() !== 0) {
    chmodSync(at, 0o000);
    assert.deepEqual(problems({ HOME: home }), [`${at}: cannot read the default Temporal config file (EACCES)`]);
    chmodSync(at, 0o600);
  }
});

test('every bad value named: a missing profile, an unreadable file, bad TOML, bad values with the file and the key', () => {
  const toml = file(TOML(certs()));
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }), [
    `TEMPORAL_PROFILE: no profile "staging": ${toml} has only "default", "prod", "cloud"`,
  ]);
  const missing = join(dir.path, 'missing.toml');
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: missing }), [`TEMPORAL_CONFIG_FILE: cannot read ${missing} (ENOENT)`], 'a file named must exist');
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: dir.path }), [`TEMPORAL_CONFIG_FILE: cannot read ${dir.path} (EISDIR)`]);
  assert.deepEqual(problems({ TEMPORAL_PROFILE: '', TEMPORAL_CONFIG_FILE: ' ' }), [
    'TEMPORAL_CONFIG_FILE: must be a file path (got " ")',
    'TEMPORAL_PROFILE: must not be empty (got "")',
  ]);

  const broken = file('[profile.default]\naddress = "x:1\nnamespace = "n"\n');
  const [syntax, ...rest] = problems({ TEMPORAL_CONFIG_FILE: broken });
  assert.deepEqual(rest, []);
  assert.match(syntax!, new RegExp(`^${broken}: Invalid TOML document: .* \\(line 2, column \\d+\\)$`));

  const bad = file(`
[profile.default]
address = 7233
namespace = ""
api_key = 12
[profile.default.tls]
disabled = "no"
server_ca_cert_path = 5
[profile.default.grpc_meta]
x-n = 1
`);
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: bad, TEMPORAL_ADDRESS: 'also bad' }), [
    'TEMPORAL_ADDRESS: must be host:port, e.g. 127.0.0.1:7233 (got "also bad")',
    `${bad}: profile.default.address: must be a string (got 7233)`,
    `${bad}: profile.default.namespace: must not be empty (got "")`,
    `${bad}: profile.default.api_key: must be a string (value hidden)`,
    `${bad}: profile.default.tls.disabled: must be true or false (got "no")`,
    `${bad}: profile.default.tls.server_ca_cert_path: must be a string (got 5)`,
    `${bad}: profile.default.grpc_meta.x-n: must be a string (value hidden)`,
  ]);

  const unreadable = file(
    '[profile.default.tls]\nclient_cert_path = "/nonexistent/c.pem"\nclient_key_path = "/nonexistent/k.pem"\nserver_ca_cert_path = "/nonexistent/ca.pem"\n',
  );
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: unreadable }), [
    `${unreadable}: profile.default.tls.client_cert_path: cannot read /nonexistent/c.pem (ENOENT)`,
    `${unreadable}: profile.default.tls.client_key_path: cannot read /nonexistent/k.pem (ENOENT)`,
    `${unreadable}: profile.default.tls.server_ca_cert_path: cannot read /nonexistent/ca.pem (ENOENT)`,
  ]);
  const lonely = file('[profile.default.tls]\nclient_cert_data = "C"\n');
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: lonely }), [
    `${lonely}: profile.default.tls: a client certificate needs its key (client_cert_* and client_key_*): set both for mTLS, or neither`,
  ]);
  const both = file('[profile.x.tls]\nclient_cert_path = "a"\nclient_cert_data = "b"\n');
  assert.deepEqual(problems({ TEMPORAL_CONFIG_FILE: both, TEMPORAL_PROFILE: 'x' }), [`${both}: Cannot specify both client_cert_path and client_cert_data`]);
});

test('mrcd: --profile and --config-file over the variables; a profile that does not exist is exit 2 with its name', () => {
  const toml = file(TOML(certs()));
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), ...args, 'list'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  const viaEnv = run([], { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' });
  assert.equal(viaEnv.status, 2, viaEnv.stderr);
  assert.match(viaEnv.stderr, new RegExp(`TEMPORAL_PROFILE: no profile "staging": ${toml} has only "default", "prod", "cloud"`));
  const viaFlag = run(['--config-file', toml, '--profile', 'nope'], { TEMPORAL_PROFILE: 'prod' });
  assert.equal(viaFlag.status, 2, viaFlag.stderr);
  assert.match(viaFlag.stderr, /no profile "nope"/, '--profile over TEMPORAL_PROFILE');
  // A profile that exists but points nowhere reachable: exit 4, and the message says which profile.
  const unreachable = file('[profile.default]\naddress = "127.0.0.1:1"\n');
  const gone = run(['--config-file', unreachable, '--namespace', 'from-flag'], { TEMPORAL_NAMESPACE: 'from-env' });
  assert.equal(gone.status, 4, gone.stderr);
  assert.match(gone.stderr, new RegExp(`cannot reach Temporal at 127\\.0\\.0\\.1:1 \\(namespace from-flag, profile default of ${unreachable}\\)`));
  // --address over TEMPORAL_ADDRESS over the profile.
  const flagged = run(['--config-file', unreachable, '--address', '127.0.0.1:2'], { TEMPORAL_ADDRESS: '127.0.0.1:3' });
  assert.equal(flagged.status, 4, flagged.stderr);
  assert.match(flagged.stderr, /cannot reach Temporal at 127\.0\.0\.1:2 /);
});
