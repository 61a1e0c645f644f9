// TLS and mTLS for real: certificates from a CA made here with openssl, the client library
// (grpc-js), the worker's connection (the SDK's Rust core, rustls), the worker process and
// bin/mrcd.js, configured through the variables and through a Temporal config file profile.
//
// The dev server has no TLS option, so a TLS-terminating proxy (node:tls, ALPN h2, client
// certificates required for the mTLS one) stands in front of it and pipes each connection to
// its plain port. The proxy is test infrastructure; the TLS is real: every handshake, every
// certificate check and every refusal below is made by the same code as against a cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { temporal } from '@temporalio/proto';
import { connectionConfigFromEnv, type ConnectionConfig } from '../../common/connection';
import { connectClient, startRollout, type MrcdClient } from '../../client/rollouts';
import { listRollouts } from '../../client/listing';
import { connectNative, createWorker } from '../../worker/create';
import { planDoc, scriptedActivities, startTestServer, statusUntil, TEST_GATE, type Call, type TestServer } from '../support/rollout-harness';
import { forTheFile, requireCli, workflowBundle } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const SERVER_NAME = 'temporal.test';

interface Pki {
  ca: string;
  otherCa: string;
  serverCrt: string;
  serverKey: string;
  clientCrt: string;
  clientKey: string;
}

/** A CA, a server certificate for SERVER_NAME and a client certificate it signed; a second, unrelated CA. */
function makePki(dir: string): Pki {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  // P-256 keys: quick to make, and both OpenSSL (node) and rustls (the worker) take them.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca'])
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '1',
      '-subj',
      `/CN=mrcd test ${ca}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n${ext}\n`);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${Date.now().toString(16)}${name.length}`,
      '-days',
      '1',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    );
  };
  // rustls checks the subjectAltName, never the CN.
  leaf('server', SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth`);
  leaf('client', 'mrcd-worker', 'extendedKeyUsage=clientAuth');
  const at = (f: string) => join(dir, f);
  return {
    ca: at('ca.pem'),
    otherCa: at('other-ca.pem'),
    serverCrt: at('server.pem'),
    serverKey: at('server.key'),
    clientCrt: at('client.pem'),
    clientKey: at('client.key'),
  };
}

/** The proxy: TLS on a port of its own (127.0.0.1), each connection piped to the dev server's plain port. */
async function tlsProxy(pki: Pki, upstream: string, mtls: boolean): Promise<{ address: string; close(): Promise<void> }> {
  const [host, port] = upstream.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const server: TlsServer = createTlsServer(
    {
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCrt),
      ALPNProtocols: ['h2'],
      ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(pki.ca) } : {}),
    },
    (client) => {
      const up = connectTcp(Number(port), host);
      for (const s of [client, up]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
      client.pipe(up).pipe(client);
    },
  );
  server.on('tlsClientError', () => {}); // refused handshakes are what some tests are about
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

interface Rig {
  dir: string;
  server: TestServer;
  pki: Pki;
  tls: string;
  mtls: string;
  stop(): Promise<void>;
}

