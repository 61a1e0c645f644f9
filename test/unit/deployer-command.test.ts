import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure, type Logger, type LogLevel, type LogMetadata } from '@temporalio/common';
import { commandDeploy, commandRollback } from '../../activities/deployers/command';
import { deployRegion } from '../../activities/deployers';
import { runMigration } from '../../activities/migrations';
import type { DeployInput, RollbackInput } from '../../domain/activity-contract';
import type { DeployerConfig } from '../../activities/deployers/deployer';
import { ACTIVITY_FAILURE } from '../../domain/failures';

const node = process.execPath;

/** MockActivityEnvironment.run does not infer the result type; this keeps it. */
function runIn<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

interface Logged {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
}

/** Collects what the activity logs, so output streaming can be asserted. */
function captureLogger(): Logger & { entries: Logged[] } {
  const entries: Logged[] = [];
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    entries.push({ level, message, ...(meta ? { meta } : {}) });
  };
  return {
    entries,
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

function input(deploy: string[], extra: { passEnv?: string[]; timeoutMs?: number; rollback?: string[] } = {}): DeployInput<DeployerConfig<'command'>> {
  return {
    rolloutId: 'ro-42',
    service: 'api',
    region: 'eu-west-1',
    version: '1.4.2',
    deployer: {
      type: 'command',
      deploy,
      rollback: extra.rollback ?? deploy,
      passEnv: extra.passEnv ?? [],
      timeoutMs: extra.timeoutMs ?? 20_000,
    },
  };
}

function stdoutLines(logger: { entries: Logged[] }): string[] {
  return logger.entries.filter((e) => e.meta?.stream === 'stdout').map((e) => e.message);
}

/** A zombie waiting for a reaper (PID 1 here may not reap) is as dead as a process gets. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

function failureOf(err: unknown): ApplicationFailure {
  assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
  return err;
}

const leftovers: number[] = [];
afterEach(() => {
  // A failed assertion must not leave a sleeping process behind for the next test.
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

describe('command deployer', () => {
  test('passes the step facts and passEnv names, and nothing else from the worker env', async () => {
    process.env.MRCD_TEST_PASSED = 'visible';
    process.env.MRCD_TEST_NOT_PASSED = 'hidden';
    try {
      const logger = captureLogger();
      const env = new MockActivityEnvironment({}, { logger });
      const script = 'console.log(JSON.stringify(process.env))';
      const result = await runIn(env, commandDeploy, input([node, '-e', script], { passEnv: ['MRCD_TEST_PASSED'] }));
      assert.deepEqual(result, { region: 'eu-west-1', version: '1.4.2', idempotencyKey: 'ro-42:eu-west-1:1.4.2:deploy' });
      const childEnv = JSON.parse(stdoutLines(logger).join('')) as Record<string, string>;
      assert.equal(childEnv.SERVICE, 'api');
      assert.equal(childEnv.REGION, 'eu-west-1');
      assert.equal(childEnv.VERSION, '1.4.2');
      assert.equal(childEnv.ROLLOUT_ID, 'ro-42');
      assert.equal(childEnv.STEP, 'deploy');
      assert.equal(childEnv.IDEMPOTENCY_KEY, 'ro-42:eu-west-1:1.4.2:deploy');
      assert.equal(childEnv.MRCD_TEST_PASSED, 'visible');
      assert.equal(childEnv.PATH, process.env.PATH);
      assert.equal(childEnv.MRCD_TEST_NOT_PASSED, undefined);
      assert.equal(childEnv.PREVIOUS_VERSION, undefined);
    } finally {
      delete process.env.MRCD_TEST_PASSED;
      delete process.env.MRCD_TEST_NOT_PASSED;
    }
  });

  test('rollback gets STEP=rollback, PREVIOUS_VERSION and its own idempotency key', async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const script = 'console.log([process.env.STEP, process.env.PREVIOUS_VERSION, process.env.IDEMPOTENCY_KEY].join(" "))';
    const rb: RollbackInput<DeployerConfig<'command'>> = {
      ...input([node, '-e', 'process.exit(9)'], { rollback: [node, '-e', script] }),
      previousVersion: '1.4.1',
    };
    const result = await runIn(env, commandRollback, rb);
    assert.deepEqual(stdoutLines(logger), ['rollback 1.4.1 ro-42:eu-west-1:1.4.2:rollback']);
    assert.equal(result.previousVersion, '1.4.1');
    assert.equal(result.idempotencyKey, 'ro-42:eu-west-1:1.4.2:rollback');
  });

  test('argv reaches the program verbatim: no shell expansion, placeholders filled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrcd-cmd-'));
    try {
      const marker = join(dir, 'pwned');
      const logger = captureLogger();
      const env = new MockActivityEnvironment({}, { logger });
      const hostile = `$(touch ${marker}); touch ${marker} && echo $HOME | cat`;
      const script = 'console.log(JSON.stringify(process.argv.slice(1)))';
      await runIn(env, commandDeploy, input([node, '-e', script, hostile, '--to={{region}}', '{{service}}@{{version}}', '{{unknown}}']));
      assert.deepEqual(JSON.parse(stdoutLines(logger)[0]!), [hostile, '--to=eu-west-1', 'api@1.4.2', '{{unknown}}']);
      assert.equal(existsSync(marker), false, 'a shell ran the argument');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('streams stdout and stderr line by line to the activity logger', async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    // Partial writes must still come out as whole lines, and a last line without "\n" too.
    const script = 'process.stdout.write("one\\ntw"); setTimeout(() => { process.stdout.write("o\\nthree"); console.error("oops"); }, 50)';
    await runIn(env, commandDeploy, input([node, '-e', script]));
    assert.deepEqual(stdoutLines(logger), ['one', 'two', 'three']);
    const errLine = logger.entries.find((e) => e.meta?.stream === 'stderr');
    assert.equal(errLine?.message, 'oops');
    assert.equal(errLine?.level, 'WARN');
  });

  test('exit 75 is a retryable failure', async () => {
    const env = new MockActivityEnvironment({}, { logger: captureLogger() });
    const err = await runIn(env, commandDeploy, input([node, '-e', 'console.log("registry busy"); process.exit(75)'])).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => failureOf(e),
    );
    assert.equal(err.nonRetryable, false);
    assert.equal(err.type, 'DeployUnavailable');
    assert.match(err.message, /exit code 75/);
    assert.match(err.message, /registry busy/);
  });

  test('any other non-zero exit is non-retryable DeployFailed with the output tail', async () => {
    const env = new MockActivityEnvironment({}, { logger: captureLogger() });
    const script = 'for (let i = 1; i <= 30; i++) console.log("line " + i); console.error("fatal: image not found"); process.exit(3)';
    const err = await runIn(env, commandDeploy, input([node, '-e', script])).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => failureOf(e),
    );
    assert.equal(err.nonRetryable, true);
    assert.equal(err.type, ACTIVITY_FAILURE.deployFailed);
    assert.match(err.message, /exit code 3/);
    assert.match(err.message, /fatal: image not found/);
    assert.match(err.message, /line 30\n/);
    // Only the tail: the early lines are in the logs, not in the failure.
    assert.doesNotMatch(err.message, /line 5\n/);
  });

  test('a missing program is non-retryable and names argv[0]', async () => {
    const env = new MockActivityEnvironment({}, { logger: captureLogger() });
    const err = await runIn(env, commandDeploy, input(['/nonexistent/mrcd-deploy-tool', '--now'])).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => failureOf(e),
    );
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /\/nonexistent\/mrcd-deploy-tool/);
  });

  test('timeout: SIGTERM, then SIGKILL for a child that ignores it, descendants too; retryable DeployTimeout', async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const script = [
      'process.on("SIGTERM", () => console.log("ignoring TERM"));',
      'const c = require("child_process").spawn("sleep", ["30"], { stdio: "ignore" });',
      'console.log(process.pid + " " + c.pid);',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const started = Date.now();
    const err = await runIn(env, commandDeploy, input([node, '-e', script], { timeoutMs: 700 }), { killGraceMs: 300 }).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => failureOf(e),
    );
    const elapsed = Date.now() - started;
    assert.equal(err.type, 'DeployTimeout');
    assert.equal(err.nonRetryable, false);
    assert.ok(elapsed >= 700 && elapsed < 4_000, `took ${elapsed} ms`);
    const [pid, grandchild] = stdoutLines(logger)[0]!.split(' ').map(Number) as [number, number];
    leftovers.push(pid, grandchild);
    assert.ok(stdoutLines(logger).includes('ignoring TERM'), 'SIGTERM was not sent first');
    assert.equal(await eventually(() => !alive(pid)), true, 'child survived the timeout');
    assert.equal(await eventually(() => !alive(grandchild)), true, 'grandchild survived the timeout');
  });

  test('cancellation stops the process and rethrows the cancellation', async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const script = 'console.log(String(process.pid)); setInterval(() => {}, 1000)';
    const running = runIn(env, commandDeploy, input([node, '-e', script]), { killGraceMs: 300 });
    assert.equal(await eventually(() => stdoutLines(logger).length > 0, 5_000), true, 'command never started');
    const pid = Number(stdoutLines(logger)[0]);
    leftovers.push(pid);
    const cancelledAt = Date.now();
    env.cancel();
    await assert.rejects(running, (e: unknown) => e instanceof CancelledFailure);
    assert.ok(Date.now() - cancelledAt < 2_000, 'cancellation was not prompt');
    assert.equal(alive(pid), false, 'process still running after the activity gave up');
    assert.ok(
      heartbeats.some((h) => (h as { pid?: number }).pid === pid),
      'no heartbeat carried the process id',
    );
  });

  test('deployRegion dispatches command deployers', async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    await runIn(env, deployRegion, input([node, '-e', 'console.log("via " + process.env.STEP)']));
    assert.deepEqual(stdoutLines(logger), ['via deploy']);
  });
});

describe('command deployer: keys and confirmation', () => {
  test("IDEMPOTENCY_KEY is the workflow's per-attempt key when the input carries one", async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const result = await runIn(env, commandDeploy, {
      ...input([node, '-e', 'console.log(process.env.IDEMPOTENCY_KEY)']),
      idempotencyKey: 'rollout-api:run-1:eu-west-1:1.4.2:deploy:2',
    });
    assert.deepEqual(stdoutLines(logger), ['rollout-api:run-1:eu-west-1:1.4.2:deploy:2']);
    assert.equal(result.idempotencyKey, 'rollout-api:run-1:eu-west-1:1.4.2:deploy:2');
  });

  test('a status command confirms the deploy; a region left on another version fails it as DeployNotLanded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrcd-status-'));
    try {
      const file = join(dir, 'running');
      // deploy writes the version only when told to; status prints what the "region" runs as its last line, nothing for none.
      const deploy = [node, '-e', `if (process.argv[1] === 'land') require('fs').writeFileSync(${JSON.stringify(file)}, process.env.VERSION)`];
      const status = [
        node,
        '-e',
        `const fs = require('fs'); if (fs.existsSync(${JSON.stringify(file)})) console.log('checking\\n' + fs.readFileSync(${JSON.stringify(file)}, 'utf8'))`,
      ];
      const env = new MockActivityEnvironment({}, { logger: captureLogger() });
      const landing = input([...deploy, 'land']);
      await runIn(env, commandDeploy, { ...landing, deployer: { ...landing.deployer, status } as DeployerConfig<'command'> });
      assert.equal(readFileSync(file, 'utf8'), '1.4.2');
      rmSync(file);
      const ghost = input([...deploy, 'stay']);
      const err = await runIn(env, commandDeploy, { ...ghost, deployer: { ...ghost.deployer, status } as DeployerConfig<'command'> }).then(
        () => assert.fail('a deploy that did not land must fail'),
        (e: unknown) => failureOf(e),
      );
      assert.equal(err.type, ACTIVITY_FAILURE.deployNotLanded);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /deploy api 1\.4\.2 to eu-west-1: the deployer reported success, but the region runs nothing: the deploy did not land/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migrations', () => {
  test('runs the argv with migration env and the same exit classification', async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const script = 'console.log([process.env.SERVICE, process.env.VERSION, process.env.MIGRATION, process.env.PHASE, process.env.DIRECTION].join(" "))';
    const base = { rolloutId: 'ro-42', service: 'api', version: '1.4.2', name: 'add-col', phase: 'expand' as const, direction: 'apply' as const };
    await runIn(env, runMigration, { ...base, run: [node, '-e', script] });
    assert.deepEqual(stdoutLines(logger), ['api 1.4.2 add-col expand apply']);

    const failed = await runIn(env, runMigration, { ...base, direction: 'revert' as const, run: [node, '-e', 'process.exit(2)'] }).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => failureOf(e),
    );
    assert.equal(failed.nonRetryable, true);
    assert.equal(failed.type, 'MigrationFailed');
    const temp = await runIn(env, runMigration, { ...base, run: [node, '-e', 'process.exit(75)'] }).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => failureOf(e),
    );
    assert.equal(temp.nonRetryable, false);
  });

  test('passEnv: a listed worker variable reaches the step, an unlisted one does not', async () => {
    process.env.MRCD_TEST_DB_PASSWORD = 'listed-secret';
    process.env.MRCD_TEST_OTHER_SECRET = 'unlisted-secret';
    try {
      const logger = captureLogger();
      const env = new MockActivityEnvironment({}, { logger });
      const script = 'console.log(JSON.stringify({ listed: process.env.MRCD_TEST_DB_PASSWORD ?? null, unlisted: process.env.MRCD_TEST_OTHER_SECRET ?? null }))';
      const step = {
        rolloutId: 'ro-42',
        service: 'api',
        version: '1.4.2',
        name: 'add-col',
        phase: 'expand' as const,
        direction: 'apply' as const,
        run: [node, '-e', script],
      };
      await runIn(env, runMigration, { ...step, passEnv: ['MRCD_TEST_DB_PASSWORD'] });
      assert.deepEqual(
        stdoutLines(logger).map((l) => JSON.parse(l)),
        [{ listed: 'listed-secret', unlisted: null }],
      );
      // Histories recorded before passEnv existed: nothing beyond PATH and HOME.
      await runIn(env, runMigration, step);
      assert.deepEqual(JSON.parse(stdoutLines(logger)[1]!), { listed: null, unlisted: null });
    } finally {
      delete process.env.MRCD_TEST_DB_PASSWORD;
      delete process.env.MRCD_TEST_OTHER_SECRET;
    }
  });

  test("the step gets the workflow's per-attempt IDEMPOTENCY_KEY", async () => {
    const logger = captureLogger();
    const env = new MockActivityEnvironment({}, { logger });
    const step = {
      rolloutId: 'ro-42',
      service: 'api',
      version: '1.4.2',
      name: 'add-col',
      phase: 'expand' as const,
      direction: 'apply' as const,
      run: [node, '-e', 'console.log(process.env.IDEMPOTENCY_KEY ?? "none")'],
    };
    await runIn(env, runMigration, { ...step, idempotencyKey: 'rollout-api:run-1:add-col:expand:apply:1.4.2:migration:2' });
    await runIn(env, runMigration, step);
    assert.deepEqual(stdoutLines(logger), ['rollout-api:run-1:add-col:expand:apply:1.4.2:migration:2', 'none']);
  });

  test('timeoutMs from the input bounds the step: a retryable MigrationTimeout naming the limit', async () => {
    const env = new MockActivityEnvironment({}, { logger: captureLogger() });
    const script = 'console.log(process.pid); setTimeout(() => {}, 60_000)';
    const started = Date.now();
    const step = { rolloutId: 'ro-42', service: 'api', version: '1.4.2', name: 'backfill', phase: 'expand' as const, direction: 'apply' as const };
    const err = await runIn(env, runMigration, { ...step, run: [node, '-e', script], timeoutMs: 400 }, { killGraceMs: 200 }).then(
      () => assert.fail('expected a timeout'),
      (e: unknown) => failureOf(e),
    );
    assert.equal(err.type, 'MigrationTimeout');
    assert.equal(err.nonRetryable, false);
    assert.match(err.message, /migration backfill \(expand, apply\) for api 1\.4\.2: no exit within 400ms/);
    assert.ok(Date.now() - started < 10_000, 'stopped at the input timeout, not the 30m default');
  });
});
