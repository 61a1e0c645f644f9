// What the live view of `mrcd deploy --follow` / `mrcd watch` shows at a moment, and the
// NDJSON events CI gets: pure functions of a status and the clock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderLiveView, span } from '../../client/live-view';
import { progressEvents, progressLines, type FollowEvent } from '../../client/progress';
import { followMode, followOutput } from '../../client/follow-output';
import { summarize } from '../../domain/summary';
import type { GateResult } from '../../domain/activity-contract';
import type { RecordedAction, RolloutStatus } from '../../domain/state';

const T = Date.UTC(2026, 11, 2, 12, 0, 0);
const sec = 1000;

const gate = (verdict: 'pass' | 'fail', value: number, at: number): GateResult => ({
  verdict,
  at,
  checks: [
    { name: 'error-ratio', verdict, value, comparator: '<', threshold: 0.01, detail: `${verdict}: ${value} against < 0.01` },
    { name: 'p99-latency', verdict: 'pass', value: 180, comparator: '<=', threshold: 250, detail: 'ok' },
  ],
});

const action = (over: Partial<RecordedAction>): RecordedAction => ({ action: 'pause', by: 'dana', reason: 'r', at: T, via: 'update', accepted: true, ...over });

function status(over: Partial<RolloutStatus> = {}): RolloutStatus {
  const s: RolloutStatus = {
    rolloutId: 'rollout-checkout',
    service: 'checkout',
    version: '2.0.0',
    owner: { team: 'payments', contact: '#payments-oncall' },
    startedBy: 'ci-bot',
    state: 'running',
    currentRegion: 'medium',
    regions: [
      {
        name: 'small',
        size: 1,
        status: 'promoted',
        attempts: 1,
        deployedAt: T + 2 * sec,
        promotedAt: T + 65 * sec,
        lastGate: gate('pass', 0.001, T + 64 * sec),
      },
      { name: 'medium', size: 10, status: 'soaking', attempts: 1, deployedAt: T + 70 * sec, soakEndsAt: T + 370 * sec },
      { name: 'large', size: 100, status: 'pending', attempts: 0 },
    ],
    actions: [],
    legalActions: ['pause', 'abort', 'skip-soak'],
    startedAt: T,
    failurePolicy: 'halt',
    summary: '',
    ...over,
  };
  s.summary = summarize(s);
  return s;
}

const rowOf = (frame: string, region: string) => frame.split('\n').find((l) => l.startsWith(`${region} `)) ?? '';

