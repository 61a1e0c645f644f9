// Payload encryption: the codec (round trip, rotation, missing keys, tampering), its
// configuration from the environment, and the codec endpoint the Web UI calls.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, payloadKeysFromEnv, PayloadDecryptError, type PayloadKeys } from '../../common/payload-codec';
import { ConfigError, connectionConfigFromEnv } from '../../common/connection';
import { loadWorkerConfig } from '../../worker/config';
import { startCodecServer, payloadToJson } from '../../client/codec-server';

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');

function keys(env: Record<string, string>): PayloadKeys {
  const r = payloadKeysFromEnv(env);
  assert.deepEqual(r.problems, []);
  assert.ok(r.keys);
  return r.keys;
}

const json = (value: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
/** Plain buffers and plain objects, so deepEqual compares contents, not Buffer vs Uint8Array. */
const plain = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('hex')])),
  data: Buffer.from(p.data ?? []).toString('hex'),
});

describe('the codec', () => {
  test('round trip: metadata and data come back exactly; what is stored is ciphertext under a fresh IV', async () => {
    const codec = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 }));
    const originals: Payload[] = [
      json({ service: 'checkout', version: '9.9.9', owner: { team: 'payments' } }),
      { metadata: { encoding: Buffer.from('binary/null') } },
      { metadata: { encoding: Buffer.from('binary/plain'), 'custom-key': Buffer.from([0, 255, 7]) }, data: randomBytes(1000) },
    ];
    const encoded = await codec.encode(originals);
    assert.equal(encoded.length, 3);
    for (const e of encoded) {
      assert.deepEqual(Object.keys(e.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA]);
      assert.equal(text(e.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.equal(text(e.metadata?.[KEY_ID_METADATA]), 'k1');
    }
    assert.ok(!text(encoded[0]!.data).includes('checkout'), 'the plan text is not in the stored payload');
    assert.ok(!text(encoded[0]!.data).includes('json/plain'), 'nor is its encoding');
    const again = await codec.encode([originals[0]!]);
    assert.notEqual(Buffer.from(again[0]!.data!).toString('hex'), Buffer.from(encoded[0]!.data!).toString('hex'), 'a fresh IV per payload');
    const decoded = await codec.decode(encoded);
    assert.deepEqual(decoded.map(plain), originals.map(plain));
    assert.deepEqual(JSON.parse(text(decoded[0]!.data)), { service: 'checkout', version: '9.9.9', owner: { team: 'payments' } });
  });

  test('plaintext payloads decode as they are (histories from before encryption was on)', async () => {
    const codec = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 }));
    const p = json({ a: 1 });
    assert.deepEqual((await codec.decode([p])).map(plain), [plain(p)]);
  });

  test('rotation: new payloads use the current key, old ones decode with theirs; a removed key is named', async () => {
    const old = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 }));
    const [fromK1] = await old.encode([json('written under k1')]);
    const rotated = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k2', MRCD_PAYLOAD_KEY_k1: K1, MRCD_PAYLOAD_KEY_k2: K2 }));
    const [fromK2] = await rotated.encode([json('written under k2')]);
    assert.equal(text(fromK2!.metadata?.[KEY_ID_METADATA]), 'k2', 'new payloads carry the current key id');
    const both = await rotated.decode([fromK1!, fromK2!]);
    assert.deepEqual(
      both.map((p) => JSON.parse(text(p.data))),
      ['written under k1', 'written under k2'],
    );
    const k2Only = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k2', MRCD_PAYLOAD_KEY_k2: K2 }));
    assert.equal(JSON.parse(text((await k2Only.decode([fromK2!]))[0]!.data)), 'written under k2');
    await assert.rejects(k2Only.decode([fromK1!]), (e: unknown) => {
      assert.ok(e instanceof PayloadDecryptError);
      assert.equal(e.keyId, 'k1');
      assert.match(e.message, /key id "k1", which this process does not have: set MRCD_PAYLOAD_KEY_k1/);
      return true;
    });
  });

  test('without keys: plaintext passes, an encrypted payload fails naming its key and the variables', async () => {
    const [sealed] = await new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 })).encode([json('x')]);
    const off = new EncryptionCodec(undefined);
    const p = json('plain');
    assert.deepEqual((await off.encode([p])).map(plain), [plain(p)], 'off: nothing is encrypted');
    await assert.rejects(off.decode([sealed!]), /key id "k1".*encryption is off here: MRCD_PAYLOAD_KEY_ID is not set.*set MRCD_PAYLOAD_KEY_k1/);
  });

  test('tampering fails authentication: a flipped bit, a truncated payload, a payload relabelled with another key id', async () => {
    const codec = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1, MRCD_PAYLOAD_KEY_k2: K2 }));
    const [sealed] = await codec.encode([json({ version: '1.0.0' })]);
    for (const at of [0, 12, Math.floor(sealed!.data!.length / 2), sealed!.data!.length - 1]) {
      const data = Buffer.from(sealed!.data!);
      data[at]! ^= 0x01;
      await assert.rejects(
        codec.decode([{ ...sealed!, data }]),
        /key id "k1" failed authentication: it was altered, or MRCD_PAYLOAD_KEY_k1 holds another key/,
        `byte ${at}`,
      );
    }
    await assert.rejects(codec.decode([{ ...sealed!, data: Buffer.from(sealed!.data!).subarray(0, 20) }]), /truncated/);
    const relabelled = { metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') }, data: sealed!.data! };
    await assert.rejects(codec.decode([relabelled]), /key id "k2" failed authentication/);
    const wrongKey = new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K2 }));
    await assert.rejects(wrongKey.decode([sealed!]), /failed authentication/, 'the same id with another key');
    await assert.rejects(codec.decode([{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: sealed!.data! }]), /no encryption-key-id/);
  });
});

