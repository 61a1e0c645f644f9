// Debian's Chromium driven by playwright-core (which downloads no browser of its own): for
// tests of the Temporal Web UI. `.ci/run` installs the package; a test that needs it fails
// with how to install it, never skips.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

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
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: the Web UI test needs Debian's chromium (apt-get install -y --no-install-recommends chromium; .ci/run installs it)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
}

let shots: string | undefined;
/** Saves a full-page screenshot into a temporary directory of the process; returns its path (for a failure message). */
export async function screenshot(page: Page, name: string): Promise<string> {
  shots ??= mkdtempSync(join(tmpdir(), 'mrcd-ui-'));
  const path = join(shots, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
