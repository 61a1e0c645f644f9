// The Temporal Web UI shows an encrypted rollout decoded through `mrcd codec-server`'s
// endpoint, as operators would set it up: `temporal server start-dev --ui-codec-endpoint`.
// The browser (Debian's Chromium) calls the endpoint itself, across origins, so this is
// also the proof that its CORS answers are the ones the UI needs. No worker: the rollout's
// input and its start summary and details are in history from the start.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../../dev/ports';
import { waitForTemporal } from '../../dev/temporal-server';
import { findTemporalCli, INSTALL_HINT } from '../../dev/temporal-binaries';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { connectClient, startRollout, type MrcdClient } from '../../client/rollouts';
import { connectionConfigFromEnv } from '../../common/connection';
import { startCodecServer, type CodecServer } from '../../client/codec-server';
import { launchChromium, screenshot } from '../support/browser';

const SERVICE = `uicipher${process.pid}`;
const CONTACT = '#opaque-ui-channel';
const keysEnv = { MRCD_PAYLOAD_KEY_ID: 'ui1', MRCD_PAYLOAD_KEY_ui1: randomBytes(32).toString('base64') };
const t0 = Date.now();

let server: ChildProcess | undefined;
let codec: CodecServer | undefined;
let m: MrcdClient | undefined;
let browser: Browser | undefined;
let address = '';
let uiUrl = '';
const decodeCalls: string[] = [];

before(async () => {
  const cli = findTemporalCli();
  if (!cli) throw new Error(INSTALL_HINT);
  const codecPort = await freePort();
  codec = await startCodecServer({ keys: connectionConfigFromEnv(keysEnv).payloadKeys!, port: codecPort });
  codec.server.on('request', (req: { method?: string; url?: string }) => decodeCalls.push(`${req.method} ${req.url}`));
  const [port, uiPort, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  address = `127.0.0.1:${port}`;
  uiUrl = `http://127.0.0.1:${uiPort}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch', '--ui-codec-endpoint', codec.url);
  args.push('--http-port', String(httpPort), '--metrics-port', String(metricsPort));
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  server = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForTemporal(address, 30_000, server);
  m = await connectClient(connectionConfigFromEnv({ TEMPORAL_ADDRESS: address, MRCD_TASK_QUEUE: `ui-codec-${process.pid}`, ...keysEnv }));
});

after(async () => {
  await browser?.close();
  await m?.close();
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await codec?.close();
});

test('the Web UI shows the encrypted plan decoded through the codec endpoint', { timeout: 120_000 }, async (t) => {
  const handle = await startRollout(
    m!,
    {
      service: SERVICE,
      version: '3.1.4',
      owner: { team: 'opaque', contact: CONTACT, runbook: 'https://runbooks.example.com/opaque' },
      deployer: { type: 'http', baseUrl: 'http://127.0.0.1:9', tokenEnv: 'MRCD_UI_CODEC_TOKEN' },
      defaults: {
        soak: '30m',
        gate: { checks: [{ name: 'up', source: { type: 'http', url: 'http://127.0.0.1:9/health', path: 'ok' }, comparator: '>', threshold: 0 }] },
      },
      regions: [{ name: 'eu-west-1', size: 1 }],
    },
    { startedBy: 'ui-codec-test' },
  );
  const { runId } = await handle.describe();
  t.diagnostic(`server, codec endpoint and rollout ready after ${Date.now() - t0} ms`);
  browser = await launchChromium();
  let page: Page | undefined;
  try {
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}/${runId}/history`, { waitUntil: 'domcontentloaded' });
    // The contact is only in encrypted payloads (the input, the start details): not in a
    // search attribute, not in the workflow id. Seeing it means the UI decoded them.
    const deadline = Date.now() + 45_000;
    let text = '';
    for (;;) {
      text = await page.locator('main').innerText();
      if (text.includes(CONTACT)) break;
      if (Date.now() > deadline)
        throw new Error(`the page never showed ${CONTACT}; codec requests: ${decodeCalls.join(', ') || 'none'}; it shows:\n${text.slice(0, 3000)}`);
      await page.waitForTimeout(500);
    }
    assert.ok(text.includes(SERVICE), 'the service is on the page');
    assert.ok(
      decodeCalls.some((c) => c.startsWith('POST /decode')),
      `the browser called the codec endpoint: ${decodeCalls.join(', ')}`,
    );
    t.diagnostic(`the UI showed the decoded plan after ${Date.now() - t0} ms; codec requests: ${decodeCalls.length} (${[...new Set(decodeCalls)].join(', ')})`);
  } catch (e) {
    if (page) (e as Error).message += `\n(screenshot of the page: ${await screenshot(page, 'codec-ui-failure').catch((err: Error) => `none: ${err.message}`)})`;
    throw e;
  } finally {
    await handle.terminate('test over').catch(() => undefined);
  }
});
