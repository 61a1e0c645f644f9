// Debian's Chromium driven by playwright-core (which downloads no browser of its own): for
// tests of the Temporal Web UI. $MRCD_CHROMIUM_BIN, else /usr/bin/chromium, else installed
// on first use with apt-get when running as root (scripts/provision-tools.js); otherwise a
// test that needs it fails with the command to run, never skips.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tools } from './tools';

/** No sandbox (root in CI), no GPU, and nothing that reaches past loopback on its own. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts headless Chromium; close() it (the test's after hook) to stop the process. */
export async function launchChromium(): Promise<Browser> {
  const browser = await tools.ensureChromium();
  return chromium.launch({ executablePath: browser.path, args: FLAGS, headless: true });
}

let shots: string | undefined;
/** Saves a full-page screenshot into a temporary directory of the process; returns its path (for a failure message). */
export async function screenshot(page: Page, name: string): Promise<string> {
  shots ??= mkdtempSync(join(tmpdir(), 'mrcd-ui-'));
  const path = join(shots, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
