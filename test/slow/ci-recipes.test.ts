// The CI recipes of docs/ci.md, run as written: every block marked `<!-- recipe: name -->`
// is copied out of the doc and run with bash against a real dev server and a worker with
// scripted activities, through the real `temporal` CLI, the real `tctl` 1.18 and `npx mrcd`.
// The claims docs/ci.md makes about the tools (exit codes, what tctl cannot do) are tried
// here too, and the GitHub Actions example is linted with actionlint and must run the
// recipes verbatim. tctl and actionlint come from scripts/install-tctl.js (Go module proxy,
// ~3 minutes once), run by the hooks below: without Go those tests fail saying so.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { MrcdClient } from '../../client/rollouts';
import type { RolloutStatus } from '../../domain/state';
import { planDoc, scriptedActivities, statusUntil, useTestServer, type Script } from '../support/rollout-harness';
import { requireCli, useTempDir } from '../support/temporal';

const ROOT = resolve(__dirname, '../..');
const DOC = join(ROOT, 'docs/ci.md');
const EXAMPLE = join(ROOT, 'docs/ci/github-actions.yml');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JS shared with the installer, as in dev/temporal-binaries.ts
const { GO_TOOLS } = require('../../scripts/install-tctl.js') as { GO_TOOLS: { key: string; out: string }[] };
const toolPath = (key: 'tctl' | 'actionlint') => GO_TOOLS.find((t) => t.key === key)!.out;
const TCTL = toolPath('tctl');
const ACTIONLINT = toolPath('actionlint');

/** Task queues served by scripted workers: rollouts that pass, and rollouts whose first region breaches at once. */
const QUEUES: Record<'ok' | 'breach', Script> = { ok: {}, breach: { breachAfterMs: { small: 300 } } };
const queue = (kind: keyof typeof QUEUES) => `ci-${kind}-${process.pid}`;

const server = useTestServer({}, async (s) => {
  for (const [kind, script] of Object.entries(QUEUES)) await s.serve(queue(kind as keyof typeof QUEUES), scriptedActivities(script, []));
});
const dir = useTempDir('mrcd-ci-');

/** The recipes of docs/ci.md by name. */
function recipes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of readFileSync(DOC, 'utf8').matchAll(/<!-- recipe: ([\w-]+) -->\n```bash\n([\s\S]*?)```/g)) found.set(m[1]!, m[2]!);
  return found;
}
const ran = new Set<string>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the run wrote to $GITHUB_OUTPUT. */
  outputs: Record<string, string>;
}

let seq = 0;

/**
 * The environment of a CI job: the binaries on PATH under the names the recipes use (links in
 * a bin directory of the test's own), a HOME of its own (tctl writes its config there), and no
 * Temporal or GitHub settings of the machine running the test.
 */
function jobEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const bin = join(dir.path, 'bin');
  const home = join(dir.path, 'home');
  mkdirSync(home, { recursive: true });
  mkdirSync(bin, { recursive: true });
  for (const [name, target] of [
    ['temporal', requireCli()],
    ['tctl', TCTL],
  ] as const) {
    try {
      symlinkSync(target, join(bin, name));
    } catch {
      // linked by an earlier run
    }
  }
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|MRCD_|GITHUB_|ROLLOUT_)/.test(k)));
  return {
    ...inherited,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: home,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    MRCD_TASK_QUEUE: queue('ok'),
    ROLLOUT_POLL: '0.3',
    ...extra,
  };
}

/** Runs a command as a child process (never synchronously: the worker shares this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, ms = 90_000): Promise<Omit<Run, 'outputs'>> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', (e) => {
      clearTimeout(timer);
      res({ code: -1, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** Runs recipes of docs/ci.md one after the other in one bash script, as a CI step would. */
