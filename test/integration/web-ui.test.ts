// The Temporal Web UI as an operator console, driven in a real browser (Debian's Chromium
// through playwright-core) against the UI the dev server serves: an operator opens a running
// rollout, pauses it with "Send a Signal" (the signal picked by name from the list the
// workflow defines, its description shown), sees it paused in the current details and in
// `status`, resumes it, and sees it succeed; the page names the steps by their summaries.
// UI 2.54 facts this relies on: "Send a Signal" is in "More Actions"; menus and dialogs are
// in the DOM twice (one hidden), so every locator takes the visible one; the Data field is a
// code editor that takes typed keys (not fill()) and reformats on blur, and a Submit click
// while it has focus is lost, so it is blurred first; the page refreshes itself, so nothing
// waits for network idle; current details are not live ("press R for freshness") and are
// Markdown rendered in a frame of their own.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { freePort } from '../../dev/ports';
import { ACTION_DESCRIPTIONS } from '../../domain/definitions';
import { OPERATOR_ACTIONS, type OperatorActionName } from '../../domain/state';
import { launchChromium, screenshot } from '../support/browser';
import { planDoc, runRollout, startTestServer, TEST_GATE, type TestServer } from '../support/rollout-harness';
import { forTheFile } from '../support/temporal';

/** A dev server with its Web UI on a free loopback port (the harness's servers are headless). */
const server = forTheFile<TestServer & { uiUrl: string }>(
  async () => {
    const uiPort = await freePort();
    return { ...(await startTestServer({ uiPort })), uiUrl: `http://127.0.0.1:${uiPort}` };
  },
  (s) => s.stop(),
);

/** The one visible element of a locator (the UI keeps hidden copies of menus and dialogs). */
const visible = (l: Locator): Locator => l.filter({ visible: true }).first();

/** Sends `signal` with `payload` the way an operator does; returns the description the list showed for it. */
async function sendSignal(page: Page, signal: OperatorActionName, payload: object): Promise<string> {
  await visible(page.getByRole('button', { name: 'More Actions' })).click();
  await visible(page.getByText('Send a Signal', { exact: true })).click();
  await visible(page.getByTestId('signal-select-button')).click();
  // The list comes from the workflow's __temporal_workflow_metadata query: every action, then "Custom".
  const options = page.getByRole('option');
  await visible(options.filter({ hasText: signal })).waitFor();
  const listed = (await options.filter({ visible: true }).allInnerTexts()).map((t) => t.trim());
  for (const action of OPERATOR_ACTIONS)
    assert.ok(
      listed.some((t) => t.startsWith(action)),
      `"${action}" is not offered: ${listed.join(' | ')}`,
    );
  const option = visible(options.filter({ hasText: new RegExp(`^\\s*${signal}\\b`) }));
  const shown = (await option.innerText()).trim();
  await option.click();
  const editor = visible(page.getByRole('textbox', { name: 'Data' }));
  await editor.click();
  // The dialog keeps the Data of the signal sent before: replace it.
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(JSON.stringify(payload));
  // Blurred, the editor pretty-prints and grows; a Submit click while it has focus is lost.
  await editor.blur();
  assert.deepEqual(JSON.parse(await editor.innerText()), payload);
  await visible(page.getByRole('button', { name: 'Submit' })).click();
  return shown;
}

/**
 * Once the workflow has the signal: the dialog closes with "Workflow signaled.". Seen once
 * under load: the signal was delivered (the rollout acted on it) while Submit kept spinning
 * and the dialog stayed open over the page; then a reload is what an operator would do.
 */
async function signalConfirmed(page: Page, t: TestContext): Promise<void> {
  try {
    await visible(page.getByText('Workflow signaled.')).waitFor({ timeout: 15_000 });
    // Seen under load too: the confirmation shown while the dialog stayed open over the page.
    await page.getByTestId('signal-confirmation-modal').filter({ visible: true }).waitFor({ state: 'detached', timeout: 5_000 });
  } catch {
    t.diagnostic('the signal arrived, but the UI did not confirm it and close its dialog within 20 s: page reloaded');
    await page.reload({ waitUntil: 'domcontentloaded' });
  }
}

/** The text of the page, with the Markdown the UI renders in frames of their own (the current details). */
async function pageText(page: Page): Promise<string> {
  const frames = page.locator('iframe[title="output"]').filter({ visible: true });
  // A frame of the tab just left may be going away: it reads as nothing.
  const rendered = await Promise.all(
    (await frames.all()).map((f) =>
      f
        .contentFrame()
        .locator('body')
        .innerText({ timeout: 2000 })
        .catch(() => ''),
    ),
  );
  return [await page.locator('main').innerText(), ...rendered].join('\n');
}

/** Opens a tab of the workflow page and waits until its text matches (pressing R for fresh data meanwhile); returns the text. */
async function tabShows(page: Page, tab: string, pattern: RegExp, ms = 20_000): Promise<string> {
  await visible(page.getByRole('tab', { name: new RegExp(`^${tab}`) })).click();
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await pageText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`the ${tab} tab did not show ${pattern} within ${ms} ms; it shows:\n${text}`);
    await page.keyboard.press('r');
    await page.waitForTimeout(500);
  }
}

