import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { freePort } from '../../dev/ports';
import { notify, signBody } from '../../activities/notify';
import type { NotifyInput } from '../../domain/activity-contract';
import type { Notification } from '../../plan';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** Per path, the statuses to answer in order; the last one repeats. 200 when unlisted. */
let script: Record<string, number[]> = {};
let received: Received[] = [];
let server: Server;
let base: string;

before(async () => {
  const port = await freePort();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, raw: Buffer.concat(chunks) });
      const plan = script[path] ?? [200];
      const status = plan.length > 1 ? plan.shift()! : plan[0]!;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status < 300 ? { ok: true } : { error: `receiver says ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const SECRET = 'whsec-7f3a9c-do-not-leak';
const envNames = ['MRCD_TEST_SLACK_URL', 'MRCD_TEST_HOOK_SECRET', 'MRCD_TEST_UNSET'];

beforeEach(() => {
  script = {};
  received = [];
  for (const n of envNames) delete process.env[n];
});

function notifyInput(notifications: Notification[]): NotifyInput {
  return {
    notifications,
    owner: { team: 'payments', contact: '#payments-oncall' },
    event: {
      kind: 'rollback',
      rolloutId: 'ro-42',
      service: 'api',
      version: '1.4.2',
      region: 'eu-west-1',
      message: 'error ratio 4.1% > 1%',
      at: 1_764_000_000_000,
    },
  };
}

const fast = { backoffMs: 5 };

describe('notify', () => {
  test('slack posts one readable line with service, version, region, event, message and owner contact', async () => {
    process.env.MRCD_TEST_SLACK_URL = `${base}/slack/T000/B000/xyzsecret`;
    const results = await notify(notifyInput([{ type: 'slack', urlEnv: 'MRCD_TEST_SLACK_URL' }]), fast);
    assert.deepEqual(results, [{ target: 'slack:MRCD_TEST_SLACK_URL', ok: true, status: 200 }]);
    assert.equal(received.length, 1);
    const body = JSON.parse(received[0]!.raw.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['text']);
    const text = body.text as string;
    for (const part of ['api', '1.4.2', 'eu-west-1', 'rollback', 'error ratio 4.1% > 1%', '#payments-oncall']) {
      assert.ok(text.includes(part), `"${part}" missing from ${JSON.stringify(text)}`);
    }
    assert.doesNotMatch(text, /\n/);
  });

  test('webhook is signed: HMAC-SHA256 of the exact raw body with the secret', async () => {
    process.env.MRCD_TEST_HOOK_SECRET = SECRET;
    const results = await notify(notifyInput([{ type: 'webhook', url: `${base}/hook`, secretEnv: 'MRCD_TEST_HOOK_SECRET' }]), fast);
    assert.equal(results[0]!.ok, true);
    const got = received[0]!;
    // Verify the way a receiver would: over the bytes on the wire, not a re-serialization.
    const expected = `sha256=${createHmac('sha256', SECRET).update(got.raw).digest('hex')}`;
    const signature = String(got.headers['x-mrcd-signature']);
    assert.equal(signature.length, expected.length);
    assert.ok(timingSafeEqual(Buffer.from(signature), Buffer.from(expected)), 'signature does not verify');
    const wrong = `sha256=${createHmac('sha256', 'other-secret').update(got.raw).digest('hex')}`;
    assert.notEqual(signature, wrong);
    assert.equal(signBody(got.raw, SECRET), expected);
    const ts = Number(got.headers['x-mrcd-timestamp']);
    assert.ok(Math.abs(ts - Date.now() / 1000) < 60, `timestamp ${ts} is not the send time in seconds`);
    const event = JSON.parse(got.raw.toString('utf8')) as Record<string, unknown>;
    assert.equal(event.kind, 'rollback');
    assert.equal(event.rolloutId, 'ro-42');
    assert.equal(event.region, 'eu-west-1');
  });

  test('webhook without secretEnv is sent unsigned', async () => {
    const results = await notify(notifyInput([{ type: 'webhook', url: `${base}/plain` }]), fast);
    assert.equal(results[0]!.ok, true);
    assert.equal(received[0]!.headers['x-mrcd-signature'], undefined);
    assert.ok(received[0]!.headers['x-mrcd-timestamp']);
  });

  test('retries after a 500 and then succeeds', async () => {
    script['/flaky'] = [500, 200];
    const results = await notify(notifyInput([{ type: 'webhook', url: `${base}/flaky` }]), fast);
    assert.deepEqual(results, [{ target: `webhook:${base}/flaky`, ok: true, status: 200 }]);
    assert.equal(received.length, 2);
    // The retry re-sends the same event, byte for byte.
    assert.deepEqual(received[0]!.raw, received[1]!.raw);
  });

  test('persistent failure: ok:false after 3 attempts, no throw, other targets unaffected', async () => {
    script['/down'] = [503];
    process.env.MRCD_TEST_SLACK_URL = `${base}/slack-ok`;
    const results = await notify(
      notifyInput([
        { type: 'webhook', url: `${base}/down` },
        { type: 'slack', urlEnv: 'MRCD_TEST_SLACK_URL' },
      ]),
      fast,
    );
    assert.equal(results.length, 2);
    assert.equal(results[0]!.ok, false);
    assert.equal(results[0]!.status, 503);
    assert.match(results[0]!.error!, /503/);
    assert.equal(received.filter((r) => r.path === '/down').length, 3);
    assert.equal(results[1]!.ok, true);
  });

  test('a 4xx is not retried', async () => {
    script['/gone'] = [410];
    const results = await notify(notifyInput([{ type: 'webhook', url: `${base}/gone` }]), fast);
    assert.equal(results[0]!.ok, false);
    assert.equal(results[0]!.status, 410);
    assert.equal(received.length, 1);
  });

  test('unreachable receiver: ok:false with the connection error, no throw', async () => {
    const port = await freePort();
    const results = await notify(notifyInput([{ type: 'webhook', url: `http://127.0.0.1:${port}/nobody` }]), fast);
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.error!, /ECONNREFUSED/);
  });

  test('missing env: ok:false naming the variable, nothing sent', async () => {
    const results = await notify(
      notifyInput([
        { type: 'slack', urlEnv: 'MRCD_TEST_UNSET' },
        { type: 'webhook', url: `${base}/hook`, secretEnv: 'MRCD_TEST_HOOK_SECRET' },
      ]),
      fast,
    );
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.error!, /MRCD_TEST_UNSET/);
    assert.equal(results[1]!.ok, false);
    assert.match(results[1]!.error!, /MRCD_TEST_HOOK_SECRET/);
    assert.equal(received.length, 0);
  });

  test('secrets never appear in results, even when the receiver echoes them', async () => {
    process.env.MRCD_TEST_HOOK_SECRET = SECRET;
    // A receiver that puts the credentials it was sent into its error message.
    const echo = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const sig = String(req.headers['x-mrcd-signature'] ?? '');
        res.writeHead(400, { 'content-type': 'application/json' });
        // Only the signed request can know the key: it shares it with us.
        const key = sig ? ` for key ${SECRET}` : '';
        res.end(JSON.stringify({ error: `bad signature ${sig}${key} at ${req.url}` }));
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => echo.listen(port, '127.0.0.1', resolve));
    try {
      process.env.MRCD_TEST_SLACK_URL = `http://127.0.0.1:${port}/services/T000/B000/hooksecretpath`;
      const results = await notify(
        notifyInput([
          { type: 'webhook', url: `http://127.0.0.1:${port}/echo`, secretEnv: 'MRCD_TEST_HOOK_SECRET' },
          { type: 'slack', urlEnv: 'MRCD_TEST_SLACK_URL' },
        ]),
        fast,
      );
      assert.equal(results[0]!.ok, false);
      assert.equal(results[1]!.ok, false);
      const text = JSON.stringify(results);
      assert.ok(!text.includes(SECRET), `secret leaked: ${text}`);
      assert.ok(!text.includes('hooksecretpath'), `slack URL leaked: ${text}`);
      assert.match(results[0]!.error!, /\[redacted\]/);
    } finally {
      echo.closeAllConnections();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});