describe('keys from the environment', () => {
  const problems = (env: Record<string, string>) => payloadKeysFromEnv(env).problems;

  test('off unless MRCD_PAYLOAD_KEY_ID is set: no keys, no field in the connection config', () => {
    assert.deepEqual(payloadKeysFromEnv({}), { problems: [] });
    assert.equal(connectionConfigFromEnv({}).payloadKeys, undefined);
    const on = connectionConfigFromEnv({ MRCD_PAYLOAD_KEY_ID: 'k2', MRCD_PAYLOAD_KEY_k1: K1, MRCD_PAYLOAD_KEY_k2: K2 }).payloadKeys;
    assert.equal(on?.currentKeyId, 'k2');
    assert.deepEqual([...on!.keys.keys()].sort(), ['k1', 'k2']);
    assert.equal(on!.keys.get('k1')!.toString('base64'), K1);
  });

  test('every bad value is named by its variable, and key values are never shown', () => {
    const short = randomBytes(16).toString('base64');
    assert.deepEqual(problems({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: short }), [
      'MRCD_PAYLOAD_KEY_k1: must be base64 of a 32-byte key (AES-256), got 16 bytes; make one with: openssl rand -base64 32',
    ]);
    assert.deepEqual(problems({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: 'not base64!!' }), [
      'MRCD_PAYLOAD_KEY_k1: must be base64 of a 32-byte key, e.g. from: openssl rand -base64 32 (value hidden)',
    ]);
    assert.deepEqual(problems({ MRCD_PAYLOAD_KEY_ID: 'k3', MRCD_PAYLOAD_KEY_k1: K1 }), [
      'MRCD_PAYLOAD_KEY_k3: not set, but MRCD_PAYLOAD_KEY_ID selects key "k3"; set it to base64 of a 32-byte key',
    ]);
    assert.deepEqual(problems({ MRCD_PAYLOAD_KEY_k1: K1 }), [
      'MRCD_PAYLOAD_KEY_ID: not set, but MRCD_PAYLOAD_KEY_k1 is; set it to the id of the key new payloads are encrypted with',
    ]);
    assert.deepEqual(problems({ MRCD_PAYLOAD_KEY_ID: ' ' }), ['MRCD_PAYLOAD_KEY_ID: must not be empty (unset it to turn payload encryption off)']);
    assert.match(problems({ MRCD_PAYLOAD_KEY_ID: 'a-b' })[0]!, /^MRCD_PAYLOAD_KEY_ID: must be 1 to 64 letters, digits or _/);
    assert.match(
      problems({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1, 'MRCD_PAYLOAD_KEY_a-b': K2 })[0]!,
      /^MRCD_PAYLOAD_KEY_a-b: the key id "a-b" must be/,
    );
    // A bad current key is reported once, as itself.
    assert.equal(problems({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: short }).length, 1);
  });

  test('the worker and the CLI refuse to start with them (ConfigError naming the variable)', () => {
    const env = { MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1.slice(0, 20) };
    for (const load of [() => connectionConfigFromEnv(env), () => loadWorkerConfig(env, false)]) {
      assert.throws(load, (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /MRCD_PAYLOAD_KEY_k1: must be base64 of a 32-byte key/);
        assert.ok(!e.message.includes(K1.slice(0, 20)), 'the key text is not in the message');
        return true;
      });
    }
    assert.equal(loadWorkerConfig({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 }, false).connection.payloadKeys?.currentKeyId, 'k1');
  });
});