// One hook starts all of it: node 20 runs a file's top-level before hooks concurrently.
const rig = forTheFile<Rig>(
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrcd-tls-'));
    const pki = makePki(dir);
    const server = await startTestServer();
    const proxies = [await tlsProxy(pki, server.address, false), await tlsProxy(pki, server.address, true)];
    return {
      dir,
      server,
      pki,
      tls: proxies[0]!.address,
      mtls: proxies[1]!.address,
      stop: async () => {
        for (const p of proxies) await p.close();
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  (r) => r.stop(),
);

let seq = 0;
const queue = () => `tls-${process.pid}-${++seq}`;

/** A one-region rollout plan that ends in a few seconds. */
const shortPlan = (service: string) => planDoc({ service, defaults: { soak: '1s', checkInterval: '300ms', gate: TEST_GATE } }, [{ name: 'solo', size: 1 }]);

async function withClient<T>(c: ConnectionConfig, body: (m: MrcdClient) => Promise<T>): Promise<T> {
  const m = await connectClient(c);
  try {
    return await body(m);
  } finally {
    await m.close();
  }
}

/** A rollout nobody serves, so that a listing has something to show. */
async function pendingRollout(service: string): Promise<void> {
  await startRollout({ client: rig.server.client, taskQueue: queue(), close: async () => {} }, shortPlan(service));
}

async function listed(m: MrcdClient, service: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await listRollouts(m, { service });
    if (rows.length || Date.now() > deadline) return rows.map((r) => r.service);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The environment of a child process: this one's, without any Temporal or mrcd setting it might carry. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(TEMPORAL_|MRCD_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

let profiles: string | undefined;
/**
 * The profiles: "mtls" written by the temporal CLI itself (`temporal config set`), so the
 * file is in the CLI's own format; the others appended as a person would write them.
 */
function profileFile(): string {
  if (profiles) return profiles;
  const { pki } = rig;
  const file = join(rig.dir, 'temporal.toml');
  const settings = {
    address: rig.mtls,
    namespace: 'default',
    'tls.client_cert_path': pki.clientCrt,
    'tls.client_key_path': pki.clientKey,
    'tls.server_ca_cert_path': pki.ca,
    'tls.server_name': SERVER_NAME,
  };
  for (const [prop, value] of Object.entries(settings))
    execFileSync(requireCli(), ['config', 'set', '--profile', 'mtls', '--prop', prop, '--value', value], { env: childEnv({ TEMPORAL_CONFIG_FILE: file }) });
  appendFileSync(
    file,
    `
[profile.tls]
address = "${rig.tls}"
[profile.tls.tls]
server_ca_cert_path = "${pki.ca}"
server_name = "${SERVER_NAME}"

# mtls, with the PEM in the file itself.
[profile.mtls-inline]
address = "${rig.mtls}"
[profile.mtls-inline.tls]
client_cert_data = """
${readFileSync(pki.clientCrt, 'utf8')}"""
client_key_data = """
${readFileSync(pki.clientKey, 'utf8')}"""
server_ca_cert_data = """
${readFileSync(pki.ca, 'utf8')}"""
server_name = "${SERVER_NAME}"

[profile.mtls-no-cert]
address = "${rig.mtls}"
[profile.mtls-no-cert.tls]
server_ca_cert_path = "${pki.ca}"
server_name = "${SERVER_NAME}"
`,
  );
  profiles = file;
  return file;
}

/** A child process to its end, spawned: the proxy lives in this process and must go on answering. */
function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      res({ status, stdout, stderr });
    });
  });
}

