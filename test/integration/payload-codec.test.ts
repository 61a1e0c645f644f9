// Encrypted payloads on a real rollout (issue 13 item 6): a worker process and the client
// with MRCD_PAYLOAD_KEY_ID set, the deploy token referenced by env as always. Then the raw
// history, read without the codec, is scanned: every payload is ciphertext, and the plan's
// service, version, owner and the token appear nowhere except where Temporal needs plain
// values (search attributes, see EXEMPT). With the keys mrcd reads status; without them it
// says which key is missing; the codec endpoint decodes a payload taken from that history.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { startDevServer, type TemporalServer } from '../../dev/temporal-server';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { act, connectClient, followRollout, getStatus, rolloutHandle, startRollout, type MrcdClient } from '../../client/rollouts';
import { connectionConfigFromEnv } from '../../common/connection';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../common/payload-codec';
import { payloadToJson } from '../../client/codec-server';
import { requireCli } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const REGIONS = ['eu-west-1', 'us-east-1'];
// Distinctive strings, so that finding one in the history can only mean it leaked.
const SERVICE = `ciphersvc${process.pid}`;
const VERSION = '7.7.7-opaqueversion';
const OWNER = 'team-opaqueowner';
const CONTACT = '#opaque-oncall-channel';
const SECRET = `tok-${randomBytes(12).toString('hex')}`;
const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const TASK_QUEUE = `codec-${process.pid}`;

/**
 * Where a plain value in the history is by design:
 * - search attributes (start, upserts, TemporalChangeVersion): visibility indexes and lists
 *   them, so codecs never see them (Temporal's design); mrcd's are service, version, owner,
 *   state and region, never a token;
 * - patch markers: the SDK's core writes them, with nothing but the patch id;
 * - a local activity's marker data (the fleet policy's consult): the SDK's core writes it with
 *   the activity's id, type, attempt and times; the result beside it is encrypted like any.
 */
const EXEMPT: { why: string; path: RegExp }[] = [
  { why: 'search attributes are indexed by the server, not encoded by codecs', path: /\.searchAttributes\.indexedFields\./ },
  { why: 'patch markers are written by the SDK core with the patch id only', path: /markerRecordedEventAttributes\.details\.patch-data\./ },
  { why: "a local activity marker's data is the SDK core's bookkeeping (id, type, attempt, times)", path: /markerRecordedEventAttributes\.details\.data\./ },
];

let dir: string;
let server: TemporalServer;
let sim: Simulator;
let m: MrcdClient;
let worker: ChildProcess | undefined;
const t0 = Date.now();
const keysEnv = { MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 };

