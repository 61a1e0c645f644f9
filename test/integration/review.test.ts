// `mrcd review` on real finished rollouts: a dev server, rollouts that succeed, halt and
// are aborted, roll back, pause and resume, are aborted mid-soak, overridden (skip-soak,
// a quarantined version restarted) and one terminated by Temporal; then the real bin/mrcd.js
// renders the review as JSON, Markdown and HTML, and the HTML is opened in Chromium.
// MRCD_RECORD_REVIEW=1 also saves what was collected as test/fixtures/review/rollouts.json,
// the fixture test/unit/review.test.ts checks the arithmetic on without a server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { checkQuarantine } from '../../activities/quarantine';
import { act, findQuarantine, startRollout, statusFromFailure, waitForVerdict, type MrcdClient } from '../../client/rollouts';
import { collectRollouts, finalStatus, reviewQuery } from '../../client/review/collect';
import { aggregate } from '../../client/review/aggregate';
import { readReviewMemo, REVIEW_MEMO_KEY } from '../../domain/review-memo';
import type { CollectedRollout, ReviewReport } from '../../client/review/types';
import type { RolloutStatus } from '../../domain/state';
import { planDoc, statusUntil, useTestServer, withScriptedWorker, type Script } from '../support/rollout-harness';
import { useTempDir } from '../support/temporal';
import { launchChromium } from '../support/browser';

const ROOT = resolve(__dirname, '../..');
const env = useTestServer();
const dir = useTempDir('mrcd-review-');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** bin/mrcd.js in a child process; killed (code null) if it outlives `ms`. */
function mrcd(args: string[], ms = 60_000): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--address', env.address, ...args], { cwd: ROOT, env: { ...process.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

