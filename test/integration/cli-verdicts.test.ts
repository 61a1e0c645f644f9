// mrcd as CI and on-call engineers run it: the real bin/mrcd.js in its own process against
// a real dev server, a worker with scripted activities. Halts, timeouts, ended rollouts,
// over-long input, output through a slow pipe, an unknown signal from the temporal CLI.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { act, getStatus, startRollout, type MrcdClient } from '../../client/rollouts';
import type { RolloutStatus } from '../../domain/state';
import { planDoc, statusUntil, TEST_GATE, useTestServer, withScriptedWorker, type Script } from '../support/rollout-harness';
import { requireCli, useTempDir } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const env = useTestServer();
const dir = useTempDir('mrcd-cli-');

let seq = 0;
const withWorker = <T>(script: Script, body: (m: MrcdClient, taskQueue: string) => Promise<T>) => withScriptedWorker(env, script, (m) => body(m, m.taskQueue));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** bin/mrcd.js in a child process; killed (code null) if it outlives `ms`. */
function mrcd(taskQueue: string, args: string[], ms = 60_000): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--address', env.address, '--task-queue', taskQueue, ...args], {
      cwd: ROOT,
      env: { ...process.env, MRCD_USER: 'ci-bot' },
    });
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

function planFile(name: string, doc: unknown): string {
  const file = join(dir.path, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const waitFor = (m: MrcdClient, service: string, ok: (s: RolloutStatus) => boolean) => statusUntil(m, service, ok);

const who = { reason: 'test', by: 'tester' };

describe('mrcd verdicts for CI', { timeout: 300_000 }, () => {
  test('deploy --wait and watch exit 5 at a halt and leave it halted; --through-halts waits for the operator', async () => {
    await withWorker({ breachAfterMs: { small: 300 } }, async (m, q) => {
      const file = planFile('halt', planDoc({ service: 'cli-halt' }));
      const deploy = await mrcd(q, ['deploy', file, '--wait']);
      assert.equal(deploy.code, 5, `deploy --wait must return at a halt: ${deploy.stdout}${deploy.stderr}`);
      assert.match(deploy.stdout, /rollout cli-halt 2\.0\.0: halted/);
      assert.match(
        deploy.stderr,
        /cli-halt is halted: SLO breach in small.*It stays halted for an operator: mrcd retry cli-halt --reason "\.\.\." or mrcd abort cli-halt/s,
      );
      assert.equal((await getStatus(m, 'cli-halt')).state, 'halted', 'the rollout itself stays halted');

      const watch = await mrcd(q, ['watch', 'cli-halt']);
      assert.equal(watch.code, 5);
      const json = await mrcd(q, ['--json', 'watch', 'cli-halt']);
      assert.equal(json.code, 5);
      // NDJSON: the last event is the verdict, with the exit code.
      const verdict = JSON.parse(json.stdout.trimEnd().split('\n').at(-1)!);
      assert.deepEqual([verdict.type, verdict.outcome, verdict.succeeded, verdict.exitCode, verdict.status.state], ['verdict', 'halted', false, 5, 'halted']);

      const patient = await mrcd(q, ['watch', 'cli-halt', '--through-halts', '--timeout', '2s']);
      assert.equal(patient.code, 6, `${patient.stdout}${patient.stderr}`);
      assert.match(patient.stderr, /cli-halt is still halted after --timeout 2s; the rollout goes on/);

      const waiting = mrcd(q, ['watch', 'cli-halt', '--through-halts']);
      await new Promise((r) => setTimeout(r, 2500));
      await act(m, 'cli-halt', 'abort', who);
      const ended = await waiting;
      assert.equal(ended.code, 1, `${ended.stdout}${ended.stderr}`);
      assert.match(ended.stdout, /aborted/);
    });
  });

  test('deploy --wait --timeout exits 6 while the rollout goes on; bad --timeout values exit 2', async () => {
    await withWorker({}, async (m, q) => {
      const file = planFile('long', planDoc({ service: 'cli-long', defaults: { ...(planDoc().defaults as object), soak: '60s' } }));
      assert.equal((await mrcd(q, ['deploy', file, '--timeout', '1m'])).code, 2, '--timeout needs --wait');
      const bad = await mrcd(q, ['deploy', file, '--wait', '--timeout', 'soon']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--timeout: "soon" must be a duration/);
      const started = Date.now();
      const r = await mrcd(q, ['deploy', file, '--wait', '--timeout', '2s']);
      assert.equal(r.code, 6, `${r.stdout}${r.stderr}`);
      assert.ok(Date.now() - started < 20_000);
      assert.equal((await getStatus(m, 'cli-long')).state, 'running', 'a timeout stops waiting, not the rollout');

      // The acknowledgement names the state after the action.
      await mrcd(q, ['pause', 'cli-long', '--reason', 'look']);
      const abort = await mrcd(q, ['abort', 'cli-long', '--reason', 'enough']);
      assert.equal(abort.code, 0, abort.stderr);
      assert.match(abort.stdout, /abort cli-long: aborting: every deployed region will be rolled back in reverse order \(state now rolling-back\)/);
      await waitFor(m, 'cli-long', (s) => s.state === 'aborted');

      // Acting on an ended rollout is refused with its verdict (exit 3), not "not found" (exit 4).
      const late = await mrcd(q, ['pause', 'cli-long', '--reason', 'too late']);
      assert.equal(late.code, 3, late.stderr);
      assert.match(late.stderr, /the rollout of cli-long has ended \(aborted\)/);
      assert.equal((await mrcd(q, ['pause', 'never-started', '--reason', 'x'])).code, 4);
    });
  });

  test('over-long operator input exits 2 before anything is sent', async () => {
    const r = await mrcd('unused', ['pause', 'anything', '--reason', 'r'.repeat(1025)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--reason: at most 1024 characters \(got 1025\)/);
  });

  test('--json output is complete through a slow pipe', async () => {
    // Past a pipe's 64 KiB: 50 regions (the plan's bound), each with a gate query of 1.8 KB
    // for validate; for status, a hundred operator actions with reasons near their 1 KiB bound.
    const bulkyGate = (i: number) => ({
      checks: [
        { ...TEST_GATE.checks[0]!, source: { ...TEST_GATE.checks[0]!.source, query: `ratio{region="{{region}}",pad="${String(i)}${'x'.repeat(1800)}"}` } },
      ],
    });
    const regions = Array.from({ length: 50 }, (_, i) => ({ name: `region-${String(i).padStart(2, '0')}`, size: i + 1, gate: bulkyGate(i) }));
    const doc = planDoc({ service: 'cli-big', defaults: { ...(planDoc().defaults as object), soak: '60s' } }, regions);
    const file = planFile('big', doc);
    // Asynchronous: the worker answering the status query runs in this process.
    const viaPipe = async (q: string, args: string[]) => {
      const out = join(dir.path, `out-${++seq}.json`);
      const cmd = `"${process.execPath}" bin/mrcd.js --address ${env.address} --task-queue ${q} ${args.join(' ')} | (sleep 1; cat) > "${out}"; exit \${PIPESTATUS[0]}`;
      const code = await new Promise<number | null>((res) => spawn('bash', ['-c', cmd], { cwd: ROOT, stdio: 'inherit' }).on('close', res));
      assert.equal(code, 0);
      return readFileSync(out, 'utf8');
    };
    const validated = await viaPipe('unused', ['--json', 'validate', file]);
    assert.ok(validated.length > 100_000, `validate printed ${validated.length} bytes`);
    assert.equal(JSON.parse(validated).plan.regions.length, 50);
    await withWorker({}, async (m, q) => {
      await startRollout(m, doc, { startedBy: 'test' });
      await waitFor(m, 'cli-big', (s) => s.regions[0]!.status === 'soaking');
      const handle = m.client.workflow.getHandle('rollout-cli-big');
      for (let i = 0; i < 100; i++) await handle.signal(i % 2 === 0 ? 'pause' : 'resume', { reason: `${String(i)} ${'r'.repeat(1000)}`, by: 'tester' });
      await waitFor(m, 'cli-big', (s) => s.actions.length === 100);
      const status = await viaPipe(q, ['--json', 'status', 'cli-big']);
      assert.ok(status.length > 90_000, `status printed ${status.length} bytes`);
      assert.equal(JSON.parse(status).regions.length, 50);
      await act(m, 'cli-big', 'abort', who);
    });
  });

  test('an unknown signal sent with the temporal CLI shows in mrcd status as rejected, with the names that work', async () => {
    await withWorker({}, async (m, q) => {
      await startRollout(m, planDoc({ service: 'cli-typo', defaults: { ...(planDoc().defaults as object), soak: '60s' } }), { startedBy: 'test' });
      await waitFor(m, 'cli-typo', (s) => s.regions[0]!.status === 'soaking');
      const sent = spawnSync(
        requireCli(),
        [
          'workflow',
          'signal',
          '--address',
          env.address,
          '--workflow-id',
          'rollout-cli-typo',
          '--name',
          'Pause',
          '--input',
          '{"reason":"graphs look odd","by":"dana"}',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(sent.status, 0, sent.stderr);
      await waitFor(m, 'cli-typo', (s) => s.actions.length === 1);
      const r = await mrcd(q, ['status', 'cli-typo']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Pause by dana via signal: rejected — unknown signal "Pause": the rollout takes pause, resume, abort, approve, retry, skip-soak/);
      assert.match(r.stdout, /cli-typo 2\.0\.0 — running/, 'nothing was paused');
      await act(m, 'cli-typo', 'abort', who);
    });
  });

  test('deploy --version ships another version than the file; list and history find rollouts by state, owner and service', async () => {
    const file = planFile('listing', planDoc({ service: 'cli-list', version: '1.0.0' }));
    const bad = await mrcd('unused', ['deploy', file, '--version', 'not a version!']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.ok(bad.stderr.includes('with --version not a version!') && bad.stderr.includes('version:'), bad.stderr);
    await withWorker({}, async (m, q) => {
      const ok = await mrcd(q, ['deploy', file, '--version', '2.0.1', '--wait']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await getStatus(m, 'cli-list')).version, '2.0.1');
    });
    await withWorker({ breachAfterMs: { small: 300 } }, async (m, q) => {
      await startRollout(m, planDoc({ service: 'cli-list-halt' }));
      await waitFor(m, 'cli-list-halt', (s) => s.state === 'halted');
      // Visibility follows the workflow's search attributes a moment later.
      const until = async (args: string[], ok: (rows: Record<string, string>[]) => boolean) => {
        for (let i = 0; ; i++) {
          const r = await mrcd(q, ['--json', ...args]);
          assert.equal(r.code, 0, r.stderr);
          const rows = JSON.parse(r.stdout) as Record<string, string>[];
          if (ok(rows) || i === 40) return rows;
          await new Promise((res) => setTimeout(res, 250));
        }
      };
      const halted = await until(['list', '--state', 'halted,rollback-failed'], (rows) => rows.some((x) => x.service === 'cli-list-halt'));
      assert.deepEqual(
        halted.filter((x) => x.service.startsWith('cli-list')).map((x) => [x.service, x.version, x.state, x.execution]),
        [['cli-list-halt', '2.0.0', 'halted', 'RUNNING']],
      );
      const mine = await until(['list', '--owner', 'payments', '--service', 'cli-list'], (rows) => rows.length > 0);
      assert.deepEqual(
        mine.map((x) => [x.service, x.version, x.state, x.owner]),
        [['cli-list', '2.0.1', 'succeeded', 'payments']],
      );
      const past = await until(['history', 'cli-list'], (rows) => rows.length > 0);
      assert.deepEqual(
        past.map((x) => [x.version, x.state, x.execution]),
        [['2.0.1', 'succeeded', 'COMPLETED']],
      );
      const text = await mrcd(q, ['history', 'cli-list']);
      assert.ok(text.stdout.startsWith('cli-list: 1 ended rollout(s)') && text.stdout.includes('succeeded'), text.stdout);
      assert.equal((await mrcd(q, ['history', 'cli-list-halt'])).stdout.split('\n')[0], 'cli-list-halt: 0 ended rollout(s)');
      for (const args of [
        ['list', '--state', 'bogus'],
        ['list', '--owner', 'a" OR "1"="1'],
        ['list', '--limit', '0'],
      ]) {
        const r = await mrcd(q, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      }
      await act(m, 'cli-list-halt', 'abort', who);
    });
  });
});
