// The worker's environment: the metrics endpoint's variables (worker/config.ts), each bad
// value refused by name, and the bind address the SDK's exporter gets from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../common/connection';
import { loadWorkerConfig, WORKER_ENV_KEYS } from '../../worker/config';
import { bindAddress } from '../../worker/runtime';

function problems(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig(env, false);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  return [];
}

test('no MRCD_METRICS_PORT, no metrics endpoint; with it, loopback unless MRCD_METRICS_HOST says otherwise', () => {
  assert.equal(loadWorkerConfig({}, false).metrics, undefined);
  assert.deepEqual(loadWorkerConfig({ MRCD_METRICS_PORT: '9464' }, false).metrics, { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(loadWorkerConfig({ MRCD_METRICS_PORT: ' 9464 ', MRCD_METRICS_HOST: '0.0.0.0' }, false).metrics, { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(loadWorkerConfig({ MRCD_METRICS_PORT: '65535', MRCD_METRICS_HOST: '::' }, false).metrics, { host: '::', port: 65535 });
  for (const k of ['MRCD_METRICS_PORT', 'MRCD_METRICS_HOST']) assert.ok(WORKER_ENV_KEYS.includes(k), `${k} is one of the worker's variables`);
});

test('bad metrics settings are refused, each by its name and value, along with every other bad variable', () => {
  for (const port of ['0', '65536', '-1', '94.64', 'http', '']) {
    const p = problems({ MRCD_METRICS_PORT: port });
    assert.equal(p.length, 1, `${port}: ${p.join('; ')}`);
    assert.match(p[0]!, new RegExp(`^MRCD_METRICS_PORT: must be a port, 1 to 65535 \\(got "${port.replace('.', '\\.')}"\\)$`));
  }
  // A name is refused, not resolved: the exporter binds a socket address.
  for (const host of ['localhost', 'worker-1', '0.0.0.0:9464', '']) {
    const p = problems({ MRCD_METRICS_PORT: '9464', MRCD_METRICS_HOST: host });
    assert.equal(p.length, 1, `${host}: ${p.join('; ')}`);
    assert.match(p[0]!, /^MRCD_METRICS_HOST: must be an IP address to listen on/);
  }
  assert.deepEqual(problems({ MRCD_METRICS_HOST: '0.0.0.0' }), [
    'MRCD_METRICS_HOST: set without MRCD_METRICS_PORT, so no metrics would be served; set the port too, or neither',
  ]);
  const all = problems({ MRCD_METRICS_PORT: 'x', MRCD_METRICS_HOST: 'y', MRCD_LOG_LEVEL: 'loud', TEMPORAL_ADDRESS: 'nowhere' });
  assert.deepEqual(all.map((p) => p.split(':')[0]).sort(), ['MRCD_LOG_LEVEL', 'MRCD_METRICS_HOST', 'MRCD_METRICS_PORT', 'TEMPORAL_ADDRESS']);
});

test("the exporter's bind address: IPv6 in brackets", () => {
  assert.equal(bindAddress({ host: '0.0.0.0', port: 9464 }), '0.0.0.0:9464');
  assert.equal(bindAddress({ host: '::', port: 9464 }), '[::]:9464');
  assert.equal(bindAddress({ host: '::1', port: 1 }), '[::1]:1');
});
