// The review's arithmetic on recorded real rollouts (test/fixtures/review/rollouts.json,
// written by MRCD_RECORD_REVIEW=1 node --import tsx --test test/integration/review.test.ts)
// and on statuses made up to reach what the recording does not: no-op pauses, retried
// halts, approvals, reminders, a declared growth reason, checks never evaluated.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregate, durationStat } from '../../client/review/aggregate';
import { parseReviewFlags, ReviewFlagError } from '../../client/review/flags';
import { reviewHtml } from '../../client/review/html';
import { reviewMarkdown } from '../../client/review/markdown';
import { renderCharts } from '../../client/review/charts';
import { FOOTNOTES } from '../../client/review/footnotes';
import type { CollectedRollout, ReviewedStatus, ReviewOptions } from '../../client/review/types';
import type { RolloutStatus } from '../../domain/state';
import type { RecordedAction, RegionState } from '../../domain/state';

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/review/rollouts.json'), 'utf8')) as { recordedAt: number; rollouts: CollectedRollout[] };
const HOUR = 3_600_000;
const window = (o: Partial<ReviewOptions> = {}): ReviewOptions => ({
  since: fixture.recordedAt - HOUR,
  until: fixture.recordedAt + 1,
  staleAfterMs: HOUR,
  ...o,
});