async function recipe(names: string[], env: Record<string, string> = {}, ms?: number): Promise<Run> {
  const all = recipes();
  const script = names.map((n) => {
    const text = all.get(n);
    assert.ok(text !== undefined, `docs/ci.md has no recipe ${n}`);
    ran.add(n);
    return text;
  });
  const file = join(dir.path, `recipe-${++seq}.sh`);
  const outputs = join(dir.path, `github-output-${seq}`);
  writeFileSync(file, script.join(''));
  writeFileSync(outputs, '');
  const r = await run('bash', [file], jobEnv({ GITHUB_OUTPUT: outputs, ...env }), ms);
  const parsed = Object.fromEntries(
    readFileSync(outputs, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ...r, outputs: parsed };
}

const temporal = (args: string[]) => run(requireCli(), args, jobEnv({}));
const tctl = (args: string[]) => run(TCTL, args, jobEnv({ TEMPORAL_CLI_ADDRESS: server.address }));
const show = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

/** A plan file (JSON, or YAML when the name ends so) with 2-second soaks over two regions. */
const planArgs = (name: string, overrides: Record<string, unknown> = {}): Parameters<typeof planDoc> => [
  { service: name, defaults: { soak: '2s', checkInterval: '500ms', gate: (planDoc().defaults as { gate: unknown }).gate }, ...overrides },
  [
    { name: 'small', size: 1 },
    { name: 'medium', size: 10 },
  ],
];
function planFile(name: string, overrides: Record<string, unknown> = {}): string {
  const doc = planDoc(...planArgs(name, overrides));
  const yaml = name.endsWith('-yaml');
  const file = join(dir.path, `${name}.${yaml ? 'yaml' : 'json'}`);
  writeFileSync(file, yaml ? stringifyYaml(doc) : JSON.stringify(doc, null, 2));
  return file;
}
const longSoak = { defaults: { soak: '60s', checkInterval: '500ms', gate: (planDoc().defaults as { gate: unknown }).gate } };

const lib = (kind: keyof typeof QUEUES = 'ok'): MrcdClient => ({ client: server.client, taskQueue: queue(kind), close: async () => {} });
const until = (service: string, ok: (s: RolloutStatus) => boolean, what: string) => statusUntil(lib(), service, ok, what, 30_000);

/** Builds a tool with the project's own installer; fails (never skips) when it cannot. */
async function provision(tool: 'tctl' | 'actionlint'): Promise<void> {
  const r = await run(process.execPath, [join(ROOT, 'scripts/install-tctl.js'), tool], process.env, 600_000);
  assert.equal(r.code, 0, `${tool} is needed by these tests (docs/ci.md) and could not be provisioned by scripts/install-tctl.js:\n${show(r)}`);
}

before(async () => {
  const jq = await run('jq', ['--version'], process.env);
  assert.equal(jq.code, 0, 'the recipes of docs/ci.md need jq (Debian: apt-get install jq)');
});

describe('CI recipes with the temporal CLI', { timeout: 300_000 }, () => {
  test('a rollout that succeeds: temporal-start + temporal-wait exit 0 (YAML plan), and temporal workflow result exits 0', async () => {
    const r = await recipe(['temporal-start', 'temporal-wait'], { PLAN: planFile('ci-ok-yaml'), STARTED_BY: 'ci-bot' });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^started rollout-ci-ok-yaml$/m);
    assert.match(r.stdout, /ci-ok-yaml 2\.0\.0: succeeded \(2\/2 regions promoted\)/);
    assert.match(r.stdout, /verdict: succeeded\n$/);
    assert.deepEqual(r.outputs, { verdict: 'succeeded' });
    // The input is the plan as written (YAML read into JSON), and who started it.
    const history = await server.client.workflow.getHandle('rollout-ci-ok-yaml').fetchHistory();
    const input = JSON.parse(Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString());
    assert.deepEqual(input, { plan: planDoc(...planArgs('ci-ok-yaml')), startedBy: 'ci-bot' });
    const result = await temporal(['workflow', 'result', '--workflow-id', 'rollout-ci-ok-yaml']);
    assert.equal(result.code, 0, show(result));
  });

  test('a rollout rolled back (policy rollback-all) exits 1 with RolloutRolledBack; an invalid plan with InvalidPlan; temporal workflow result exits 1', async () => {
    const rb = await recipe(['temporal-start', 'temporal-wait'], {
      PLAN: planFile('ci-rb', { failurePolicy: 'rollback-all' }),
      MRCD_TASK_QUEUE: queue('breach'),
    });
    assert.equal(rb.code, 1, show(rb));
    assert.match(rb.stdout, /ci-rb 2\.0\.0: rolled-back \(0\/2 regions promoted\); SLO breach in small/);
    assert.match(rb.stdout, /verdict: RolloutRolledBack\n$/);
    assert.deepEqual(rb.outputs, { verdict: 'RolloutRolledBack' });
    // What docs/ci.md says of `temporal workflow result`: exit 1, the type in -o json.
    const result = await temporal(['workflow', 'result', '--workflow-id', 'rollout-ci-rb', '-o', 'json']);
    assert.equal(result.code, 1, show(result));
    assert.equal(JSON.parse(result.stdout).closeEvent.workflowExecutionFailedEventAttributes.failure.applicationFailureInfo.type, 'RolloutRolledBack');

    const invalid = await recipe(['temporal-start', 'temporal-wait'], { PLAN: planFile('ci-invalid', { regions: [] }) });
    assert.equal(invalid.code, 1, show(invalid));
    assert.match(invalid.stdout, /a plan needs at least one region/);
    assert.match(invalid.stdout, /verdict: InvalidPlan\n$/);

    const unreadable = await recipe(['temporal-start'], { PLAN: join(dir.path, 'missing.json') });
    assert.equal(unreadable.code, 2, show(unreadable));
  });

  test('a halt exits 5 and the rollout stays halted; a second start is refused (3); abort with temporal-act, then the wait says RolloutAborted', async () => {
    const plan = planFile('ci-halt');
    const env = { PLAN: plan, MRCD_TASK_QUEUE: queue('breach') };
    const halted = await recipe(['temporal-start', 'temporal-wait'], env);
    assert.equal(halted.code, 5, show(halted));
    assert.match(halted.stdout, /ci-halt 2\.0\.0: halted in small .*SLO breach in small/);
    assert.match(halted.stdout, /verdict: halted\n$/);
    assert.match(halted.stderr, /rollout-ci-halt waits for an operator/);
    assert.equal((await until('ci-halt', (s) => s.state === 'halted', 'halted')).state, 'halted');

    const again = await recipe(['temporal-start'], env);
    assert.equal(again.code, 3, show(again));
    assert.match(again.stderr, /already running/);
    assert.deepEqual(again.outputs, { verdict: 'refused' });
    // Why the recipe says --fail-existing: without it the CLI attaches to the running rollout.
    const before = await temporal(['workflow', 'describe', '--workflow-id', 'rollout-ci-halt', '-o', 'json']);
    const runId = JSON.parse(before.stdout).workflowExecutionInfo.execution.runId as string;
    const silent = await temporal([
      'workflow',
      'start',
      '--workflow-id',
      'rollout-ci-halt',
      '--type',
      'rolloutWorkflow',
      '--task-queue',
      queue('ok'),
      '--input',
      '{"plan":{}}',
    ]);
    assert.equal(silent.code, 0, show(silent));
    assert.match(silent.stdout, new RegExp(`RunId\\s+${runId}`), 'the CLI reports the running rollout as if it had started it');

    const abort = await recipe(['temporal-act'], { SERVICE: 'ci-halt', ACTION: 'abort', REASON: 'bad build', ACTOR: 'ci-bot' });
    assert.equal(abort.code, 0, show(abort));
    assert.match(abort.stdout, /^abort: .*\(state now rolling-back\)$/m);
    const aborted = await recipe(['temporal-wait'], { SERVICE: 'ci-halt' });
    assert.equal(aborted.code, 1, show(aborted));
    assert.match(aborted.stdout, /verdict: RolloutAborted\n$/);
  });

  test('pause by signal, status shows it, updates answer accepted or rejected, resume; the wait times out with 6 and the rollout goes on', async () => {
    const start = await recipe(['temporal-start'], { PLAN: planFile('ci-ops', longSoak) });
    assert.equal(start.code, 0, show(start));
    await until('ci-ops', (s) => s.regions[0]!.status === 'soaking', 'soaking');

    const waited = await recipe(['temporal-wait'], { SERVICE: 'ci-ops', ROLLOUT_TIMEOUT: '1' });
    assert.equal(waited.code, 6, show(waited));
    assert.match(waited.stderr, /rollout-ci-ops is still running: stopped waiting, the rollout goes on/);
    assert.deepEqual(waited.outputs, { verdict: 'timed-out' });

    const who = { SERVICE: 'ci-ops', REASON: 'look at the graphs', ACTOR: 'dana' };
    const pause = await recipe(['temporal-signal'], { ...who, ACTION: 'pause' });
    assert.equal(pause.code, 0, show(pause));
    const paused = await recipe(['temporal-status'], { SERVICE: 'ci-ops' });
    assert.equal(paused.code, 0, show(paused));
    assert.match(paused.stdout, /^state: paused\nci-ops 2\.0\.0: paused in small .*\nlegal now: resume, abort, skip-soak\n$/);

    const again = await recipe(['temporal-act'], { ...who, ACTION: 'pause' });
    assert.equal(again.code, 0, show(again));
    assert.equal(again.stdout, 'pause: already paused (state now paused)\n');
    const retry = await recipe(['temporal-act'], { ...who, ACTION: 'retry' });
    assert.equal(retry.code, 1, show(retry));
    assert.match(retry.stderr, /retry is not possible: only a halted rollout can retry; it is paused\. Legal now: resume, abort, skip-soak/);

    const resume = await recipe(['temporal-signal'], { ...who, ACTION: 'resume' });
    assert.equal(resume.code, 0, show(resume));
    const running = await recipe(['temporal-status'], { SERVICE: 'ci-ops' });
    assert.match(running.stdout, /^state: running\n/, show(running));
    const s = await until('ci-ops', (x) => x.state === 'running', 'running');
    assert.deepEqual(
      s.actions.map((a) => [a.action, a.via, a.by, a.accepted]),
      [
        ['pause', 'signal', 'dana', true],
        ['pause', 'update', 'dana', true],
        ['resume', 'signal', 'dana', true],
      ],
      'the rejected update leaves no trace in status, the others are recorded with who',
    );
    assert.equal((await recipe(['temporal-act'], { ...who, ACTION: 'abort' })).code, 0);
    await until('ci-ops', (x) => x.state === 'aborted', 'aborted');
  });

  test('mrcd: validate + deploy --wait exit 0 for a rollout that succeeds, 2 for an invalid plan', async () => {
    const ok = await recipe(['mrcd'], { PLAN: planFile('ci-mrcd-yaml'), MRCD_USER: 'ci-bot' }, 120_000);
    assert.equal(ok.code, 0, show(ok));
    assert.match(ok.stdout, /rollout ci-mrcd-yaml 2\.0\.0: succeeded/);
    const bad = await recipe(['mrcd'], { PLAN: planFile('ci-mrcd-bad', { regions: [] }) }, 120_000);
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /a plan needs at least one region/);
  });
});