describe('the codec endpoint', () => {
  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

  test('decodes and encodes proto3 JSON payloads, answers the UI preflight, refuses bad bodies naming the problem', async () => {
    const k = keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 });
    const s = await startCodecServer({ keys: k, port: 0 });
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback by default');
      const [sealed] = await new EncryptionCodec(k).encode([json({ service: 'checkout' })]);
      const dec = await post(`${s.url}/decode`, JSON.stringify({ payloads: [payloadToJson(sealed!)] }), { 'X-Namespace': 'default' });
      assert.equal(dec.status, 200);
      const body = (await dec.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
      assert.deepEqual(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()), { service: 'checkout' });

      // Encode, then decode what came back: the UI's "start workflow" path.
      const enc = await post(`${s.url}/default/encode`, JSON.stringify({ payloads: [payloadToJson(json('hello'))] }));
      const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), ENCRYPTED_ENCODING);
      const back = (await (await post(`${s.url}/decode`, JSON.stringify(encoded))).json()) as typeof encoded;
      assert.equal(JSON.parse(Buffer.from(back.payloads[0]!.data, 'base64').toString()), 'hello');

      const pre = await fetch(`${s.url}/decode`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:8233', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:8233');
      assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
      const foreign = await fetch(`${s.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.com' } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.headers.get('access-control-allow-origin'), null);
      assert.match(await foreign.text(), /origin https:\/\/evil\.example\.com is not allowed; start the codec server with --allow-origin/);

      const bad = async (b: string, status: number, message: RegExp) => {
        const r = await post(`${s.url}/decode`, b);
        assert.equal(r.status, status, b);
        assert.match(((await r.json()) as { error: string }).error, message, b);
      };
      await bad('{', 400, /^body: not JSON/);
      await bad('[]', 400, /^body: must be an object/);
      await bad('{"payload": []}', 400, /^payloads: must be an array/);
      await bad('{"payloads": [1]}', 400, /^payloads\[0\]: must be an object/);
      await bad('{"payloads": [{"data": "not base64!"}]}', 400, /^payloads\[0\]\.data: must be a base64 string/);
      await bad('{"payloads": [{"metadata": {"encoding": 7}}]}', 400, /^payloads\[0\]\.metadata\.encoding: must be a base64 string/);
      const [otherKey] = await new EncryptionCodec(keys({ MRCD_PAYLOAD_KEY_ID: 'k9', MRCD_PAYLOAD_KEY_k9: K2 })).encode([json('x')]);
      await bad(JSON.stringify({ payloads: [payloadToJson(otherKey!)] }), 422, /key id "k9", which this process does not have: set MRCD_PAYLOAD_KEY_k9/);
      assert.equal((await fetch(`${s.url}/decode`)).status, 405);
      assert.equal((await post(`${s.url}/nothing`, '{}')).status, 404);
    } finally {
      await s.close();
    }
  });

  test('origins and namespaces can be narrowed', async () => {
    const s = await startCodecServer({
      keys: keys({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 }),
      port: 0,
      allowOrigins: ['https://ui.example.com'],
      namespaces: ['prod'],
    });
    try {
      const body = JSON.stringify({ payloads: [] });
      assert.equal((await post(`${s.url}/decode`, body, { 'X-Namespace': 'prod', Origin: 'https://ui.example.com' })).status, 200);
      const other = await post(`${s.url}/decode`, body, { 'X-Namespace': 'dev', Origin: 'https://ui.example.com' });
      assert.equal(other.status, 403);
      assert.match(((await other.json()) as { error: string }).error, /namespace dev: this codec server serves prod/);
      assert.equal((await post(`${s.url}/decode`, body, { 'X-Namespace': 'prod', Origin: 'http://localhost:8233' })).status, 403, 'loopback is not implied');
    } finally {
      await s.close();
    }
  });
});

test('mrcd codec-server refuses to start without keys, with a bad key or a bad port (exit 2, naming it)', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MRCD_PAYLOAD_KEY_')));
  const run = (extra: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [join(resolve(__dirname, '../..'), 'bin/mrcd.js'), 'codec-server', ...args], {
      encoding: 'utf8',
      env: { ...env, ...extra },
      timeout: 30_000,
    });
  const none = run({}, '--port', '0');
  assert.equal(none.status, 2, none.stderr);
  assert.match(none.stderr, /MRCD_PAYLOAD_KEY_ID: not set, so there is nothing to decode with/);
  const bad = run({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: 'c2hvcnQ=' }, '--port', '0');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /MRCD_PAYLOAD_KEY_k1: must be base64 of a 32-byte key/);
  const port = run({ MRCD_PAYLOAD_KEY_ID: 'k1', MRCD_PAYLOAD_KEY_k1: K1 }, '--port', '70000');
  assert.equal(port.status, 2, port.stderr);
  assert.match(port.stderr, /--port: "70000" must be a port/);
});