/** The real worker process (worker/main.ts) with a prebuilt workflow bundle; its output so far, and its exit. */
async function workerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const bundle = join(rig.dir, 'workflow-bundle.js');
  writeFileSync(bundle, (await workflowBundle()).code);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    env: childEnv({ MRCD_WORKFLOW_BUNDLE: bundle, MRCD_LOG_FORMAT: 'json', MRCD_SHUTDOWN_GRACE: '1s', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

test('(a) server CA and server name from the variables: the library lists rollouts, a worker runs a rollout to its end', { timeout: 120_000 }, async () => {
  const c = connectionConfigFromEnv({
    TEMPORAL_ADDRESS: rig.tls,
    TEMPORAL_TLS_CA_PATH: rig.pki.ca,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    MRCD_TASK_QUEUE: queue(),
  });
  assert.ok(c.tls?.serverRootCACertificate && c.tls.serverNameOverride === SERVER_NAME && !c.tls.clientCertPair);
  const calls: Call[] = [];
  const { worker, connection } = await createWorker({ connection: c, workflowBundle: await workflowBundle(), activities: scriptedActivities({}, calls) });
  try {
    await worker.runUntil(
      withClient(c, async (m) => {
        await startRollout(m, shortPlan('tls-env'));
        const s = await statusUntil(m, 'tls-env', (s) => s.state === 'succeeded', 'succeeded');
        assert.deepEqual(
          s.regions.map((r) => r.status),
          ['promoted'],
        );
        assert.deepEqual(await listed(m, 'tls-env'), ['tls-env']);
      }),
    );
  } finally {
    await connection.close();
  }
  assert.ok(
    calls.some((x) => x.kind === 'deploy'),
    'the worker, connected over TLS, ran the deploy',
  );
});

test('(b) mTLS: with the client certificate both connections work; without it the server refuses, and the error says why', { timeout: 120_000 }, async () => {
  const base = { TEMPORAL_ADDRESS: rig.mtls, TEMPORAL_TLS_CA_PATH: rig.pki.ca, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME };
  const withCert = connectionConfigFromEnv({ ...base, TEMPORAL_TLS_CERT_PATH: rig.pki.clientCrt, TEMPORAL_TLS_KEY_PATH: rig.pki.clientKey });
  await pendingRollout('tls-mtls');
  assert.deepEqual(await withClient(withCert, (m) => listed(m, 'tls-mtls')), ['tls-mtls']);
  await (await connectNative(withCert)).close();

  const without = connectionConfigFromEnv(base);
  await assert.rejects(connectClient(without), (e: Error) => {
    assert.match(e.message, /^TLS with 127\.0\.0\.1:\d+ failed: the server refused the client certificate, or wanted one: .*certificate required/);
    assert.match(e.message, /TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH, or the profile's tls\.client_cert_path/);
    return true;
  });
  // The SDK's own worker connection is refused too; whether it read the server's alert or only
  // the closed connection (or a broken pipe, writing to it) depends on timing (TLS 1.3 refuses a
  // client after its handshake).
  await assert.rejects(connectNative(without), /CertificateRequired|connection closed|broken pipe/);
  // The worker process says why: its first call (the search attribute check) goes through connectTemporal.
  const { child, output, exited } = await workerProcess({ ...base, MRCD_TASK_QUEUE: queue() });
  const stuck = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(stuck);
  assert.equal(code, 1, output());
  assert.match(output(), /"msg":"cannot reach Temporal at TEMPORAL_ADDRESS"/);
  assert.match(output(), /TLS with 127\.0\.0\.1:\d+ failed: the server refused the client certificate, or wanted one/);
});

test('(c) a CA that did not sign the server certificate: refused, and the error says the certificate is not trusted', { timeout: 120_000 }, async () => {
  const wrong = connectionConfigFromEnv({ TEMPORAL_ADDRESS: rig.tls, TEMPORAL_TLS_CA_PATH: rig.pki.otherCa, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
  await assert.rejects(connectClient(wrong), (e: Error) => {
    assert.match(e.message, /^TLS with 127\.0\.0\.1:\d+ failed: the server's certificate is not trusted: unable to verify the first certificate/);
    assert.match(e.message, /TEMPORAL_TLS_CA_PATH or the profile's tls\.server_ca_cert_path/);
    return true;
  });
  await assert.rejects(connectNative(wrong), /InvalidCertificate\(UnknownIssuer\)/);
  // TLS against a plain port, and no TLS against a TLS port: said too, rather than a timeout.
  await assert.rejects(
    connectClient(connectionConfigFromEnv({ TEMPORAL_ADDRESS: rig.server.address, TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: SERVER_NAME })),
    /the server at 127\.0\.0\.1:\d+ does not speak TLS: .*TEMPORAL_TLS=false/,
  );
  await assert.rejects(connectClient(connectionConfigFromEnv({ TEMPORAL_ADDRESS: rig.tls })), /the server at 127\.0\.0\.1:\d+ speaks TLS, and TLS is off/);
});

test(
  '(d) the same through a Temporal config file profile: the library lists, the worker process starts and polls over mTLS',
  { timeout: 180_000 },
  async () => {
    const file = profileFile();
    await pendingRollout('tls-profile');
    for (const profile of ['tls', 'mtls', 'mtls-inline']) {
      const c = connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: profile });
      assert.deepEqual(c.profile, { file, name: profile });
      assert.deepEqual(await withClient(c, (m) => listed(m, 'tls-profile')), ['tls-profile'], profile);
    }
    await assert.rejects(
      connectClient(connectionConfigFromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls-no-cert' })),
      /refused the client certificate/,
    );
    // The same profile serves the temporal CLI: one file for both.
    const cli = await run(
      requireCli(),
      ['workflow', 'list', '--config-file', file, '--profile', 'mtls', '--query', 'WorkflowId = "rollout-tls-profile"', '-o', 'json'],
      {},
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /rollout-tls-profile/);

    // The real worker process, told nothing but the file and the profile.
    const taskQueue = queue();
    const { child, output, exited } = await workerProcess({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls', MRCD_TASK_QUEUE: taskQueue });
    try {
      const deadline = Date.now() + 90_000;
      for (;;) {
        assert.equal(child.exitCode, null, `the worker exited:\n${output()}`);
        assert.ok(Date.now() < deadline, `no poller on ${taskQueue} within 90 s:\n${output()}`);
        if (output().includes('"msg":"worker started"')) {
          const { pollers } = await rig.server.client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: taskQueue },
            taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          });
          if (pollers?.length) break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(output(), new RegExp(`"address":"${rig.mtls}"`), 'the address is the profile’s');
    } finally {
      child.kill('SIGTERM');
    }
    const stuck = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(stuck);
    assert.equal(code, 0, `the worker stops cleanly on SIGTERM:\n${output()}`);
  },
);

test('(e) bin/mrcd.js list through the profile; without the client certificate it exits 4 and says why', { timeout: 120_000 }, async () => {
  const file = profileFile();
  await pendingRollout('tls-cli');
  const mrcd = (profile: string) =>
    run(process.execPath, [join(ROOT, 'bin/mrcd.js'), 'list', '--service', 'tls-cli'], { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: profile });
  let ok = await mrcd('mtls');
  // Visibility may lag the start by a moment.
  for (let i = 0; i < 20 && ok.status === 0 && !ok.stdout.includes('tls-cli'); i++) ok = await mrcd('mtls');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /tls-cli .*running/);

  const refused = await mrcd('mtls-no-cert');
  assert.equal(refused.status, 4, refused.stdout + refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(
      `cannot reach Temporal at ${rig.mtls} \\(namespace default, profile mtls-no-cert of ${file}\\): TLS with .* failed: the server refused the client certificate`,
    ),
  );
});