describe('review figures of the recorded rollouts', () => {
  const r = aggregate(fixture.rollouts, window());
  const svc = Object.fromEntries(r.byService.map((g) => [g.key, g]));

  test('verdicts and rates, terminated counted from visibility', () => {
    assert.equal(r.total.rollouts, 8);
    assert.deepEqual(r.total.verdicts, { succeeded: 4, 'rolled-back': 1, aborted: 2, failed: 0, terminated: 1, 'timed-out': 0, 'no-status': 0 });
    assert.equal(r.total.rates.succeeded, 0.5);
    assert.equal(r.total.rates.terminated, 0.125);
    assert.deepEqual(
      r.byOwner.map((g) => [g.key, g.rollouts, g.verdicts.succeeded]),
      [
        ['payments', 3, 2],
        ['search', 5, 2],
      ],
    );
    assert.deepEqual(svc['rv-bad']!.verdicts.aborted, 1);
    assert.deepEqual(svc['rv-term']!.verdicts.terminated, 1);
  });

  test('where problems were caught: rv-bad in its first region, rv-rolled in its second', () => {
    assert.equal(r.total.problems, 2);
    assert.deepEqual(r.total.caughtAt, [1, 1]);
    assert.equal(r.total.caughtInFirstRegion, 1);
    assert.equal(r.total.firstRegionRate, 0.5);
    assert.deepEqual(svc['rv-rolled']!.caughtAt, [0, 1]);
    assert.equal(svc['rv-good']!.firstRegionRate, undefined, 'no problems, no rate');
  });

  test('halted, paused: only the halted-then-aborted and the paused rollout', () => {
    assert.equal(r.total.everHalted, 1);
    assert.equal(svc['rv-bad']!.everHalted, 1);
    assert.equal(svc['rv-aborted']!.everHalted, 0, 'an abort mid-soak is no halt');
    assert.equal(svc['rv-rolled']!.everHalted, 0, 'rollback-all never waited');
    assert.ok(svc['rv-bad']!.halted.totalMs >= 1200);
    assert.equal(r.total.paused.rollouts, 1);
    assert.ok(svc['rv-paused']!.paused.totalMs >= 1500);
    const paused = fixture.rollouts.find((c) => c.service === 'rv-paused')!.status!;
    const pause = paused.actions!.find((a) => a.action === 'pause')!;
    const resume = paused.actions!.find((a) => a.action === 'resume')!;
    assert.equal(svc['rv-paused']!.paused.totalMs, resume.at - pause.at);
  });

  test('stage times: mean and p95 over promoted regions', () => {
    const s = r.total.stages;
    // rv-good 3, rv-paused 2, rv-skip 2, rv-bad's override 2, rv-rolled 1 (small, before medium breached).
    assert.equal(s.soak.n, 10);
    assert.equal(s.rollout.n, 7);
    assert.ok(s.soak.p95Ms! >= s.soak.meanMs! && s.soak.meanMs! >= 900);
    assert.ok(svc['rv-skip']!.stages.soak.meanMs! < 3000, 'the skipped 60 s soak was cut short');
    assert.ok(svc['rv-paused']!.stages.hold.p95Ms! >= 1000, 'the pause held a promotion after its gate');
  });

  test('overrides with who and why, growth, checks', () => {
    assert.deepEqual(
      r.overrides.map((o) => [o.service, o.kind, o.by, o.reason, o.region]),
      [
        ['rv-skip', 'skip-soak', 'bob', 'hotfix for incident 42', 'small'],
        ['rv-bad', 'quarantine', 'alice', 'dashboard query fixed', undefined],
      ],
    );
    assert.match(r.overrides[1]!.detail!, /failing its gate in small/);
    assert.deepEqual(
      r.undeclaredGrowth.map((g) => [g.service, g.regions]),
      [['rv-good', 3]],
      'rv-rolled declared why it has three regions',
    );
    assert.deepEqual(r.checks, [{ name: 'error-ratio', seen: 12, evaluated: 12, failed: 2 }]);
    assert.deepEqual(r.checksNeverFailed, []);
    assert.deepEqual(r.checksNeverEvaluated, []);
  });

  test('stale holds follow --stale-after', () => {
    assert.deepEqual(r.staleHolds, []);
    const strict = aggregate(fixture.rollouts, window({ staleAfterMs: 1000 }));
    assert.deepEqual(strict.staleHolds.map((h) => `${h.service}:${h.kind}`).sort(), ['rv-bad:halt', 'rv-paused:pause']);
  });

  test('the window and the filters', () => {
    assert.equal(aggregate(fixture.rollouts, window({ service: 'rv-bad' })).total.rollouts, 2);
    assert.equal(aggregate(fixture.rollouts, window({ owner: 'search' })).total.rollouts, 5);
    const closed = fixture.rollouts.map((c) => c.closedAt).sort((a, b) => a - b);
    // [since, until): the earliest closer is out when since is just after it.
    assert.equal(aggregate(fixture.rollouts, window({ since: closed[0]! + 1 })).total.rollouts, 7);
    assert.equal(aggregate(fixture.rollouts, window({ until: closed[0]! })).total.rollouts, 0);
  });

  test('every figure cited has a footnote', () => {
    const md = reviewMarkdown(r);
    for (const name of Object.keys(FOOTNOTES)) assert.ok(md.includes(`**${name}**`), `${name} is not explained`);
    assert.match(md, /\| rv-rolled \| 1 \| 0 \(0%\) \| 1 \(100%\) \| 0 \(0%\) \| 0 \(0%\) \| 0 \| 0 \| 1 \| #2: 1 \| 0 \(0%\) \|/);
  });

  test('HTML: self-contained, charts as inline SVG with marks', async () => {
    const html = reviewHtml(r, await renderCharts(r));
    assert.doesNotMatch(html, /<script|https?:\/\/|src=|url\(/i);
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    assert.match(html, /data-chart="verdicts"[\s\S]*class="mark-rect role-mark/);
  });
});

/** A made-up finished rollout; `regions` and `actions` are what the case is about. */
function made(service: string, s: Partial<ReviewedStatus & RolloutStatus>, over: Partial<CollectedRollout> = {}): CollectedRollout {
  const status: ReviewedStatus & Partial<RolloutStatus> = {
    rolloutId: `rollout-${service}`,
    service,
    version: '1.0.0',
    owner: { team: 't', contact: '#t' },
    state: 'succeeded',
    regions: [],
    actions: [],
    legalActions: [],
    startedAt: 0,
    endedAt: 10 * HOUR,
    failurePolicy: 'halt',
    summary: '',
    ...s,
  };
  return {
    workflowId: `rollout-${service}`,
    runId: 'r',
    service,
    owner: 't',
    version: '1.0.0',
    execution: 'COMPLETED',
    runStartedAt: 0,
    closedAt: 10 * HOUR,
    status,
    ...over,
  };
}
const act = (action: string, at: number, note: string, accepted = true): RecordedAction => ({
  action,
  at,
  note,
  accepted,
  by: 'op',
  reason: 'r',
  via: 'update',
});
const region = (name: string, x: Partial<RegionState>): RegionState => ({ name, size: 1, status: 'promoted', attempts: 1, ...x });
const gate = (verdict: 'pass' | 'fail' | 'inconclusive' | 'error', at: number, check = 'errors') => ({
  verdict,
  at,
  checks: [{ name: check, verdict, comparator: '<' as const, threshold: 1, detail: '' }],
});
const opts: ReviewOptions = { since: 0, until: 11 * HOUR, staleAfterMs: HOUR };

describe('review figures of made-up rollouts', () => {
  test('recorded holds (status.holds) are the times, exactly: a retried halt, an approval wait, a pause the rollout ended in', () => {
    const hold = (kind: 'paused' | 'halted' | 'rollback-failed' | 'awaiting-approval', since: number, until: number) => ({ kind, since, until, reminders: 0 });
    const r = aggregate(
      [
        made('held', {
          state: 'aborted',
          // Actions that would infer other times: the recorded holds win.
          actions: [act('pause', 0.5 * HOUR, 'paused: the next promotion is held'), act('resume', 0.6 * HOUR, 'resumed')],
          holds: [hold('paused', 1 * HOUR, 1.5 * HOUR), hold('halted', 2 * HOUR, 4 * HOUR), hold('awaiting-approval', 5 * HOUR, 7 * HOUR)],
          hold: { kind: 'paused', since: 9 * HOUR, reminders: 1 },
        }),
      ],
      opts,
    );
    assert.equal(r.total.paused.totalMs, 0.5 * HOUR + 1 * HOUR);
    assert.equal(r.total.halted.totalMs, 2 * HOUR);
    assert.equal(r.total.everHalted, 1);
    assert.deepEqual(
      r.staleHolds.map((h) => [h.kind, h.durationMs, h.endedWithRollout]),
      [
        ['halt', 2 * HOUR, false],
        ['approval', 2 * HOUR, false],
      ],
    );
  });

  test('no-op and rejected pauses are not time paused; an unended pause runs to the end and is stale', () => {
    const r = aggregate(
      [
        made('a', {
          actions: [
            act('pause', 1 * HOUR, 'paused: the next promotion is held'),
            act('pause', 1.5 * HOUR, 'already paused'),
            act('resume', 2 * HOUR, 'resumed'),
            act('pause', 3 * HOUR, 'refused', false),
            act('pause', 8 * HOUR, 'paused: the next promotion is held'),
          ],
          state: 'aborted',
        }),
      ],
      opts,
    );
    assert.equal(r.total.paused.totalMs, 1 * HOUR + 2 * HOUR);
    assert.deepEqual(
      r.staleHolds.map((h) => [h.kind, h.durationMs, h.endedWithRollout]),
      [['pause', 2 * HOUR, true]],
    );
  });

  test('a halt retried into a pass still counts as halted; an approval wait is a hold', () => {
    const r = aggregate(
      [
        made('b', {
          regions: [
            region('small', { deployedAt: 1000, lastGate: gate('pass', 2000), promotedAt: 3000 }),
            region('large', { deployedAt: 4000, lastGate: gate('pass', 5000), promotedAt: 5000 + 2 * HOUR, approvedBy: 'lead' }),
          ],
          actions: [act('resume', 3500, 'retrying small')],
        }),
      ],
      opts,
    );
    assert.equal(r.total.everHalted, 1);
    assert.equal(r.total.halted.totalMs, 0, 'its start went with the failed attempt');
    assert.deepEqual(r.total.stages.deploy, { n: 2, meanMs: 1000, p95Ms: 1000 });
    assert.deepEqual(r.total.stages.hold.p95Ms, 2 * HOUR);
    assert.deepEqual(
      r.staleHolds.map((h) => [h.kind, h.region]),
      [['approval', 'large']],
    );
  });

  test('shadow checks against the gate they sat in: agreed, would fail, would pass, undecided; the gate figures leave them out of nothing', () => {
    const withShadow = (gateVerdict: 'pass' | 'fail', shadow: 'pass' | 'fail' | 'inconclusive', at: number) => ({
      ...gate(gateVerdict, at),
      checks: [...gate(gateVerdict, at).checks, { name: 'vs-control', verdict: shadow, comparator: '<' as const, threshold: 1.5, detail: '', shadow: true }],
    });
    const r = aggregate(
      [
        made('s', {
          regions: [
            region('a', { lastGate: withShadow('pass', 'pass', 1000) }),
            region('b', { lastGate: withShadow('pass', 'fail', 2000) }),
            region('c', { lastGate: withShadow('fail', 'pass', 3000), status: 'rolled-back' }),
            region('d', { lastGate: withShadow('pass', 'inconclusive', 4000) }),
            region('e', { lastGate: gate('pass', 5000) }),
          ],
        }),
      ],
      opts,
    );
    assert.deepEqual(r.shadow, [{ name: 'vs-control', compared: 3, agreed: 1, wouldFail: 1, wouldPass: 1, undecided: 1 }]);
  });

  test('a late regression is caught where it regressed, before a later region that failed; inconclusive-only checks were never evaluated', () => {
    const r = aggregate(
      [
        made('c', {
          state: 'aborted',
          regions: [
            region('small', { lastGate: gate('fail', 9000), regressedAt: 9000, status: 'rolled-back' }),
            region('mid', { lastGate: gate('inconclusive', 8000, 'latency'), status: 'rolled-back' }),
            region('large', { lastGate: gate('fail', 7000), status: 'rolled-back' }),
          ],
          actions: [act('abort', 2 * HOUR, 'aborting')],
          halt: { reason: 'aborted', at: 2 * HOUR, cause: { kind: 'aborted' } },
          growthReason: 'three continents',
          reminders: { sent: 3, escalated: 1 },
        }),
        made('d', {}, { execution: 'TIMED_OUT', status: undefined } as Partial<CollectedRollout>),
      ],
      opts,
    );
    assert.deepEqual(r.total.caughtAt, [1]);
    assert.equal(r.total.everHalted, 1);
    assert.equal(r.total.halted.totalMs, 2 * HOUR - 7000, 'from the first evidence to the abort');
    assert.deepEqual(r.checksNeverEvaluated, ['latency']);
    assert.deepEqual(r.checksNeverFailed, []);
    assert.deepEqual(r.total.reminders, { rollouts: 1, sent: 3, escalated: 1 });
    assert.equal(r.total.undeclaredGrowth, 0, 'a reason was declared');
    assert.equal(r.total.verdicts['timed-out'], 1);
  });

  test('durations: nearest-rank p95', () => {
    assert.deepEqual(durationStat([]), { n: 0 });
    assert.deepEqual(durationStat(Array.from({ length: 20 }, (_, i) => i + 1)), { n: 20, meanMs: 11, p95Ms: 19 });
  });

  test('Markdown cells cannot break the table', () => {
    const r = aggregate([made('e', { overrides: [{ kind: 'skip-soak', by: 'x|y', reason: 'a | b\nc', at: 1 }] })], opts);
    assert.match(reviewMarkdown(r), /\| x\\\|y \| a \\\| b c \|/);
  });
});

describe('review flags', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  test('durations ago and ISO times; defaults', () => {
    assert.deepEqual(parseReviewFlags({ since: '90d' }, now), { since: now - 90 * 24 * HOUR, until: now, staleAfterMs: HOUR, format: 'md' });
    const p = parseReviewFlags({ since: '2026-09-01', until: '2026-12-01T00:00Z', format: 'html', staleAfter: '30m' }, now);
    assert.deepEqual(p, { since: Date.parse('2026-09-01'), until: Date.parse('2026-12-01T00:00Z'), staleAfterMs: 30 * 60_000, format: 'html' });
  });
  test('refusals name the flag', () => {
    for (const [f, msg] of [
      [{ since: '9x' }, /^--since: "9x"/],
      [{ since: '1d', format: 'pdf' }, /^--format: "pdf"/],
      [{ since: '1d', until: '2d' }, /^--until: .* is not after --since/],
      [{ since: '1d', until: '1d' }, /^--until/],
      [{ since: 'yesterday' }, /^--since/],
      [{ since: '1d', staleAfter: '0s' }, /^--stale-after/],
    ] as const)
      assert.throws(
        () => parseReviewFlags(f, now),
        (e: unknown) => e instanceof ReviewFlagError && msg.test(e.message),
      );
  });
});