describe('renderLiveView', () => {
  test('a soaking region counts down to its soak end second by second, without a new status', () => {
    const s = status();
    const at = (ms: number) => renderLiveView(s, T + ms);
    const a = at(100 * sec);
    const b = at(101 * sec);
    assert.match(rowOf(a, 'medium'), /^medium\s+10\s+soaking\s+1\s+12:01:10Z\s+soak ends in 4m 30s \(12:06:10Z\)$/);
    assert.match(rowOf(b, 'medium'), /soak ends in 4m 29s \(12:06:10Z\)/);
    assert.match(rowOf(at(369 * sec), 'medium'), /soak ends in 1s/);
    assert.match(rowOf(at(371 * sec), 'medium'), /soak over at 12:06:10Z, gate due/);
    // The header's elapsed time moves too; nothing else does.
    assert.match(a.split('\n')[0]!, /^checkout 2\.0\.0 — running {3}started by ci-bot at 12:00:00Z {3}elapsed 1m 40s$/);
    assert.match(b.split('\n')[0]!, /elapsed 1m 41s$/);
    assert.deepEqual(
      a.split('\n').filter((l, i) => l !== b.split('\n')[i]),
      [a.split('\n')[0], rowOf(a, 'medium')],
    );
    // The table: sizes, attempts, deployed and promoted times.
    assert.match(rowOf(a, 'small'), /^small\s+1\s+promoted\s+1\s+12:00:02Z\s+12:01:05Z$/);
    assert.match(rowOf(a, 'large'), /^large\s+100\s+pending\s+0$/);
    // The latest SLO readings, each check with value, comparator, threshold and verdict.
    assert.match(a, /SLO readings \(small, gate pass at 12:01:04Z\):\n {2}error-ratio\s+0\.001 < 0\.01\s+pass\n {2}p99-latency\s+180 <= 250\s+pass/);
    // What can be done, as commands to type: skip-soak names the soaking region.
    assert.match(
      a,
      /what you can do now:\n {2}mrcd pause checkout --reason "\.\.\."\n {2}mrcd abort checkout --reason "\.\.\."\n {2}mrcd skip-soak checkout --region medium --reason "\.\.\."/,
    );
    assert.doesNotMatch(a, /runbook:|paused by|halt/);
  });

  test('a paused rollout says who paused it and why (the pause that holds it, not a rejected or an older one)', () => {
    const s = status({
      state: 'paused',
      pausedBy: 'dana',
      hold: { kind: 'paused', region: 'medium', since: T + 90 * sec, reminders: 2, escalatedAt: T + 95 * sec },
      legalActions: ['resume', 'abort', 'skip-soak'],
      actions: [
        action({ by: 'erin', reason: 'old pause', at: T + 10 * sec }),
        action({ action: 'resume', by: 'erin', reason: 'fine', at: T + 20 * sec }),
        action({ by: 'dana', reason: 'graphs look odd in medium', at: T + 90 * sec }),
        action({ by: 'mallory', reason: 'me too', at: T + 95 * sec, accepted: false, note: 'refused' }),
      ],
    });
    const frame = renderLiveView(s, T + 100 * sec, { command: 'mrcd --address 10.0.0.1:7233' });
    assert.match(frame, /^checkout 2\.0\.0 — paused /);
    assert.match(frame, /\npaused by dana: graphs look odd in medium \(soaks and SLO watches go on; the next promotion waits\)\n/);
    assert.match(
      frame,
      /\nheld \(paused at medium\) for 10s since 12:01:30Z; owner reminded 2 times, escalated at 12:01:35Z\nrunbook: docs\/runbook\.md#paused\n/,
    );
    assert.match(renderLiveView(s, T + 190 * sec), /held \(paused at medium\) for 1m 40s since/, 'how long it is held ticks too');
    assert.match(frame, /\n {2}mrcd --address 10\.0\.0\.1:7233 resume checkout --reason "\.\.\."\n/, 'commands carry the connection flags given');
    assert.match(
      frame,
      /recent operator actions:\n.*resume by erin: accepted — fine\n.*pause by dana: accepted — graphs look odd in medium\n.*pause by mallory: REJECTED \(refused\) — me too$/,
    );
  });

  test('a halted rollout names the cause, links its runbook section and lists retry, resume and abort as commands', () => {
    const breach = gate('fail', 0.02384937238493724, T + 80 * sec);
    const s = status({
      state: 'halted',
      currentRegion: 'medium',
      legalActions: ['resume', 'abort', 'retry'],
      regions: [
        {
          name: 'small',
          size: 1,
          status: 'promoted',
          attempts: 1,
          deployedAt: T + 2 * sec,
          promotedAt: T + 65 * sec,
          lastGate: gate('pass', 0.001, T + 64 * sec),
        },
        { name: 'medium', size: 10, status: 'rolled-back', attempts: 1, deployedAt: T + 70 * sec, lastGate: breach },
        { name: 'large', size: 100, status: 'pending', attempts: 0 },
      ],
      halt: {
        region: 'medium',
        reason: 'SLO breach in medium: error-ratio fail: 0.2 against < 0.01',
        at: T + 81 * sec,
        cause: { kind: 'slo-breach', region: 'medium', check: 'error-ratio', verdict: 'fail', value: 0.2, comparator: '<', threshold: 0.01 },
      },
    });
    const frame = renderLiveView(s, T + 200 * sec, { runbookBase: 'https://git.example/mrcd/blob/main/' });
    assert.match(frame, /\nhalt \[slo-breach\] in medium: SLO breach in medium: error-ratio fail: 0\.2 against < 0\.01\n/);
    assert.match(frame, /\nrunbook: https:\/\/git\.example\/mrcd\/blob\/main\/docs\/runbook\.md#slo-breach\n/);
    assert.match(
      frame,
      /what you can do now:\n {2}mrcd resume checkout --reason "\.\.\."\n {2}mrcd abort checkout --reason "\.\.\."\n {2}mrcd retry checkout --reason "\.\.\."$/,
    );
    // The readings that decided: the breach is the newest gate.
    // The value to four significant digits, as the gate's detail words it.
    assert.match(frame, /SLO readings \(medium, gate fail at 12:01:20Z\):\n {2}error-ratio\s+0\.02385 < 0\.01\s+fail\s+fail: 0\.0238\d+ against < 0\.01\n/);
    assert.match(rowOf(frame, 'medium'), /rolled-back/);
    assert.doesNotMatch(frame, /soak ends in|paused by/);
  });

  test('a succeeded rollout shows how long it took, every region promoted, and nothing to do', () => {
    const promoted = (name: string, size: number, i: number) => ({
      name,
      size,
      status: 'promoted' as const,
      attempts: 1,
      deployedAt: T + i * 100 * sec,
      promotedAt: T + (i * 100 + 90) * sec,
      lastGate: gate('pass', 0.001 * (i + 1), T + (i * 100 + 89) * sec),
    });
    const s = status({
      state: 'succeeded',
      currentRegion: undefined,
      endedAt: T + 300 * sec,
      legalActions: [],
      regions: [promoted('small', 1, 0), promoted('medium', 10, 1), promoted('large', 100, 2)],
    });
    const early = renderLiveView(s, T + 400 * sec);
    assert.equal(early, renderLiveView(s, T + 4000 * sec), 'an ended rollout does not tick');
    assert.match(early.split('\n')[0]!, /^checkout 2\.0\.0 — succeeded {3}started by ci-bot at 12:00:00Z {3}took 5m 00s$/);
    assert.equal(early.split('\n').filter((l) => /^(small|medium|large)\s.*\spromoted\s/.test(l)).length, 3);
    assert.match(early, /SLO readings \(large, gate pass at 12:04:49Z\):\n {2}error-ratio\s+0\.003 < 0\.01\s+pass/);
    assert.match(early, /\nended: succeeded$/);
    assert.doesNotMatch(early, /what you can do now|runbook:|halt/);
  });

  test('spans read as a countdown reads', () => {
    assert.deepEqual([0, 999, 42_000, 125_000, 3_723_000, 90_061_000, -5].map(span), ['0s', '0s', '42s', '2m 05s', '1h 02m 03s', '1d 01h 01m', '0s']);
  });
});

describe('progressEvents (NDJSON for CI)', () => {
  const at = T + 100 * sec;
  const types = (es: FollowEvent[]) => es.map((e) => `${e.type}${'region' in e ? `:${e.region}` : ''}`);

  test('the first status is one rollout event (pending regions listed in it), then changes only', () => {
    const first = status();
    const events = progressEvents(first, undefined, at, { started: true });
    assert.deepEqual(types(events), ['rollout', 'region:small', 'region:medium']);
    for (const e of events) {
      assert.equal(e.rolloutId, 'rollout-checkout');
      assert.equal(e.at, '2026-12-02T12:01:40.000Z');
    }
    const r = events[0]!;
    assert.ok(r.type === 'rollout');
    assert.equal(r.started, true);
    assert.deepEqual(
      r.regions.map((x) => x.status),
      ['promoted', 'soaking', 'pending'],
    );
    assert.deepEqual(progressEvents(first, first, at), [], 'nothing changed, nothing said');
  });

  test('a region event carries its gate readings; a state event the halt; each new action once, also past the 100 kept', () => {
    const prev = status();
    const breach = gate('fail', 0.2, at);
    const next = status({
      state: 'halted',
      regions: [prev.regions[0]!, { ...prev.regions[1]!, status: 'rolled-back', lastGate: breach }, prev.regions[2]!],
      halt: { region: 'medium', reason: 'SLO breach in medium', at, cause: { kind: 'slo-breach', region: 'medium' } },
      hold: { kind: 'halted', region: 'medium', since: at, reminders: 0 },
      actions: [action({ by: 'dana', reason: 'look', at })],
      legalActions: ['resume', 'abort', 'retry'],
    });
    const events = progressEvents(next, prev, at);
    assert.deepEqual(types(events), ['state', 'region:medium', 'action']);
    const [state, region, act] = events;
    assert.ok(state?.type === 'state' && region?.type === 'region' && act?.type === 'action');
    assert.deepEqual([state.previous, state.state, state.halt?.cause?.kind, state.hold?.kind], ['running', 'halted', 'slo-breach', 'halted']);
    assert.deepEqual([region.previous, region.status], ['soaking', 'rolled-back']);
    assert.deepEqual(
      region.gate?.checks.map((c) => [c.name, c.value, c.comparator, c.threshold, c.verdict]),
      [
        ['error-ratio', 0.2, '<', 0.01, 'fail'],
        ['p99-latency', 180, '<=', 250, 'pass'],
      ],
    );
    assert.deepEqual([act.action, act.by, act.reason, act.accepted, act.actedAt], ['pause', 'dana', 'look', true, new Date(at).toISOString()]);

    // 100 actions kept: a new one folds the oldest away and the list keeps its length.
    const full = Array.from({ length: 100 }, (_, i) => action({ reason: `a${i}`, at: T + i }));
    const before = status({ actions: full });
    const after = status({
      actions: [...full.slice(1), action({ reason: 'newest', at: T + 500 })],
      earlierActions: { count: 1, accepted: 1, rejected: 0, byAction: { pause: 1 }, from: T, until: T },
    });
    assert.deepEqual(
      progressEvents(after, before, at).map((e) => (e.type === 'action' ? e.reason : e.type)),
      ['newest'],
    );
  });
});

describe('progressLines (logs and pipes)', () => {
  test('a state change and a region change are one line each; a new action shows once the 100 kept are full', () => {
    const prev = status();
    const next = status({ state: 'paused', pausedBy: 'dana', actions: [action({ reason: 'look' })] });
    assert.deepEqual(progressLines(next, prev), ['rollout checkout 2.0.0: paused', '  operator pause by dana (update): accepted']);
    const full = Array.from({ length: 100 }, (_, i) => action({ reason: `a${i}`, at: T + i }));
    const folded = { count: 1, accepted: 1, rejected: 0, byAction: { pause: 1 }, from: T, until: T };
    const later = status({
      actions: [...full.slice(1), action({ action: 'skip-soak', by: 'ic', note: 'soak of medium cut short', at: T + 500 })],
      earlierActions: folded,
    });
    assert.deepEqual(progressLines(later, status({ actions: full })), ['  operator skip-soak by ic (update): soak of medium cut short']);
  });
});

describe('followOutput', () => {
  test('a live view only on a terminal with a size; --json wins; a dumb terminal or a pipe gets lines', () => {
    const tty = { isTTY: true, columns: 120, rows: 40 };
    assert.equal(followMode(false, tty, { TERM: 'xterm' }), 'live');
    assert.equal(followMode(true, tty, { TERM: 'xterm' }), 'json');
    assert.equal(followMode(false, { isTTY: true, columns: 0, rows: 0 }, { TERM: 'xterm' }), 'lines', 'a pty nobody sized');
    assert.equal(followMode(false, tty, { TERM: 'dumb' }), 'lines');
    assert.equal(followMode(false, {}, {}), 'lines');
  });

  test('--json: one event per line, the verdict last with the exit code, and no error event after it', () => {
    let written = '';
    const stream = { write: (x: string) => ((written += x), true) } as unknown as NodeJS.WritableStream;
    const out = followOutput('json', { stream, now: () => T + 5 * sec, started: false });
    const s = status();
    out.update(s);
    const halted = status({ state: 'halted', legalActions: ['resume', 'abort', 'retry'] });
    out.update(halted, s);
    out.end({ outcome: 'halted', succeeded: false, status: halted }, 5);
    out.fail('rollout-checkout', 'ignored', 5);
    const lines = written.trimEnd().split('\n');
    const es = lines.map((l) => JSON.parse(l) as FollowEvent);
    assert.deepEqual(
      es.map((e) => e.type),
      ['rollout', 'region', 'region', 'state', 'verdict'],
    );
    const v = es.at(-1)!;
    assert.ok(v.type === 'verdict');
    assert.deepEqual([v.at, v.outcome, v.state, v.exitCode, v.succeeded, v.status.state], ['2026-12-02T12:00:05.000Z', 'halted', 'halted', 5, false, 'halted']);

    written = '';
    const failing = followOutput('json', { stream, now: () => T });
    failing.fail('rollout-checkout', 'no rollout of checkout found', 4);
    assert.deepEqual(JSON.parse(written), {
      type: 'error',
      at: '2026-12-02T12:00:00.000Z',
      rolloutId: 'rollout-checkout',
      exitCode: 4,
      message: 'no rollout of checkout found',
    });
  });
});