describe('CI recipes with tctl 1.18 (legacy)', { timeout: 900_000 }, () => {
  before(() => provision('tctl'), { timeout: 600_000 });

  test('start, a refused second start, signal, status, list and describe; what tctl cannot do', async () => {
    const plan = planFile('ci-tctl', longSoak);
    const start = await recipe(['tctl-start'], { PLAN: plan });
    assert.equal(start.code, 0, show(start));
    assert.match(start.stdout, /Started Workflow Id: rollout-ci-tctl, run Id: (\S+)/);
    const runId = /run Id: (\S+)/.exec(start.stdout)![1]!;
    await until('ci-tctl', (s) => s.regions[0]!.status === 'soaking', 'soaking');

    const again = await recipe(['tctl-start'], { PLAN: plan });
    assert.equal(again.code, 3, show(again));
    assert.deepEqual(again.outputs, { verdict: 'refused' });
    // Why tctl-start asks first: tctl "starts" the running rollout again, exit 0.
    const silent = await tctl([
      'workflow',
      'start',
      '--workflow_id',
      'rollout-ci-tctl',
      '--workflow_type',
      'rolloutWorkflow',
      '--taskqueue',
      queue('ok'),
      '--input',
      '{"plan":{}}',
    ]);
    assert.equal(silent.code, 0, show(silent));
    assert.match(silent.stdout, new RegExp(`Started Workflow Id: rollout-ci-tctl, run Id: ${runId}`));

    const who = { SERVICE: 'ci-tctl', REASON: 'hold on', ACTOR: 'lee' };
    const pause = await recipe(['tctl-signal'], { ...who, ACTION: 'pause' });
    assert.equal(pause.code, 0, show(pause));
    assert.match(pause.stdout, /Signal workflow succeeded/);
    const status = await recipe(['tctl-status'], { SERVICE: 'ci-tctl' });
    assert.equal(status.code, 0, show(status));
    assert.match(status.stdout, /^state: paused\nci-tctl 2\.0\.0: paused in small .*\nlegal now: resume, abort, skip-soak\n$/);
    const list = await recipe(['tctl-list']);
    assert.equal(list.code, 0, show(list));
    assert.match(list.stdout, /^rollout-ci-tctl\tpaused$/m);
    const described = await tctl(['workflow', 'describe', '-w', 'rollout-ci-tctl']);
    assert.equal(described.code, 0, show(described));
    assert.equal(JSON.parse(described.stdout).workflowExecutionInfo.searchAttributes.indexedFields.MrcdState, 'paused');
    const listed = await tctl(['workflow', 'list', '--query', 'MrcdService = "ci-tctl" AND ExecutionStatus = "Running"', '--print_json']);
    assert.deepEqual(
      JSON.parse(listed.stdout).map((w: any) => w.execution.workflowId),
      ['rollout-ci-tctl'],
      show(listed),
    );

    // No updates in tctl 1.18.
    const update = await tctl(['workflow', 'update', '-w', 'rollout-ci-tctl', '--name', 'resume']);
    assert.notEqual(update.code, 0);
    assert.match(update.stdout + update.stderr, /No help topic for 'update'/);
    // A batch signal sends the input as a JSON string: the rollout rejects it as malformed.
    const batch = await tctl([
      'workflow',
      'signal',
      '--query',
      'MrcdService = "ci-tctl" AND ExecutionStatus = "Running"',
      '--name',
      'resume',
      '--input',
      '{"reason":"batch","by":"lee"}',
      '--reason',
      'batch',
      '--yes',
    ]);
    assert.equal(batch.code, 0, show(batch));
    const rejected = await until('ci-tctl', (s) => s.actions.some((a) => a.action === 'resume'), 'the batch signal recorded');
    const resume = rejected.actions.find((a) => a.action === 'resume')!;
    assert.equal(resume.accepted, false);
    assert.match(resume.note ?? '', /invalid payload: payload must be a JSON object/);
    assert.equal(rejected.state, 'paused');

    const abort = await recipe(['tctl-signal'], { ...who, ACTION: 'abort' });
    assert.equal(abort.code, 0, show(abort));
    const verdict = await recipe(['tctl-wait'], { SERVICE: 'ci-tctl' });
    assert.equal(verdict.code, 1, show(verdict));
    assert.match(verdict.stdout, /ci-tctl 2\.0\.0: aborted/);
    assert.match(verdict.stdout, /verdict: RolloutAborted\n$/);
    // observe and describe do not tell: exit 0 and "Failed" without a type.
    const observe = await tctl(['workflow', 'observe', '-w', 'rollout-ci-tctl']);
    assert.equal(observe.code, 0, show(observe));
    assert.match(observe.stdout, /Status: FAILED/);
    const query = await recipe(['tctl-status'], { SERVICE: 'ci-tctl' });
    assert.match(query.stdout, /^state: aborted\n/, 'a query answers on an ended rollout too');
  });

  test('tctl-start + tctl-wait: 0 when the rollout succeeds, 1 with RolloutRolledBack, 5 at a halt', async () => {
    const ok = await recipe(['tctl-start', 'tctl-wait'], { PLAN: planFile('ci-tctl-ok-yaml') });
    assert.equal(ok.code, 0, show(ok));
    assert.match(ok.stdout, /verdict: succeeded\n$/);
    assert.deepEqual(ok.outputs, { verdict: 'succeeded' });

    const rb = await recipe(['tctl-start', 'tctl-wait'], { PLAN: planFile('ci-tctl-rb', { failurePolicy: 'rollback-all' }), MRCD_TASK_QUEUE: queue('breach') });
    assert.equal(rb.code, 1, show(rb));
    assert.match(rb.stdout, /ci-tctl-rb 2\.0\.0: rolled-back/);
    assert.match(rb.stdout, /verdict: RolloutRolledBack\n$/);

    const halt = await recipe(['tctl-start', 'tctl-wait'], { PLAN: planFile('ci-tctl-halt'), MRCD_TASK_QUEUE: queue('breach') });
    assert.equal(halt.code, 5, show(halt));
    assert.match(halt.stdout, /ci-tctl-halt 2\.0\.0: halted in small/);
    assert.match(halt.stdout, /verdict: halted\n$/);
    assert.equal((await recipe(['tctl-signal'], { SERVICE: 'ci-tctl-halt', ACTION: 'abort', REASON: 'clean up' })).code, 0);
    await until('ci-tctl-halt', (s) => s.state === 'aborted', 'aborted');
  });
});

