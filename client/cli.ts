// mrcd — the operator and CI command line. Exit codes are part of the interface:
//   0 done / rollout succeeded   1 rollout ended without success (rolled back, aborted, failed)
//   2 invalid input (plan, flag, env)   3 refused (already running, illegal action, ended)
//   4 not found / Temporal unreachable   5 halted: waits for an operator (deploy --wait, watch)
//   6 --timeout ran out; the rollout goes on
import { Command, CommanderError, Option } from 'commander';
import Table from 'cli-table3';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { formatDuration, parseDuration } from '../domain/duration';
import type { PlanProblem } from '../plan/problem';
import { ConfigError, connectionConfigFromEnv, type ConnectionConfig } from '../common/connection';
import {
  act,
  ActionRejectedError,
  connectClient,
  followRollout,
  getStatus,
  InvalidActionError,
  RolloutAlreadyRunningError,
  RolloutNotFoundError,
  startRollout,
  VersionQuarantinedError,
  type FollowResult,
  type MrcdClient,
  type RolloutStatus,
} from './rollouts';
import { followMode, followOutput, type FollowOutput } from './follow-output';
import { rolloutWorkflowId } from '../domain/definitions';
import { OPERATOR_ACTIONS, payloadProblem, ROLLOUT_STATES, type OperatorActionName, type RolloutState } from '../domain/state';
import { failingChecks } from '../domain/gate-text';
import { runbookLink } from '../domain/runbook';
import { holdLine } from '../domain/summary';
import { listRollouts, rolloutQuery, type RolloutFilter, type RolloutRow } from './listing';
import { PayloadDecryptError } from '../common/payload-codec';

// Plan loading (YAML, the zod plan schema) is imported only by the commands that read a
// plan, so `mrcd status` and `mrcd pause` start without it (M7 in docs/benchmarks.md).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
const planModule = (): typeof import('../plan') => require('../plan') as typeof import('../plan');

export const EXIT = { ok: 0, notSucceeded: 1, invalid: 2, refused: 3, unreachable: 4, halted: 5, timedOut: 6 } as const;

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface GlobalOpts {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  profile?: string;
  configFile?: string;
  json?: boolean;
}

function connectionFrom(opts: GlobalOpts): ConnectionConfig {
  try {
    const env = { ...process.env };
    if (opts.address) env.TEMPORAL_ADDRESS = opts.address;
    if (opts.namespace) env.TEMPORAL_NAMESPACE = opts.namespace;
    if (opts.taskQueue) env.MRCD_TASK_QUEUE = opts.taskQueue;
    if (opts.profile) env.TEMPORAL_PROFILE = opts.profile;
    if (opts.configFile) env.TEMPORAL_CONFIG_FILE = opts.configFile;
    return connectionConfigFromEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new ExitError(EXIT.invalid, e.message);
    throw e;
  }
}