test('an operator pauses and resumes a rollout from the Web UI and sees it succeed', { timeout: 180_000 }, async (t) => {
  // The first region soaks long enough to act during its soak; the others keep the test short.
  const doc = planDoc({ defaults: { soak: '5s', checkInterval: '1s', gate: TEST_GATE } }, [
    { name: 'small', size: 1, soak: '30s' },
    { name: 'medium', size: 10 },
    { name: 'large', size: 100 },
  ]);
  const payload = { reason: 'ui test', by: 'tester' };
  const browser = await launchChromium();
  let page: Page | undefined;
  try {
    await runRollout(server, doc, {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]?.status === 'soaking');
      const { runId } = await h.handle.describe();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(20_000);
      await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(h.handle.workflowId)}/${runId}/history`, {
        waitUntil: 'domcontentloaded',
      });

      // Pause, picked by name from the defined signals, with its description shown.
      const shown = await sendSignal(page, 'pause', payload);
      assert.ok(shown.includes(ACTION_DESCRIPTIONS.pause), `the pause option shows "${shown}"`);
      const paused = await h.waitUntil((s) => s.state === 'paused', 10_000);
      await signalConfirmed(page, t);
      assert.equal(paused.pausedBy, 'tester');
      assert.deepEqual((({ action, by, reason, via, accepted }) => ({ action, by, reason, via, accepted }))(paused.actions.at(-1)!), {
        action: 'pause',
        by: 'tester',
        reason: 'ui test',
        via: 'signal',
        accepted: true,
      });
      const details = await tabShows(page, 'User Metadata', /paused in small/);
      assert.match(details, /Paused by tester at \S+Z: ui test/);
      assert.match(details, /small \(size 1\): (soaking — soak ends \S+Z|awaiting-resume)/);

      // The steps read as what they are, not as activity types and ids.
      const timeline = await tabShows(page, 'Timeline', /soak of small 30s/);
      assert.match(timeline, /deploy checkout 2\.0\.0 to small/);
      // The one-step start is a local activity: the UI names it by its type (it shows no summary for a marker).
      assert.match(timeline, /prepareRollout/);

      await sendSignal(page, 'resume', { reason: 'graphs fine', by: 'tester' });
      await h.waitUntil((s) => s.state === 'running' && s.pausedBy === undefined, 10_000);
      await signalConfirmed(page, t);
      const { status, failureType } = await h.finish(120_000);
      assert.equal(failureType, undefined, status?.summary);
      assert.equal(status.state, 'succeeded');

      const end = await tabShows(page, 'User Metadata', /— succeeded \(3 of 3 regions promoted\)/);
      assert.doesNotMatch(end, /Paused by/);
      await visible(page.getByTestId('execution-status').filter({ hasText: /completed/i })).waitFor();
      const history = await tabShows(page, 'Event History', /soak of large 5s/);
      assert.match(history, /Workflow Execution Completed/i);
    });
  } catch (e) {
    if (page) (e as Error).message += `\n(screenshot of the page: ${await screenshot(page, 'web-ui-failure').catch((err: Error) => `none: ${err.message}`)})`;
    throw e;
  } finally {
    await browser.close();
  }
});

test(
  '"Request Cancellation" in the Web UI past the point of no return is refused and recorded; the rollout completes with every region on the version',
  { timeout: 180_000 },
  async () => {
    const migrations = [{ name: 'drop-column', phase: 'contract', apply: { run: ['m', 'drop'] }, irreversible: { reason: 'drops the old column for good' } }];
    const doc = planDoc({ migrations, defaults: { soak: '2s', checkInterval: '1s', gate: TEST_GATE } }, [
      { name: 'small', size: 1 },
      { name: 'large', size: 2 },
    ]);
    const browser = await launchChromium();
    let page: Page | undefined;
    try {
      const calls = await runRollout(server, doc, { migrationMs: 15_000 }, async (h) => {
        await h.waitUntil((s) => /contract/.test(s.summary), 60_000);
        const { runId } = await h.handle.describe();
        page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        page.setDefaultTimeout(20_000);
        await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(h.handle.workflowId)}/${runId}/history`, {
          waitUntil: 'domcontentloaded',
        });
        await visible(page.getByRole('button', { name: 'Request Cancellation' })).click();
        const dialog = visible(page.getByRole('dialog'));
        await dialog.getByText('Are you sure you want to cancel this workflow?').waitFor();
        await dialog.getByRole('button', { name: 'Confirm' }).click();
        const refused = await h.waitUntil((s) => s.actions.some((a) => a.by === 'temporal'), 20_000);
        const cancel = refused.actions.find((a) => a.by === 'temporal')!;
        assert.equal(cancel.accepted, false);
        assert.match(cancel.note ?? '', /past the point of no return/);
        const { status, failureType } = await h.finish(60_000);
        assert.equal(failureType, undefined, status?.summary);
        assert.equal(status.state, 'succeeded');
        await visible(page.getByTestId('execution-status').filter({ hasText: /completed/i })).waitFor();
      });
      assert.equal(calls.filter((c) => c.kind === 'rollback').length, 0, 'nothing rolled back after the contract');
    } catch (e) {
      if (page)
        (e as Error).message += `\n(screenshot of the page: ${await screenshot(page, 'web-ui-cancel-failure').catch((err: Error) => `none: ${err.message}`)})`;
      throw e;
    } finally {
      await browser.close();
    }
  },
);