const FAST = { soak: '1s', checkInterval: '500ms' };
const LONG = { soak: '60s', checkInterval: '500ms' };
const two = [
  { name: 'small', size: 1 },
  { name: 'large', size: 10 },
];
const plan = (service: string, team: string, defaults: object, regions?: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  planDoc(
    {
      service,
      owner: { team, contact: `#${team}`, runbook: `https://runbooks.example.com/${service}` },
      defaults: { ...(planDoc().defaults as object), ...defaults },
      ...extra,
    },
    regions,
  );

const by = (who: string, reason: string) => ({ by: who, reason });
const soaking = (region: string) => (s: RolloutStatus) => s.regions.find((r) => r.name === region)?.status === 'soaking';

/** Runs a scenario on a worker of its own (scripted activities, the real quarantine check). */
const scenario = <T>(script: Script, body: (m: MrcdClient) => Promise<T>) => withScriptedWorker(env, script, body, { checkQuarantine });

const EXPECTED = 8;
let collected: CollectedRollout[] = [];
let browser: Browser | undefined;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('mrcd review', { timeout: 240_000 }, () => {
  test('real rollouts end in every verdict', async () => {
    await Promise.all([
      // Succeeds across three regions; no reason to grow past two was declared.
      scenario({}, async (m) => {
        const v = await waitForVerdict(await startRollout(m, plan('rv-good', 'payments', FAST), { startedBy: 'ci' }));
        assert.equal(v.status.state, 'succeeded');
      }),
      // Breaches in its first region, halts, is aborted; then the quarantined version is
      // started again with an override and a reason, and succeeds.
      scenario({ breachAfterMs: { small: 300 } }, async (m) => {
        await startRollout(m, plan('rv-bad', 'payments', FAST, two), { startedBy: 'ci' });
        await statusUntil(m, 'rv-bad', (s) => s.state === 'halted', 'halted');
        await new Promise((r) => setTimeout(r, 1200));
        await act(m, 'rv-bad', 'abort', by('carol', 'bad build'));
        await statusUntil(m, 'rv-bad', (s) => s.state === 'aborted', 'aborted');
        const deadline = Date.now() + 15_000;
        while ((await findQuarantine(m.client, { service: 'rv-bad', version: '2.0.0' })).length === 0) {
          assert.ok(Date.now() < deadline, 'the quarantine never showed in visibility');
          await new Promise((r) => setTimeout(r, 200));
        }
      }),
      // Rolls back everything (policy rollback-all) on a breach in its second region; its
      // plan says why it has three regions.
      scenario({ breachAfterMs: { medium: 300 } }, async (m) => {
        const doc = plan('rv-rolled', 'search', FAST, undefined, { failurePolicy: 'rollback-all', growthReason: 'one per continent' });
        const v = await waitForVerdict(await startRollout(m, doc));
        assert.equal(v.status.state, 'rolled-back');
      }),
      // Paused while soaking, resumed a while later, succeeds.
      scenario({}, async (m) => {
        await startRollout(m, plan('rv-paused', 'search', { soak: '2s', checkInterval: '500ms' }, two));
        await statusUntil(m, 'rv-paused', soaking('small'), 'soaking');
        await act(m, 'rv-paused', 'pause', by('dave', 'lunch'));
        await statusUntil(m, 'rv-paused', (s) => s.regions[0]!.status === 'awaiting-resume', 'held');
        await new Promise((r) => setTimeout(r, 1500));
        await act(m, 'rv-paused', 'resume', by('dave', 'back'));
        const v = await statusUntil(m, 'rv-paused', (s) => s.state === 'succeeded', 'succeeded');
        assert.equal(v.state, 'succeeded');
      }),
      // Aborted by an operator in the middle of its soak: no problem, no halt.
      scenario({}, async (m) => {
        const h = await startRollout(m, plan('rv-aborted', 'search', LONG, two));
        await statusUntil(m, 'rv-aborted', soaking('small'), 'soaking');
        await act(m, 'rv-aborted', 'abort', by('erin', 'wrong day'));
        // To its close, not just its verdict: the worker stops when this scenario ends, and an
        // aborted rollout still gives its region slot back to the fleet policy in a last task.
        assert.equal((await waitForVerdict(h)).status.state, 'aborted');
      }),
      // A soak cut short by an override with a reason.
      scenario({}, async (m) => {
        await startRollout(m, plan('rv-skip', 'search', { soak: '1s', checkInterval: '500ms' }, [{ name: 'small', size: 1, soak: '60s' }, two[1]!]));
        await statusUntil(m, 'rv-skip', soaking('small'), 'soaking');
        await act(m, 'rv-skip', 'skip-soak', { ...by('bob', 'hotfix for incident 42'), region: 'small' });
        await statusUntil(m, 'rv-skip', (s) => s.state === 'succeeded', 'succeeded');
      }),
      // Terminated by Temporal: no final status, counted from visibility.
      scenario({}, async (m) => {
        const h = await startRollout(m, plan('rv-term', 'search', LONG, two));
        await statusUntil(m, 'rv-term', soaking('small'), 'soaking');
        await h.terminate('review test: ended by Temporal');
      }),
    ]);
    // The quarantined version again, overridden with a reason.
    await scenario({}, async (m) => {
      const v = await waitForVerdict(
        await startRollout(m, plan('rv-bad', 'payments', FAST, two), {
          startedBy: 'alice',
          overrideQuarantine: { reason: 'dashboard query fixed', by: 'alice' },
        }),
      );
      assert.equal(v.status.state, 'succeeded');
      assert.equal(v.status.overrides?.[0]?.kind, 'quarantine', 'the override is on the record');
    });
  });

  test('collect: one visibility query, the close event of each; the same status handle.result() gives', async (t) => {
    const deadline = Date.now() + 20_000;
    const m: MrcdClient = { client: env.client, taskQueue: 'unused', close: async () => {} };
    const since = Date.now() - 3_600_000;
    for (;;) {
      collected = await collectRollouts(m, { since, until: Date.now() + 60_000 });
      if (collected.length >= EXPECTED && collected.filter((c) => c.execution !== 'RUNNING').length >= EXPECTED) break;
      assert.ok(Date.now() < deadline, `visibility lists ${collected.length} of ${EXPECTED} finished rollouts`);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(collected.length, EXPECTED);
    assert.equal(collected.filter((c) => c.status).length, EXPECTED - 1, 'every rollout but the terminated one wrote a final status');
    assert.equal(collected.find((c) => c.service === 'rv-term')?.execution, 'TERMINATED');

    // The close event alone against handle.result() (which reads the same event and builds the failure).
    let closeMs = 0;
    let resultMs = 0;
    const ended = collected.filter((c) => c.status);
    for (let round = 0; round < 3; round++)
      for (const c of ended) {
        let at = performance.now();
        const fromEvent = await finalStatus(m, c.workflowId, c.runId);
        closeMs += performance.now() - at;
        at = performance.now();
        const fromResult = await env.client.workflow
          .getHandle(c.workflowId, c.runId)
          .result()
          .then(
            (s) => s as RolloutStatus,
            (e: unknown) => statusFromFailure(e),
          );
        resultMs += performance.now() - at;
        assert.deepEqual(fromEvent, fromResult, `${c.service}: the close event and result() disagree`);
      }
    t.diagnostic(`per rollout: close event ${(closeMs / ended.length / 3).toFixed(2)} ms, handle.result() ${(resultMs / ended.length / 3).toFixed(2)} ms`);
    const started = performance.now();
    await collectRollouts(m, { since, until: Date.now() + 60_000 });
    t.diagnostic(`collect of ${EXPECTED} rollouts (query + close events, 16 at once): ${(performance.now() - started).toFixed(0)} ms`);

    if (process.env.MRCD_RECORD_REVIEW === '1') {
      const file = join(ROOT, 'test/fixtures/review/rollouts.json');
      // In the project's one format, so `npm run lint` passes on a fresh recording.
      const prettier = await import('prettier');
      writeFileSync(file, await prettier.format(JSON.stringify({ recordedAt: Date.now(), rollouts: collected }), { parser: 'json' }));
      t.diagnostic(`recorded ${file}`);
    }
  });

  test('the review memo: every rollout that wrote a status wrote its figures, and they give the report the close events give', async (t) => {
    const m: MrcdClient = { client: env.client, taskQueue: 'unused', close: async () => {} };
    const since = Date.now() - 3_600_000;
    const sizes: number[] = [];
    let withMemo = 0;
    for await (const w of env.client.workflow.list({ query: reviewQuery({ since, until: Date.now() + 60_000 }) })) {
      const memo = readReviewMemo(w.memo?.[REVIEW_MEMO_KEY]);
      if (w.status.name === 'TERMINATED') {
        assert.equal(memo, undefined, 'a terminated rollout never reached its end');
        continue;
      }
      assert.ok(memo, `${w.workflowId} (${w.status.name}) wrote no review memo`);
      withMemo += 1;
      sizes.push(JSON.stringify(memo).length);
      // No free text: the memo is not encrypted by the payload codec.
      assert.doesNotMatch(JSON.stringify(memo), /hotfix|dashboard query|alice|bob|three continents/);
    }
    assert.equal(withMemo, EXPECTED - 1);
    const viaMemo = await collectRollouts(m, { since, until: Date.now() + 60_000 });
    const viaClose = await Promise.all(
      viaMemo.map(async (c) => {
        const status = c.execution === 'TERMINATED' ? undefined : await finalStatus(m, c.workflowId, c.runId);
        return { ...c, ...(status ? { status } : {}) };
      }),
    );
    // Two carry overrides, whose reasons only the close event has: those come from it either way.
    assert.equal(viaMemo.filter((c) => c.status && !('rolloutId' in c.status)).length, EXPECTED - 3, 'the rest came from the memo alone');
    const o = { since, until: Date.now() + 60_000, staleAfterMs: 1000 };
    assert.deepEqual(aggregate(viaMemo, o), aggregate(viaClose, o));
    t.diagnostic(`review memo: ${Math.min(...sizes)}–${Math.max(...sizes)} bytes of JSON per rollout`);
  });

  test('mrcd review --format json: the figures of these rollouts', async () => {
    const r = await mrcd(['review', '--since', '1h', '--format', 'json', '--stale-after', '1s']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ReviewReport;
    const t = report.total;
    assert.equal(t.rollouts, EXPECTED);
    assert.deepEqual([t.verdicts.succeeded, t.verdicts.aborted, t.verdicts['rolled-back'], t.verdicts.failed, t.verdicts.terminated], [4, 2, 1, 0, 1]);
    assert.equal(t.rates.succeeded, 4 / 8);
    assert.equal(t.everHalted, 1, 'rv-bad halted; the others never waited after a failure');
    assert.equal(t.problems, 2);
    assert.deepEqual(t.caughtAt, [1, 1], 'rv-bad in its first region, rv-rolled in its second');
    assert.equal(t.caughtInFirstRegion, 1);
    assert.equal(t.firstRegionRate, 0.5);
    const svc = Object.fromEntries(report.byService.map((g) => [g.key, g]));
    assert.equal(svc['rv-bad']!.rollouts, 2);
    assert.deepEqual(svc['rv-bad']!.caughtAt, [1]);
    assert.ok(svc['rv-paused']!.paused.totalMs >= 1500, `paused ${svc['rv-paused']!.paused.totalMs} ms`);
    assert.ok(svc['rv-bad']!.halted.totalMs >= 1200, `halted ${svc['rv-bad']!.halted.totalMs} ms`);
    assert.equal(t.paused.rollouts, 1);
    const owners = Object.fromEntries(report.byOwner.map((g) => [g.key, g.rollouts]));
    assert.deepEqual(owners, { payments: 3, search: 5 });

    const overrides = report.overrides.map((o) => [o.service, o.kind, o.by, o.reason]);
    assert.deepEqual(overrides, [
      ['rv-skip', 'skip-soak', 'bob', 'hotfix for incident 42'],
      ['rv-bad', 'quarantine', 'alice', 'dashboard query fixed'],
    ]);
    assert.deepEqual(
      report.undeclaredGrowth.map((g) => g.service),
      ['rv-good'],
      'rv-rolled declared its reason',
    );
    assert.deepEqual(report.checksNeverEvaluated, []);
    assert.ok(report.checks.some((c) => c.name === 'error-ratio' && c.failed >= 2));
    const stale = report.staleHolds.map((h) => `${h.service}:${h.kind}`);
    assert.ok(stale.includes('rv-paused:pause'), stale.join());
    assert.ok(stale.includes('rv-bad:halt'), stale.join());
    assert.ok(t.stages.soak.n >= 8 && t.stages.soak.p95Ms! >= 900, JSON.stringify(t.stages.soak));
    assert.ok(t.stages.rollout.n === EXPECTED - 1);

    const one = JSON.parse((await mrcd(['review', '--since', '1h', '--format', 'json', '--owner', 'payments'])).stdout) as ReviewReport;
    assert.equal(one.total.rollouts, 3);
    assert.deepEqual(one.filter, { owner: 'payments' });
  });

  test('mrcd review --format md: tables and footnotes', async () => {
    const r = await mrcd(['review', '--since', '1h']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# Rollout review /);
    assert.match(r.stdout, /\| all \| 8 \| 4 \(50%\) \| 1 \(13%\) \| 2 \(25%\) \| 0 \(0%\) \| 1 \| 1 \| 2 \| #1: 1, #2: 1 \| 1 \(50%\) \|/);
    assert.match(r.stdout, /\| [\d-]+T[\d:]+Z \| rv-skip \| 2\.0\.0 \| skip-soak \| small \| bob \| hotfix for incident 42 \|/);
    assert.match(r.stdout, /## What the figures mean/);
    assert.match(r.stdout, /\*\*firstRegion\*\*: Problem rollouts caught in their first region/);
  });

  test('mrcd review --format html: self-contained, charts drawn in Chromium', async (t) => {
    const file = join(dir.path, 'review.html');
    const r = await mrcd(['review', '--since', '1h', '--format', 'html', '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /review of 8 rollout\(s\) written to /);
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<script|https?:\/\/|src=|@import|url\(/i, 'no script, no external URL');

    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (req) => !req.url().startsWith('file:') && problems.push(`request ${req.url()}`));
    await page.goto(pathToFileURL(file).href);
    assert.equal(await page.title(), (await page.locator('h1').textContent())?.trim());
    assert.ok(await page.locator('h1').isVisible());
    const charts = await page.locator('svg[data-chart]').evaluateAll((svgs) =>
      svgs.map((s) => ({
        id: s.getAttribute('data-chart'),
        marks: s.querySelectorAll('.mark-rect path').length,
        title: s.querySelector('.role-title-text')?.textContent ?? '',
        width: s.getBoundingClientRect().width,
      })),
    );
    assert.deepEqual(
      charts.map((c) => c.id),
      ['verdicts', 'caught', 'stages'],
    );
    for (const c of charts) {
      assert.ok(c.marks > 0, `${c.id}: no bars drawn`);
      assert.ok(c.width > 200, `${c.id}: ${c.width}px wide`);
      assert.ok(c.title.length > 0, `${c.id}: no title`);
    }
    // One bar per service and verdict: 7 services, rv-bad with two verdicts.
    assert.equal(charts[0]!.marks, 8);
    const shot = '/tmp/mrcd-review.png';
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
    await page.close();
    assert.deepEqual(problems, []);
  });

  test('bad flags are refused with the flag named, exit 2', async () => {
    for (const [args, flag] of [
      [['--since', '9x'], /--since: "9x" must be a duration ago/],
      [['--since', '1d', '--format', 'pdf'], /--format: "pdf" must be one of md, html, json/],
      [['--since', '1d', '--until', '2d'], /--until: .* is not after --since/],
      [['--since', '2026-13-45'], /--since: "2026-13-45"/],
      [['--since', '1d', '--stale-after', 'soon'], /--stale-after: "soon"/],
      [['--since', '1d', '--service', 'a" OR x'], /--service "a\\" OR x"/],
      [[], /required option '--since <when>' not specified/],
    ] as const) {
      const r = await mrcd(['review', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, flag);
    }
  });
});