async function withClient<T>(opts: GlobalOpts, fn: (m: MrcdClient) => Promise<T>): Promise<T> {
  const c = connectionFrom(opts);
  let m: MrcdClient;
  try {
    m = await connectClient(c);
  } catch (e) {
    const from = c.profile ? `, profile ${c.profile.name} of ${c.profile.file}` : '';
    throw new ExitError(EXIT.unreachable, `cannot reach Temporal at ${c.address} (namespace ${c.namespace}${from}): ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    return await fn(m);
  } finally {
    await m.close();
  }
}

function whoAmI(): string {
  if (process.env.MRCD_USER) return process.env.MRCD_USER;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function loadDoc(file: string): Promise<unknown> {
  const { loadPlanDocument, PlanError } = planModule();
  try {
    return loadPlanDocument(file);
  } catch (e) {
    if (e instanceof PlanError) throw new ExitError(EXIT.invalid, e.message, { cause: e });
    throw new ExitError(EXIT.invalid, `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The problems of a plan loadDoc refused: the syntax problems it found, or the file it could not read. */
function unreadableProblems(file: string, e: ExitError): PlanProblem[] {
  const { PlanError } = planModule();
  if (e.cause instanceof PlanError) return e.cause.problems;
  return [{ id: 'file', severity: 'error', path: '(file)', message: e.message.replace(`${file}: `, '') }];
}

function out(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

interface WaitOpts {
  timeout?: string;
  throughHalts?: boolean;
}

function timeoutMs(o: WaitOpts): number | undefined {
  if (o.timeout === undefined) return undefined;
  const ms = parseDuration(o.timeout);
  if (ms === undefined || ms <= 0) throw new ExitError(EXIT.invalid, `--timeout: ${JSON.stringify(o.timeout)} must be a duration such as "90s", "30m" or "2h"`);
  return ms;
}

/** The exit code of where following stopped: 0 succeeded, 1 ended otherwise, 5 halted, 6 timed out. */
function followExitCode(r: FollowResult): number {
  if (r.outcome === 'ended') return r.succeeded ? EXIT.ok : EXIT.notSucceeded;
  return r.outcome === 'halted' ? EXIT.halted : EXIT.timedOut;
}

/**
 * Follows a rollout for CI and people: exit 0 only for success, 5 at a halt (unless
 * --through-halts), 6 when --timeout ran out. `shown` draws it (live view, lines or NDJSON).
 */
async function waitAndReport(m: MrcdClient, service: string, g: GlobalOpts, o: WaitOpts, shown: FollowOutput): Promise<void> {
  const limit = timeoutMs(o);
  const r: FollowResult = await followRollout(m, service, shown.update, {
    stopAtHalt: !o.throughHalts,
    ...(limit !== undefined ? { timeoutMs: limit } : {}),
  });
  const code = followExitCode(r);
  shown.end(r, code);
  const s = r.status;
  switch (r.outcome) {
    case 'ended':
      if (!g.json) process.stdout.write(`${s.summary}\n`);
      if (code !== EXIT.ok) throw new ExitError(code, '');
      return;
    case 'halted':
      throw new ExitError(
        code,
        g.json
          ? ''
          : `${service} is ${s.state}${s.halt ? `: ${s.halt.reason}` : ''}. It stays ${s.state} for an operator: mrcd retry ${service} --reason "..." or mrcd abort ${service} --reason "..." (legal now: ${s.legalActions.join(', ') || 'none'})`,
      );
    case 'timed-out':
      throw new ExitError(
        code,
        g.json ? '' : `${service} is still ${s.state} after --timeout ${o.timeout}; the rollout goes on (mrcd watch ${service} to follow it)`,
      );
  }
}

/**
 * How a followed rollout is shown on stdout: NDJSON with --json, a view redrawn in place on
 * a terminal, appended lines otherwise. With --json a failure after the rollout is known is
 * an `error` event too, so the last line always carries the exit code.
 */
async function following(g: GlobalOpts, rolloutId: string, started: boolean, body: (shown: FollowOutput) => Promise<void>): Promise<void> {
  const command = [
    'mrcd',
    ...(g.address ? [`--address ${g.address}`] : []),
    ...(g.namespace ? [`--namespace ${g.namespace}`] : []),
    ...(g.taskQueue ? [`--task-queue ${g.taskQueue}`] : []),
    ...(g.configFile ? [`--config-file ${g.configFile}`] : []),
    ...(g.profile ? [`--profile ${g.profile}`] : []),
  ].join(' ');
  const shown = followOutput(followMode(g.json, process.stdout), {
    started,
    view: { command, ...(process.env.MRCD_RUNBOOK_BASE ? { runbookBase: process.env.MRCD_RUNBOOK_BASE } : {}) },
  });
  try {
    await body(shown);
  } catch (e) {
    shown.fail(rolloutId, (e as Error).message, exitCodeOf(e));
    throw e;
  } finally {
    shown.stop();
  }
}

/** The library's refusals and absences, as exit codes: mapped once for every command. */
function exitCodeOf(e: unknown): number {
  if (e instanceof ExitError) return e.code;
  if (e instanceof RolloutAlreadyRunningError || e instanceof ActionRejectedError || e instanceof VersionQuarantinedError) return EXIT.refused;
  // A payload key missing from the environment (or a payload altered): fix the env, not the network.
  if (e instanceof PayloadDecryptError || e instanceof InvalidActionError) return EXIT.invalid;
  return EXIT.unreachable;
}

export function statusTable(s: RolloutStatus): string {
  const t = new Table({ head: ['region', 'size', 'status', 'attempts', 'gate', 'detail'], style: { head: [], border: [] } });
  for (const r of s.regions) {
    const gate = r.lastGate ? r.lastGate.verdict : '';
    const detail =
      r.waitingFor ??
      (r.lastGate && r.lastGate.verdict !== 'pass'
        ? failingChecks(r.lastGate)
            .map((c) => c.detail)
            .join('; ')
        : '');
    t.push([r.name, String(r.size), r.status, String(r.attempts), gate, detail.slice(0, 80)]);
  }
  const lines = [
    `${s.service} ${s.version} — ${s.state}${s.pausedBy ? ` (paused by ${s.pausedBy})` : ''}`,
    `owner: ${s.owner.team} (${s.owner.contact})${s.owner.runbook ? `  runbook: ${s.owner.runbook}` : ''}`,
    s.summary,
    t.toString(),
  ];
  if (s.halt) lines.push(`halt${s.halt.cause ? ` [${s.halt.cause.kind}]` : ''}: ${s.halt.reason}`);
  const hold = holdLine(s);
  if (hold) lines.push(hold);
  const runbook = runbookLink(s, process.env.MRCD_RUNBOOK_BASE);
  if (runbook) lines.push(`runbook: ${runbook}`);
  if (s.quarantine)
    lines.push(`quarantine: ${s.version} failed its gate in ${s.quarantine.region}; new rollouts of it are refused without --override-quarantine`);
  for (const o of s.overrides ?? []) lines.push(`override ${o.kind}${o.region ? ` (${o.region})` : ''} by ${o.by}: ${o.reason}`);
  lines.push(`legal actions now: ${s.legalActions.length ? s.legalActions.join(', ') : 'none (ended)'}`);
  const recent = s.actions.slice(-5);
  if (recent.length) {
    lines.push('recent operator actions:');
    for (const a of recent)
      lines.push(
        `  ${new Date(a.at).toISOString()} ${a.action} by ${a.by} via ${a.via}: ${a.accepted ? 'accepted' : 'rejected'}${a.note ? ` — ${a.note}` : ''} (reason: ${a.reason})`,
      );
  }
  return lines.join('\n');
}

/**
 * The service `mrcd watch` means: its argument names a service, or a rollout by its id
 * (`rollout-<service>`, as `status.rolloutId`, the Web UI and NDJSON events show it).
 */
async function watchedService(m: MrcdClient, rollout: string): Promise<string> {
  try {
    await getStatus(m, rollout);
    return rollout;
  } catch (e) {
    const service = rollout.replace(/^rollout-/, '');
    if (!(e instanceof RolloutNotFoundError) || service === rollout) throw e;
    await getStatus(m, service);
    return service;
  }
}

export function buildProgram(): Command {
  const program = new Command('mrcd')
    .description('multi-region-cd: staged multi-region rollouts on Temporal')
    .option('--address <host:port>', "Temporal frontend (default $TEMPORAL_ADDRESS, the profile's address or 127.0.0.1:7233)")
    .option('--namespace <ns>', "Temporal namespace (default $TEMPORAL_NAMESPACE, the profile's namespace or default)")
    .option('--task-queue <name>', 'task queue of the mrcd workers (default $MRCD_TASK_QUEUE or mrcd-rollouts)')
    .option('--profile <name>', "profile of Temporal's client config file, as the temporal CLI's (default $TEMPORAL_PROFILE or default)")
    .option('--config-file <path>', "Temporal's client config file (TOML; default $TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml)")
    .option('--json', 'machine-readable output')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('validate')
    .description('check a plan file: exit 2 and every problem when it has errors; warnings alone print and exit 0')
    .argument('<plan>', 'plan file (.yaml, .yml or .json)')
    .option('--strict', 'warnings are errors too (exit 2): for CI')
    .action(async (file: string, o: { strict?: boolean }) => {
      const g = program.opts<GlobalOpts>();
      const { PlanError, validatePlan, formatProblem } = planModule();
      // CI reads --json on stdout: a plan that cannot even be read answers there too.
      const doc = await loadDoc(file).catch((e: unknown) => {
        if (g.json && e instanceof ExitError) out(true, { valid: false, strict: Boolean(o.strict), problems: unreadableProblems(file, e) }, () => '');
        throw e;
      });
      const r = validatePlan(doc);
      const problems = r.ok ? r.warnings : r.problems;
      if (!r.ok || (o.strict && problems.length > 0)) {
        if (g.json) out(true, { valid: false, strict: Boolean(o.strict), problems }, () => '');
        throw new ExitError(EXIT.invalid, new PlanError(problems, file).message + (r.ok ? '\n(--strict: warnings are errors)' : ''));
      }
      out(g.json, { valid: true, plan: r.plan, problems }, () =>
        [
          `${file}: valid — ${r.plan.service} ${r.plan.version}, owner ${r.plan.owner.team}`,
          ...r.plan.regions.map(
            (x, i) =>
              `  ${i + 1}. ${x.name} (size ${x.size}) soak ${formatDuration(x.soakMs)}, checks every ${formatDuration(x.checkIntervalMs)}, ${x.gate.checks.length} check(s)${x.approval === 'required' ? ', approval required' : ''}${x.window ? `, window ${x.window.timezone}` : ''}`,
          ),
          `  on failure: ${r.plan.failurePolicy}`,
        ].join('\n'),
      );
      if (!g.json && problems.length)
        process.stderr.write(`${file}: ${problems.length} warning(s):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    });

  program
    .command('plan')
    .description('preview a rollout without starting it: region order, soaks, gates, approvals, windows, migrations, ETA, lints')
    .argument('<plan>', 'plan file (.yaml, .yml or .json)')
    .option('--start <time>', 'when the rollout would start (ISO 8601; default now)')
    .option('--deploy-time <duration>', 'how long one deploy is assumed to take', '5m')
    .action(async (file: string, o: { start?: string; deployTime: string }) => {
      const g = program.opts<GlobalOpts>();
      const deployMs = parseDuration(o.deployTime);
      if (deployMs === undefined)
        throw new ExitError(EXIT.invalid, `--deploy-time: ${JSON.stringify(o.deployTime)} must be a duration such as "90s", "5m" or "1h"`);
      const startAt = o.start === undefined ? Date.now() : Date.parse(o.start);
      if (!Number.isFinite(startAt))
        throw new ExitError(EXIT.invalid, `--start: ${JSON.stringify(o.start)} must be an ISO 8601 time such as 2026-12-07T09:00Z`);
      const { PlanError, validatePlan, formatProblem } = planModule();
      const r = validatePlan(await loadDoc(file));
      if (!r.ok) {
        if (g.json) out(true, { valid: false, problems: r.problems }, () => '');
        throw new ExitError(EXIT.invalid, new PlanError(r.problems, file).message);
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, like the plan module
      const { previewPlan, previewText } = require('./plan-preview') as typeof import('./plan-preview');
      const preview = previewPlan(r.plan, r.warnings, { startAt, deployMs });
      out(g.json, preview, () => previewText(preview, formatProblem));
    });

  program
    .command('deploy')
    .description('start a rollout of a plan; with --follow, follow it and exit 0 only if it succeeded')
    .argument('<plan>', 'plan file')
    .option(
      '--follow',
      'follow the rollout until it ends (exit 0 succeeded, 1 not, 5 halted): a live view on a terminal, lines in logs, NDJSON events with --json',
    )
    .option('--wait', 'the same as --follow')
    .option('--timeout <duration>', 'with --follow: stop following after this long (exit 6); the rollout goes on')
    .option('--through-halts', 'with --follow: keep following while the rollout is halted for an operator')
    .option('--by <who>', 'who starts it (default $MRCD_USER or your user name)')
    .option('--override-quarantine <reason>', 'start a version an earlier rollout quarantined for failing its gate (recorded)')
    .option('--version <version>', "ship this version instead of the plan file's (the file is not changed)")
    .action(async (file: string, o: WaitOpts & { follow?: boolean; wait?: boolean; by?: string; overrideQuarantine?: string; version?: string }) => {
      const g = program.opts<GlobalOpts>();
      const follow = Boolean(o.follow || o.wait);
      if ((o.timeout !== undefined || o.throughHalts) && !follow)
        throw new ExitError(EXIT.invalid, `${o.timeout !== undefined ? '--timeout' : '--through-halts'} needs --follow (or its alias --wait)`);
      timeoutMs(o);
      const { PlanError, validatePlan, formatProblem } = planModule();
      const loaded = await loadDoc(file);
      // --version is validated with the plan, as if the file said it.
      const doc = o.version !== undefined && typeof loaded === 'object' && loaded !== null ? { ...loaded, version: o.version } : loaded;
      const r = validatePlan(doc);
      if (!r.ok) throw new ExitError(EXIT.invalid, new PlanError(r.problems, o.version !== undefined ? `${file} with --version ${o.version}` : file).message);
      if (!g.json && r.warnings.length)
        process.stderr.write(`${file}: ${r.warnings.length} warning(s):\n${r.warnings.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
      if (o.overrideQuarantine !== undefined && !o.overrideQuarantine.trim()) throw new ExitError(EXIT.invalid, '--override-quarantine needs a reason');
      const by = o.by ?? whoAmI();
      const start = async (m: MrcdClient) => {
        const handle = await startRollout(m, doc, {
          startedBy: by,
          onWaiting: (note) => process.stderr.write(`${note}\n`),
          ...(o.overrideQuarantine ? { overrideQuarantine: { reason: o.overrideQuarantine, by } } : {}),
        });
        if (!g.json) process.stdout.write(`started ${handle.workflowId} (${r.plan.service} ${r.plan.version})\n`);
        return handle;
      };
      if (!follow)
        return withClient(g, async (m) => {
          const handle = await start(m);
          if (g.json) out(true, { workflowId: handle.workflowId, started: true }, () => '');
        });
      await following(g, rolloutWorkflowId(r.plan.service), true, (shown) =>
        withClient(g, async (m) => {
          await start(m);
          await waitAndReport(m, r.plan.service, g, o, shown);
        }),
      );
    });

  program
    .command('status')
    .description("show a service's latest rollout")
    .argument('<service>')
    .action(async (service: string) => {
      const g = program.opts<GlobalOpts>();
      await withClient(g, async (m) => {
        const s = await getStatus(m, service);
        out(g.json, s, () => statusTable(s));
      });
    });

  const rowsTable = (rows: RolloutRow[], withService: boolean) => {
    const t = new Table({
      head: [...(withService ? ['service'] : []), 'version', 'state', 'region', 'owner', 'started', 'ended', 'took'],
      style: { head: [], border: [] },
    });
    const at = (ms?: number) => (ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    for (const r of rows) {
      const region = r.quarantine ? `${r.region ?? ''} (quarantined in ${r.quarantine})`.trim() : (r.region ?? '');
      const took = r.endedAt !== undefined ? formatDuration(r.endedAt - r.startedAt) : '';
      t.push([...(withService ? [r.service] : []), r.version, r.state, region, r.owner, at(r.startedAt), at(r.endedAt), took]);
    }
    return rows.length ? t.toString() : '(none)';
  };
  const limitOf = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ExitError(EXIT.invalid, `--limit: ${JSON.stringify(v)} must be a whole number from 1 to 1000`);
    return n;
  };
  const listed = async (g: GlobalOpts, f: RolloutFilter) => {
    // A bad filter is refused before anything is sent (exit 2), naming the flag's value.
    try {
      rolloutQuery(f);
    } catch (e) {
      throw new ExitError(EXIT.invalid, (e as Error).message);
    }
    return withClient(g, (m) => listRollouts(m, f));
  };

  program
    .command('list')
    .description('rollouts through Temporal visibility, newest first: filter by state, owner, service')
    .option('--state <states>', `comma-separated, any of: ${ROLLOUT_STATES.join(', ')}`)
    .option('--owner <team>', "the plan's owner.team")
    .option('--service <name>', 'one service')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { state?: string; owner?: string; service?: string; limit: string }) => {
      const g = program.opts<GlobalOpts>();
      const states = o.state?.split(',').map((x) => x.trim()) as RolloutState[] | undefined;
      const rows = await listed(g, {
        ...(states ? { states } : {}),
        ...(o.owner ? { owner: o.owner } : {}),
        ...(o.service ? { service: o.service } : {}),
        limit: limitOf(o.limit),
      });
      out(g.json, rows, () => rowsTable(rows, true));
    });

  program
    .command('history')
    .description("a service's past rollouts with their verdicts, newest first")
    .argument('<service>')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (service: string, o: { limit: string }) => {
      const g = program.opts<GlobalOpts>();
      const rows = await listed(g, { service, ended: true, limit: limitOf(o.limit) });
      out(g.json, rows, () => `${service}: ${rows.length} ended rollout(s)\n${rowsTable(rows, false)}`);
    });

  program
    .command('review')
    .description('the rollout-quality review of finished rollouts: verdicts, where problems were caught, holds, stage times, overrides (docs/review.md)')
    .requiredOption('--since <when>', 'start of the window: a duration ago ("90d") or an ISO 8601 time')
    .option('--until <when>', 'end of the window: a duration ago or an ISO 8601 time (default now)')
    .option('--service <name>', 'one service')
    .option('--owner <team>', "one owner (the plan's owner.team)")
    .option('--format <format>', 'md, html (self-contained, with charts) or json', 'md')
    .option('--stale-after <duration>', 'a pause, halt or approval wait longer than this is a stale hold', '1h')
    .option('--out <file>', 'write the review to this file instead of stdout')
    .action(async (o: { since: string; until?: string; service?: string; owner?: string; format: string; staleAfter: string; out?: string }) => {
      const g = program.opts<GlobalOpts>();
      // Loaded on first use, like the plan module: other commands start without the review or vega.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
      const review = require('./review') as typeof import('./review');
      let flags;
      try {
        flags = review.parseReviewFlags(o, Date.now());
        review.reviewQuery({ ...flags, ...(o.service ? { service: o.service } : {}), ...(o.owner ? { owner: o.owner } : {}) });
      } catch (e) {
        if (e instanceof review.ReviewFlagError) throw new ExitError(EXIT.invalid, e.message);
        // A refused filter value names what it is ("service …", "owner …").
        throw new ExitError(EXIT.invalid, `--${(e as Error).message}`);
      }
      const scope = { since: flags.since, until: flags.until, ...(o.service ? { service: o.service } : {}), ...(o.owner ? { owner: o.owner } : {}) };
      const collected = await withClient(g, (m) => review.collectRollouts(m, scope));
      const report = review.aggregate(collected, { ...scope, staleAfterMs: flags.staleAfterMs });
      const text = await review.renderReview(report, g.json ? 'json' : flags.format);
      if (o.out === undefined) return void process.stdout.write(text);
      try {
        writeFileSync(o.out, text);
      } catch (e) {
        throw new ExitError(EXIT.invalid, `--out: cannot write ${o.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      process.stderr.write(`review of ${report.total.rollouts} rollout(s) written to ${o.out}\n`);
    });

  program
    .command('watch')
    .description('follow a rollout until it ends (a live view on a terminal, NDJSON events with --json); exit 0 succeeded, 1 not, 5 halted for an operator')
    .argument('<rollout>', 'the service, or its rollout id (rollout-<service>)')
    .option('--timeout <duration>', 'stop following after this long (exit 6); the rollout goes on')
    .option('--through-halts', 'keep following while the rollout is halted for an operator')
    .action(async (rollout: string, o: WaitOpts) => {
      const g = program.opts<GlobalOpts>();
      timeoutMs(o);
      const rolloutId = rollout.startsWith('rollout-') ? rollout : rolloutWorkflowId(rollout);
      await following(g, rolloutId, false, (shown) => withClient(g, async (m) => waitAndReport(m, await watchedService(m, rollout), g, o, shown)));
    });

  const describe: Record<OperatorActionName, string> = {
    pause: 'hold the next promotion (soaks and SLO watches go on)',
    resume: 'release a pause, or retry a halted rollout',
    abort: 'roll back every deployed region in reverse order and end the rollout',
    approve: 'approve a region that waits for approval',
    retry: 'retry the failed region (or failed rollback) of a halted rollout',
    'skip-soak': 'override: end the current soak now (the gate is still evaluated); needs a reason',
  };
  for (const action of OPERATOR_ACTIONS) {
    program
      .command(action)
      .description(describe[action])
      .argument('<service>')
      .requiredOption('--reason <text>', 'why (recorded in the rollout and the quarterly review)')
      .option('--by <who>', 'who acts (default $MRCD_USER or your user name)')
      .addOption(new Option('--region <name>', 'the region meant (approve, skip-soak)'))
      .action(async (service: string, o: { reason: string; by?: string; region?: string }) => {
        const g = program.opts<GlobalOpts>();
        if (!o.reason.trim()) throw new ExitError(EXIT.invalid, '--reason must not be empty');
        // Dropped, an empty region would act on whatever region is current.
        if (o.region !== undefined && !o.region.trim())
          throw new ExitError(EXIT.invalid, `${action}: --region: must name a region (leave it out for the current one)`);
        const payload = { reason: o.reason, by: o.by ?? whoAmI(), ...(o.region !== undefined ? { region: o.region } : {}) };
        // The rollout refuses these too; refusing here names the flag.
        const problem = payloadProblem(payload);
        if (problem) throw new ExitError(EXIT.invalid, `${action}: ${problem.replace(/^reason:/, '--reason:').replace(/^by:/, '--by:')}`);
        await withClient(g, async (m) => {
          const res = await act(m, service, action, payload);
          out(g.json, res, () => `${action} ${service}: ${res.note} (state now ${res.state})`);
        });
      });
  }
  program
    .command('codec-server')
    .description("serve the Temporal Web UI's and CLI's codec endpoint (POST /decode, /encode) with this environment's payload keys; runs until interrupted")
    .option('--port <n>', 'port to listen on (0: any free one)', '8081')
    .option('--host <address>', 'address to listen on; whoever reaches it can decrypt payloads', '127.0.0.1')
    .option('--allow-origin <urls...>', "browser origins allowed (the Web UI's, e.g. http://localhost:8233); default any http origin on loopback")
    .option('--only-namespace <names...>', 'refuse requests for other namespaces (X-Namespace)')
    .action(async (o: { port: string; host: string; allowOrigin?: string[]; onlyNamespace?: string[] }) => {
      const c = connectionFrom(program.opts<GlobalOpts>());
      if (!c.payloadKeys)
        throw new ExitError(
          EXIT.invalid,
          'MRCD_PAYLOAD_KEY_ID: not set, so there is nothing to decode with; set it and MRCD_PAYLOAD_KEY_<id> as the workers have them',
        );
      if (!/^\d{1,5}$/.test(o.port) || Number(o.port) > 65_535)
        throw new ExitError(EXIT.invalid, `--port: ${JSON.stringify(o.port)} must be a port, 0 to 65535`);
      // Loaded on first use, like the plan module.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
      const { startCodecServer } = require('./codec-server') as typeof import('./codec-server');
      const s = await startCodecServer({
        keys: c.payloadKeys,
        host: o.host,
        port: Number(o.port),
        ...(o.allowOrigin ? { allowOrigins: o.allowOrigin } : {}),
        ...(o.onlyNamespace ? { namespaces: o.onlyNamespace } : {}),
      }).catch((e: NodeJS.ErrnoException) => {
        throw new ExitError(EXIT.invalid, `--host/--port: cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})`);
      });
      process.stdout.write(
        `codec server at ${s.url} (key ${c.payloadKeys.currentKeyId}); point the Web UI at it: temporal server start-dev --ui-codec-endpoint ${s.url}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void s.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  return program;
}

/** Runs the CLI with argv; returns the exit code instead of exiting (for tests). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error is invalid input
      return e.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    if ((e as Error).message) process.stderr.write(`mrcd: ${(e as Error).message}\n`);
    return exitCodeOf(e);
  }
}

/**
 * Exits once everything written has reached stdout and stderr. process.exit() right after
 * a write to a pipe drops what the pipe has not taken yet (`mrcd --json status | jq` got
 * 64 KiB of a 1 MB status).
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then(exitWhenFlushed);
}
