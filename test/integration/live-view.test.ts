// `mrcd deploy --follow` and `mrcd watch` as people and CI run them: the real bin/mrcd.js in
// its own process against a real dev server and a worker with scripted activities. On a
// pseudo-terminal (util-linux `script`) the view is redrawn in place; with --json stdout is
// NDJSON whose last event carries the verdict and the exit code.
/* eslint-disable no-control-regex -- the test reads a terminal's escape sequences */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { act, connectClient, followRollout, getStatus, rolloutHandle, startRollout, waitForVerdict, type MrcdClient } from '../../client/rollouts';
import type { FollowEvent } from '../../client/progress';
import { planDoc, useTestServer, withScriptedWorker, type Script } from '../support/rollout-harness';
import { useTempDir } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const env = useTestServer();
const dir = useTempDir('mrcd-live-');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv in its own process group, killed whole (code null) if it outlives `ms`. */
function run(argv: string[], ms = 90_000, onStdout?: (all: string) => void): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, detached: true, env: { ...process.env, MRCD_USER: 'ci-bot', TERM: 'xterm' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

const mrcdArgs = (taskQueue: string, args: string[]) => [join(ROOT, 'bin/mrcd.js'), '--address', env.address, '--task-queue', taskQueue, ...args];
const mrcd = (taskQueue: string, args: string[], onStdout?: (all: string) => void) => run([process.execPath, ...mrcdArgs(taskQueue, args)], 90_000, onStdout);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** mrcd on a pseudo-terminal of 120×60 (a terminal someone sized), through util-linux `script`; -e returns mrcd's exit code. */
const mrcdOnTerminal = (taskQueue: string, args: string[]) =>
  run(['script', '-qefc', `stty cols 120 rows 60; exec ${[process.execPath, ...mrcdArgs(taskQueue, args)].map(quote).join(' ')}`, '/dev/null']);

function planFile(name: string, doc: unknown): string {
  const file = join(dir.path, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const twoRegions = (service: string) =>
  planDoc({ service }, [
    { name: 'small', size: 1 },
    { name: 'large', size: 10 },
  ]);

const withWorker = <T>(script: Script, body: (m: MrcdClient, taskQueue: string) => Promise<T>) => withScriptedWorker(env, script, (m) => body(m, m.taskQueue));

/** Every stdout line is one JSON event with a type, an ISO time and the rollout's id. */
function events(r: Run, rolloutId: string): FollowEvent[] {
  assert.ok(r.stdout.endsWith('\n'), `stdout ends with a whole line: ${r.stdout.slice(-200)}`);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const e = JSON.parse(line) as FollowEvent;
      assert.equal(typeof e.type, 'string', line);
      assert.equal(new Date(e.at).toISOString(), e.at, `at is ISO 8601: ${line}`);
      assert.equal(e.rolloutId, rolloutId, line);
      return e;
    });
}

/**
 * What a terminal shows after `out`: the text with the cursor moves and erasures log-update
 * uses applied (CSI A B G K 2K; other CSI sequences change nothing on screen).
 */
function screen(out: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = () => (lines[row] ??= []);
  for (let i = 0; i < out.length; i++) {
    const ch = out[i]!;
    if (ch === '\x1b') {
      const m = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(out.slice(i, i + 16));
      assert.ok(m, `an escape sequence this test knows: ${JSON.stringify(out.slice(i, i + 16))}`);
      i += m[0].length - 1;
      const n = Number(m[1] || 1);
      if (m[1]!.startsWith('?')) continue;
      if (m[2] === 'A') row = Math.max(0, row - n);
      else if (m[2] === 'B') row += n;
      else if (m[2] === 'G') col = n - 1;
      else if (m[2] === 'K') lines[row] = m[1] === '2' ? [] : line().slice(0, col);
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') row++;
    else line()[col++] = ch;
  }
  return lines.map((l) =>
    Array.from(l, (c) => c ?? ' ')
      .join('')
      .trimEnd(),
  );
}

const last = (es: FollowEvent[]) => es[es.length - 1]!;
const regionSteps = (es: FollowEvent[], region: string) => es.flatMap((e) => (e.type === 'region' && e.region === region ? [e.status] : []));

describe('mrcd deploy --follow and watch: live view and NDJSON', { timeout: 300_000 }, () => {
  test('deploy --follow --json prints NDJSON only, its last event the verdict with the exit code mrcd exits with', async () => {
    await withWorker({}, async (m, q) => {
      const r = await mrcd(q, ['--json', 'deploy', planFile('ok', twoRegions('live-ok')), '--follow']);
      assert.equal(r.code, 0, r.stderr);
      const es = events(r, 'rollout-live-ok');
      const first = es[0]!;
      assert.ok(first.type === 'rollout', JSON.stringify(first));
      assert.deepEqual([first.service, first.version, first.started, first.startedBy], ['live-ok', '2.0.0', true, 'ci-bot']);
      for (const region of ['small', 'large']) assert.deepEqual(regionSteps(es, region).slice(-2), ['soaking', 'promoted'], region);
      const promoted = es.find((e) => e.type === 'region' && e.region === 'small' && e.status === 'promoted');
      assert.ok(promoted?.type === 'region');
      assert.deepEqual(
        promoted.gate?.checks.map((c) => [c.name, c.value, c.comparator, c.threshold, c.verdict]),
        [['error-ratio', 0.001, '<', 0.01, 'pass']],
      );
      const v = last(es);
      assert.ok(v.type === 'verdict', JSON.stringify(v));
      assert.deepEqual([v.outcome, v.state, v.succeeded, v.exitCode], ['ended', 'succeeded', true, r.code]);
      assert.equal(v.status.state, 'succeeded');
      assert.equal(es.filter((e) => e.type === 'verdict').length, 1);
    });
  });

  test('at a halt the verdict event says 5; watch by rollout id sees the operator abort and ends with 1; unknown rollouts end in an error event', async () => {
    await withWorker({ breachAfterMs: { small: 300 } }, async (m, q) => {
      const file = planFile('halt', twoRegions('live-halt'));
      const r = await mrcd(q, ['--json', 'deploy', file, '--wait']);
      assert.equal(r.code, 5, r.stderr);
      const es = events(r, 'rollout-live-halt');
      const halted = es.find((e) => e.type === 'state' && e.state === 'halted');
      assert.ok(halted?.type === 'state', r.stdout);
      assert.equal(halted.halt?.cause?.kind, 'slo-breach');
      const failed = es.find((e) => e.type === 'region' && e.region === 'small' && e.gate?.verdict === 'fail');
      assert.ok(failed?.type === 'region', r.stdout);
      assert.deepEqual(
        failed.gate?.checks.map((c) => [c.name, c.value, c.verdict]),
        [['error-ratio', 0.2, 'fail']],
      );
      const v = last(es);
      assert.ok(v.type === 'verdict');
      assert.deepEqual([v.outcome, v.state, v.succeeded, v.exitCode], ['halted', 'halted', false, 5]);
      assert.equal(r.stderr, '', '--json: the halt is in the events, not in words');

      // Starting the version again is refused (3, it is quarantined): the error event is the last line, with that code.
      const again = await mrcd(q, ['--json', 'deploy', file, '--follow']);
      assert.equal(again.code, 3, again.stderr);
      const refused = events(again, 'rollout-live-halt');
      assert.ok(refused.length === 1 && refused[0]!.type === 'error' && refused[0]!.exitCode === 3, again.stdout);
      assert.match(refused[0]!.message, /live-halt 2\.0\.0 is quarantined/);

      // Followed by its rollout id through the halt; the operator's abort shows as an action.
      let seen!: () => void;
      const firstEvent = new Promise<void>((res) => (seen = res));
      const watching = mrcd(q, ['--json', 'watch', 'rollout-live-halt', '--through-halts'], (out) => out.includes('\n') && seen());
      await Promise.race([firstEvent, watching]);
      await act(m, 'live-halt', 'abort', { reason: 'bad build', by: 'tester' });
      const w = await watching;
      assert.equal(w.code, 1, w.stderr);
      const ws = events(w, 'rollout-live-halt');
      assert.ok(ws[0]!.type === 'rollout' && ws[0]!.started === false && ws[0]!.state === 'halted');
      const abort = ws.find((e) => e.type === 'action');
      assert.ok(abort?.type === 'action', w.stdout);
      assert.deepEqual([abort.action, abort.by, abort.reason, abort.accepted], ['abort', 'tester', 'bad build', true]);
      assert.ok(ws.some((e) => e.type === 'state' && e.state === 'aborted'));
      const wv = last(ws);
      assert.ok(wv.type === 'verdict');
      assert.deepEqual([wv.outcome, wv.state, wv.succeeded, wv.exitCode], ['ended', 'aborted', false, 1]);
      assert.equal((await getStatus(m, 'live-halt')).state, 'aborted');

      const none = await mrcd(q, ['--json', 'watch', 'never-started']);
      assert.equal(none.code, 4);
      const [err, ...rest] = events(none, 'rollout-never-started');
      assert.deepEqual(rest, []);
      assert.ok(err?.type === 'error');
      assert.equal(err.exitCode, 4);
      assert.match(err.message, /no rollout of never-started found/);

      // Flags that only mean something while following are refused by name.
      const bad = await mrcd(q, ['deploy', file, '--through-halts']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--through-halts needs --follow/);
    });
  });

  test('on a terminal the view is redrawn in place: the soak countdown ticks between statuses, and the last frame shows the end', async () => {
    await withWorker({}, async (m, q) => {
      const r = await mrcdOnTerminal(q, ['deploy', planFile('tty', twoRegions('live-tty')), '--follow']);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      const out = r.stdout;
      // Redrawn: lines erased and the cursor moved up over the previous frame.
      assert.match(out, /\x1b\[2K/, 'erases lines');
      assert.match(out, /\x1b\[\d*A/, 'moves the cursor up');
      // Not the appended lines of a log.
      assert.doesNotMatch(out, /rollout live-tty 2\.0\.0: running/);
      // The 3-second soak counts down second by second (statuses change only at its ends).
      // Per region: frames drawn only on a new status would show each region's countdown once.
      for (const region of ['small', 'large']) {
        const row = new RegExp(`${region}\\s+\\d+\\s+soaking[^\\n]*soak ends in (\\d)s`, 'g');
        const countdown = new Set([...out.matchAll(row)].map((x) => x[1]));
        assert.ok(countdown.size >= 2, `${region}'s countdown seen: ${[...countdown].join(', ')}`);
      }
      // What the terminal shows at the end: the last frame in place of the earlier ones
      // (no countdown left on screen), then the summary.
      const shown = screen(out).join('\n');
      assert.match(
        shown,
        /(^|\n)started rollout-live-tty \(live-tty 2\.0\.0\)\nlive-tty 2\.0\.0 — succeeded {3}started by ci-bot at \d\d:\d\d:\d\dZ {3}took \d+s\n/,
      );
      assert.match(shown, /\nsmall\s+1\s+promoted\s+1\s+\d\d:\d\d:\d\dZ\s+\d\d:\d\d:\d\dZ\nlarge\s+10\s+promoted\s/);
      assert.match(shown, /\nended: succeeded\nlive-tty 2\.0\.0: succeeded/);
      assert.doesNotMatch(shown, /soak ends in|soaking|running/, `earlier frames are overwritten:\n${shown}`);
      assert.match(out, /\x1b\[\?25h/, 'the cursor is shown again');
      assert.equal((await getStatus(m, 'live-tty')).state, 'succeeded');
    });
  });
  test('following stops on its abort signal with nothing in flight: the connection then closes without an uncaught error (Ctrl-C of npm start)', async () => {
    await withWorker({}, async (shared, q) => {
      await startRollout(shared, twoRegions('live-unfollow'), { startedBy: 'test' });
      const own = await connectClient({ address: env.address, namespace: 'default', taskQueue: q });
      const uncaught: unknown[] = [];
      const onUncaught = (e: unknown) => uncaught.push(e);
      process.on('uncaughtException', onUncaught);
      try {
        const stop = new AbortController();
        const seen: string[] = [];
        const follow = followRollout(
          own,
          'live-unfollow',
          (s) => {
            seen.push(s.state);
            stop.abort(new Error('operator pressed Ctrl-C'));
          },
          { intervalMs: 100, signal: stop.signal },
        );
        await assert.rejects(follow, /operator pressed Ctrl-C/);
        assert.equal((await getStatus(shared, 'live-unfollow')).state, 'running', 'stopped at the signal, not at the verdict');
        assert.deepEqual(seen, ['running']);
        await own.close();
        // The client library's retries of a call left in flight would throw here.
        await new Promise((r) => setTimeout(r, 1_500));
        assert.deepEqual(uncaught, []);
        // The rollout went on without its follower.
        assert.equal((await waitForVerdict(rolloutHandle(shared, 'live-unfollow'))).status.state, 'succeeded');
      } finally {
        process.off('uncaughtException', onUncaught);
      }
    });
  });
});