describe('the GitHub Actions example', { timeout: 900_000 }, () => {
  before(() => provision('actionlint'), { timeout: 600_000 });

  test('passes actionlint, and its run: scripts are recipes of docs/ci.md verbatim or commands the doc shows', async () => {
    const lint = await run(ACTIONLINT, ['-no-color', EXAMPLE], jobEnv({}));
    assert.equal(lint.code, 0, `actionlint ${EXAMPLE}:\n${show(lint)}`);

    const wf = parseYaml(readFileSync(EXAMPLE, 'utf8'));
    assert.deepEqual(Object.keys(wf.on).sort(), ['pull_request', 'push', 'workflow_dispatch']);
    assert.deepEqual(Object.keys(wf.jobs).sort(), ['operate', 'rollout', 'validate']);
    const doc = readFileSync(DOC, 'utf8');
    const all = recipes();
    const used = new Set<string>();
    for (const [name, job] of Object.entries<any>(wf.jobs)) {
      assert.equal(job['runs-on'], 'ubuntu-latest', name);
      assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${name} has steps`);
      for (const step of job.steps) {
        if (typeof step.run !== 'string') continue;
        const [first, ...rest] = (step.run as string).split('\n');
        const named = /^# recipes: ([\w\s-]+) \(docs\/ci\.md\)$/.exec(first!);
        if (named) {
          const names = named[1]!.trim().split(/\s+/);
          for (const n of names) used.add(n);
          assert.equal(
            rest.join('\n'),
            names.map((n) => all.get(n) ?? `(no recipe ${n})`).join(''),
            `${name} / ${step.name}: the recipes of docs/ci.md, verbatim`,
          );
        } else {
          // Other steps run commands docs/ci.md shows (npm ci, mrcd validate, the CLI on PATH).
          for (const command of ['npm ci', 'npx mrcd validate', '.tools/temporal-cli/bin'])
            if (step.run.includes(command)) assert.ok(doc.includes(command), command);
        }
      }
    }
    assert.deepEqual([...used].sort(), ['temporal-act', 'temporal-start', 'temporal-wait']);
    assert.equal(wf.jobs.rollout.steps.find((s: any) => s.id === 'rollout')?.env?.PLAN, 'deploy/checkout.yaml');
  });
});

test(
  'every recipe of docs/ci.md was run by a test above',
  { skip: process.argv.some((a) => a.startsWith('--test-name-pattern')) && 'only some tests were selected' },
  () => {
    assert.deepEqual(
      [...recipes().keys()].filter((n) => !ran.has(n)),
      [],
    );
  },
);