/** Every env var of ours removed: each process gets exactly the keys the test means. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MRCD_PAYLOAD_KEY_')) delete env[k];
  return env;
}

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    env: {
      ...baseEnv(),
      ...keysEnv,
      TEMPORAL_ADDRESS: server.address,
      MRCD_TASK_QUEUE: TASK_QUEUE,
      MRCD_LOG_FORMAT: 'json',
      MRCD_SHUTDOWN_GRACE: '1s',
      MRCD_CODEC_TEST_TOKEN: SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker = child;
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`worker did not start: ${out}`)), 90_000);
    const seen = (b: Buffer) => {
      out += b.toString();
      if (out.includes('worker started')) {
        clearTimeout(timer);
        res(child);
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => rej(new Error(`worker exited (${code}) before it started: ${out}`)));
  });
}

/** bin/mrcd.js with exactly these payload keys. */
function mrcd(args: string[], keys: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--address', server.address, '--task-queue', TASK_QUEUE, ...args], {
      cwd: ROOT,
      env: { ...baseEnv(), ...keys },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

type Payload = temporal.api.common.v1.IPayload;

/** Every payload in the history with its path: any object with metadata.encoding is one. */
function payloadsIn(value: unknown, path = 'history', out: { path: string; payload: Payload }[] = []): { path: string; payload: Payload }[] {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return out;
  const v = value as Record<string, unknown>;
  const meta = v.metadata as Record<string, unknown> | undefined;
  if (meta && typeof meta === 'object' && ArrayBuffer.isView(meta.encoding)) {
    out.push({ path, payload: v as Payload });
    return out;
  }
  for (const [k, child] of Object.entries(v)) if (child !== null && child !== undefined) payloadsIn(child, `${path}.${k}`, out);
  return out;
}

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

function plan() {
  return {
    service: SERVICE,
    version: VERSION,
    owner: { team: OWNER, contact: CONTACT, runbook: 'https://runbooks.example.com/opaque' },
    deployer: { type: 'http', baseUrl: sim.url, pollInterval: '200ms', timeout: '1m', tokenEnv: 'MRCD_CODEC_TEST_TOKEN' },
    defaults: {
      soak: '2s',
      checkInterval: '500ms',
      gate: {
        maxInconclusive: 5,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${sim.url}/health/{{region}}?service={{service}}`, path: 'errorRatio', tokenEnv: 'MRCD_CODEC_TEST_TOKEN' },
            comparator: '<',
            threshold: 0.02,
          },
        ],
      },
    },
    regions: REGIONS.map((name, i) => ({ name, size: (i + 1) * 10 })),
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mrcd-codec-'));
  server = await startDevServer({ dbFile: join(dir, 'temporal.db'), uiPort: false });
  sim = await startSimulator({ regions: REGIONS, initialVersions: { [SERVICE]: '1.0.0' }, deployDelayMs: 100, requireToken: SECRET });
  m = await connectClient(connectionConfigFromEnv({ TEMPORAL_ADDRESS: server.address, MRCD_TASK_QUEUE: TASK_QUEUE, ...keysEnv }));
});

after(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGKILL');
    await exited;
  }
  await m?.close();
  await sim?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an encrypted rollout: ciphertext in history, plain to whoever holds the keys', { timeout: 120_000 }, async (t) => {
  await startWorker();
  t.diagnostic(`worker up after ${Date.now() - t0} ms`);
  await startRollout(m, plan(), { startedBy: 'codec-test' });
  // An update (recorded with its result) and a signal (recorded with its input) while the
  // first region soaks.
  let s = await getStatus(m, SERVICE);
  const deadline = Date.now() + 60_000;
  while (s.regions[0]?.status !== 'soaking') {
    assert.ok(Date.now() < deadline, `the first region did not reach its soak in 60 s: ${s.summary}`);
    await new Promise((r) => setTimeout(r, 100));
    s = await getStatus(m, SERVICE);
  }
  const paused = await act(m, SERVICE, 'pause', { reason: 'look at the graphs', by: 'opaque-operator' });
  assert.equal(paused.state, 'paused');
  await rolloutHandle(m, SERVICE).signal('resume', { reason: 'graphs fine', by: 'opaque-operator' });
  const verdict = await followRollout(m, SERVICE, () => {}, { intervalMs: 200, timeoutMs: 60_000 });
  assert.equal(verdict.status.state, 'succeeded', verdict.status.summary);
  assert.deepEqual(
    sim
      .ledger()
      .filter((e) => e.service === SERVICE)
      .map((e) => [e.kind, e.region, e.version]),
    REGIONS.map((r) => ['deploy', r, VERSION]),
  );
  t.diagnostic(`rollout done after ${Date.now() - t0} ms`);

  // With the codec, the client reads everything as usual.
  const status = await getStatus(m, SERVICE);
  assert.equal(status.service, SERVICE);
  assert.equal(status.version, VERSION);
  assert.equal(status.owner.team, OWNER);
  assert.deepEqual(
    status.actions.map((a) => [a.action, a.by, a.via]),
    [
      ['pause', 'opaque-operator', 'update'],
      ['resume', 'opaque-operator', 'signal'],
    ],
  );

  // The raw history, through a client without the codec.
  const raw = new Client({ connection: m.client.connection });
  const history = await raw.workflow.getHandle(`rollout-${SERVICE}`).fetchHistory();
  const found = payloadsIn(history);
  const exemptOf = (path: string) => EXEMPT.find((e) => e.path.test(path));
  const checked = found.filter((p) => !exemptOf(p.path));
  const plaintext = checked.filter((p) => text(p.payload.metadata?.encoding) !== ENCRYPTED_ENCODING);
  assert.deepEqual(
    plaintext.map((p) => `${p.path}: ${text(p.payload.metadata?.encoding)}`),
    [],
    'every payload outside the exempt places is encrypted',
  );
  for (const p of checked) assert.equal(text(p.payload.metadata?.[KEY_ID_METADATA]), 'k1', p.path);
  // Each kind of payload the brief names is among them, so the scan saw them all.
  const kinds: Record<string, RegExp> = {
    'workflow input': /workflowExecutionStartedEventAttributes\.input\.payloads/,
    'start summary and details (user metadata)': /userMetadata\.(summary|details)/,
    'activity inputs': /activityTaskScheduledEventAttributes\.input\.payloads/,
    'activity results': /activityTaskCompletedEventAttributes\.result\.payloads/,
    'local activity results (the fleet policy consulted)': /markerRecordedEventAttributes\.details\.result\.payloads/,
    'update argument': /workflowExecutionUpdateAcceptedEventAttributes\.acceptedRequest\.input\.args\.payloads/,
    'update result': /workflowExecutionUpdateCompletedEventAttributes\.outcome\.success\.payloads/,
    'signal input': /workflowExecutionSignaledEventAttributes\.input\.payloads/,
    'workflow result': /workflowExecutionCompletedEventAttributes\.result\.payloads/,
  };
  for (const [kind, re] of Object.entries(kinds))
    assert.ok(
      checked.some((p) => re.test(p.path)),
      `no ${kind} in the history (paths seen: ${[...new Set(checked.map((p) => p.path.replace(/\.\d+\./g, '.N.')))].join(', ')})`,
    );
  const exempt = found.filter((p) => exemptOf(p.path));
  t.diagnostic(`${found.length} payloads in ${history.events?.length} events: ${checked.length} encrypted, ${exempt.length} exempt`);

  // No plan value and no token in the history's text outside the exempt places: the JSON
  // form, with every payload's data decoded from base64 too (a plaintext payload shows there).
  const json = JSON.parse(historyToJSON(history)) as unknown;
  // Left out: search attributes, and the workflow id (rollout-<service>, the pipeline lock
  // and how every tool finds a rollout): both are the server's to read, never payloads.
  // Patch markers stay in: they hold a patch id, no plan value.
  const scrubbed = JSON.stringify(json, (key, value: unknown) => (key === 'searchAttributes' || key === 'workflowId' ? undefined : value));
  const haystack = withData(scrubbed);
  for (const [what, value] of Object.entries({
    service: SERVICE,
    version: VERSION,
    owner: OWNER,
    contact: CONTACT,
    token: SECRET,
    operator: 'opaque-operator',
  }))
    assert.ok(!haystack.includes(value), `the ${what} (${value}) is in the history in plaintext: …${around(haystack, value)}…`);
  // The search attributes do carry them: that is what `mrcd list` filters on.
  assert.ok(
    exempt.some((p) => /searchAttributes/.test(p.path) && text(p.payload.data).includes(VERSION)),
    'the version is in the search attributes',
  );

  // mrcd status: with the keys (also after a rotation, the old key kept), and without.
  // Run at once: each is its own process, and they only read.
  const [withKeys, rotated, without, onlyNew, badKey, review] = await Promise.all([
    mrcd(['status', SERVICE], keysEnv),
    mrcd(['status', SERVICE], { MRCD_PAYLOAD_KEY_ID: 'k2', MRCD_PAYLOAD_KEY_k1: K1, MRCD_PAYLOAD_KEY_k2: K2 }),
    mrcd(['status', SERVICE], {}),
    mrcd(['status', SERVICE], { MRCD_PAYLOAD_KEY_ID: 'k2', MRCD_PAYLOAD_KEY_k2: K2 }),
    mrcd(['status', SERVICE], { MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: 'c2hvcnQ=' }),
    // The review reads each rollout's final status from its (encrypted) close event.
    mrcd(['--json', 'review', '--since', '1h', '--service', SERVICE], keysEnv),
  ]);
  assert.equal(review.code, 0, review.stderr);
  const reviewed = JSON.parse(review.stdout) as { total: { rollouts: number; verdicts: { succeeded: number }; paused: { rollouts: number } } };
  assert.deepEqual(
    { rollouts: reviewed.total.rollouts, succeeded: reviewed.total.verdicts.succeeded, paused: reviewed.total.paused.rollouts },
    { rollouts: 1, succeeded: 1, paused: 1 },
    'mrcd review decodes the final status (the pause is only in it)',
  );
  assert.equal(withKeys.code, 0, withKeys.stderr);
  assert.match(withKeys.stdout, new RegExp(`${SERVICE} ${VERSION.replace(/\./g, '\\.')} — succeeded`));
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /succeeded/);
  assert.equal(without.code, 2, `exit 2, invalid environment: ${without.stderr}`);
  assert.match(
    without.stderr,
    /key id "k1", which this process does not have \(payload encryption is off here: MRCD_PAYLOAD_KEY_ID is not set\): set MRCD_PAYLOAD_KEY_k1/,
  );
  assert.equal(onlyNew.code, 2, onlyNew.stderr);
  assert.match(onlyNew.stderr, /set MRCD_PAYLOAD_KEY_k1/);
  assert.equal(badKey.code, 2);
  assert.match(badKey.stderr, /MRCD_PAYLOAD_KEY_k1: must be base64 of a 32-byte key \(AES-256\), got 5 bytes/);
  t.diagnostic(`mrcd runs done after ${Date.now() - t0} ms`);

  // The codec endpoint, as `mrcd codec-server` runs it, decodes the workflow input taken
  // from the raw history and refuses a bad body naming the problem.
  const input = found.find((p) => /workflowExecutionStartedEventAttributes\.input\.payloads\.0$/.test(p.path))!.payload;
  const codec = spawn(process.execPath, [join(ROOT, 'bin/mrcd.js'), 'codec-server', '--port', '0'], {
    cwd: ROOT,
    env: { ...baseEnv(), ...keysEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      const timer = setTimeout(() => rej(new Error(`codec server did not start: ${out}`)), 30_000);
      codec.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const u = /codec server at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (u) {
          clearTimeout(timer);
          res(u[1]!);
        }
      });
      codec.stderr.on('data', (b: Buffer) => (out += b.toString()));
      codec.once('exit', (c) => rej(new Error(`codec server exited (${c}): ${out}`)));
    });
    const res = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: 'http://localhost:8233' },
      body: JSON.stringify({ payloads: [payloadToJson(input as Parameters<typeof payloadToJson>[0])] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:8233');
    const body = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
    const decodedInput = JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()) as { plan: { service: string; version: string } };
    assert.equal(decodedInput.plan.service, SERVICE);
    assert.equal(decodedInput.plan.version, VERSION);
    // The temporal CLI through the same endpoint (its --codec-endpoint), and without it.
    const show = (codecArgs: string[]) =>
      spawnSync(requireCli(), ['workflow', 'show', '--address', server.address, '--workflow-id', `rollout-${SERVICE}`, '--output', 'json', ...codecArgs], {
        encoding: 'utf8',
        timeout: 30_000,
      });
    const shownDecoded = show(['--codec-endpoint', url]);
    assert.equal(shownDecoded.status, 0, shownDecoded.stderr);
    assert.ok(withData(shownDecoded.stdout).includes(CONTACT), 'temporal workflow show --codec-endpoint shows the plan decoded');
    const shownRaw = show([]);
    assert.equal(shownRaw.status, 0, shownRaw.stderr);
    assert.ok(!withData(shownRaw.stdout).includes(CONTACT), 'and without it, does not');
    const bad = await fetch(`${url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"payloads": [{"data": 42}]}' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /^payloads\[0\]\.data: must be a base64 string/);
  } finally {
    if (codec.exitCode === null && codec.signalCode === null) {
      const exited = new Promise<number | null>((r) => codec.once('exit', (c) => r(c)));
      codec.kill('SIGTERM');
      assert.equal(await exited, 0, 'the codec server stops cleanly on SIGTERM');
    }
  }
  t.diagnostic(`total ${Date.now() - t0} ms`);
});

/** The text around the first place value occurs: where a leak is. */
function around(haystack: string, value: string): string {
  const at = haystack.indexOf(value);
  return haystack.slice(Math.max(0, at - 300), at + value.length + 100);
}

/** JSON text with every payload's data (base64 there) decoded after it, so a plaintext payload shows. */
function withData(json: string): string {
  const decoded = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((x) => Buffer.from(x[1]!, 'base64').toString('latin1'));
  return `${json}\n${decoded.join('\n')}`;
}
