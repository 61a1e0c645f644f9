// The chaos run: real rollouts on the Temporal dev server (SQLite file), worker processes
// killed with SIGKILL at the schedule's moments and replaced, the server itself killed and
// restarted on the same ports and file, endpoint faults injected into the region simulator,
// and an operator (this process) pausing, resuming, approving, skipping soaks, retrying and
// aborting through the client library and bin/mrcd.js. Then the ledger, the final statuses,
// the migration logs and every history are judged by invariants.ts. The simulator and the
// operator live here, in the process that is never killed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startDevServer, type TemporalServer } from '../../dev/temporal-server';
import { startSimulator, type Simulator } from '../../dev/simulator';
import {
  act,
  ActionRejectedError,
  connectClient,
  getStatus,
  rolloutHandle,
  RolloutAlreadyRunningError,
  RolloutEndedError,
  startRollout,
  type MrcdClient,
} from '../../client/rollouts';
import type { OperatorActionName, RolloutStatus } from '../../domain/state';
import { kill9, orphans, startProcess, stopAll, tail, type Proc } from '../cluster/processes';
import { ALL_REGIONS, NEW_VERSION, OLD_VERSION, type FaultEvent, type RolloutSpec, type Schedule } from './schedule';
import { checkInvariants, checkPolicy, countByRule, type MigrationRun, type RolloutOutcome, type Violation, type Rule } from './invariants';
import { applyPolicy, showPolicy, type PolicyState } from '../../client/policy';

const ROOT = resolve(__dirname, '../..');
const TOKEN_ENV = 'MRCD_CHAOS_DEPLOY_TOKEN';
/** The shortest time a worker polls before it may be killed. */
const MIN_LIFE_MS = 1_500;
const TERMINAL = new Set(['succeeded', 'aborted', 'rolled-back', 'failed']);
const { EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;

export type Phase = 'deploy' | 'soak' | 'gate' | 'rollback' | 'migration' | 'hold' | 'idle';
export const PHASES: Phase[] = ['deploy', 'soak', 'gate', 'rollback', 'migration', 'hold', 'idle'];

export interface ChaosFigures {
  seed: number;
  config: Schedule['config'];
  rollouts: { total: number; good: number; bad: number; abortedByOperator: number; withMigrations: number; withApproval: number; ended: number };
  verdicts: { correct: number; wrong: number; byFinalState: Record<string, number> };
  operator: Record<string, number>;
  /** Halts the operator retried that were not the version's fault (a fault kept a gate inconclusive, a deploy or migration failed). */
  faultHaltsRetried: number;
  workerKills: {
    total: number;
    byPhase: Record<Phase, number>;
    replacements: number;
    replacementStartMs: { mean: number; max: number };
    /** Of the total: replacements killed on their first tasks after a failover. */
    afterFailover: number;
  };
  serverRestarts: { total: number; downMs: number[] };
  /** The fleet policy through the run: slots granted in the limited region, the most held at once, and whether it was readable at the end. */
  policy?: { region: string; limit: number; freezeMs: number; grants: number; maxHolders: number; readAtEnd: boolean };
  faultsInjected: Record<string, number>;
  /** Issue 20's edges: workflow cancels, regions whose rollbacks toggle (`rollout undo`), changes by hand. */
  edges: {
    /** Workflow cancels sent, by the phase they were meant for. */
    cancels: Record<string, number>;
    /** How the rollouts recorded them (an 'abort' by 'temporal'): accepted, accepted as a no-op, refused. */
    cancelAnswers: { accepted: number; noop: number; refused: number };
    undoRollbackRegions: string[];
    /** Regions set back to the old version by hand during a soak or an approval hold. */
    drifts: number;
    /** not-running-version halts seen, and how the operator answered those of a drift. */
    driftHalts: number;
    driftAnswers: { retry: number; abort: number };
  };
  ledger: { deploys: number; rollbacks: number; manual: number };
  migrations: { runsByStep: Record<string, number>; reRuns: number };
  duplicateDeploys: number;
  lostRollbacks: number;
  workflowTaskFailures: number;
  workflowTaskTimeouts: number;
  /**
   * The highest attempt of a workflow task that completed: Temporal lengthens the timeout of a
   * task retried more than a few times (up to 10 min), so a task repeatedly lost to kills stalls its rollout.
   */
  maxWorkflowTaskAttempt: number;
  /** WorkflowTaskFailed with cause UnhandledCommand: a completion raced a new event and was redone; not a failure of workflow code. */
  unhandledCommandRetries: number;
  /** Start call to verdict, per rollout. */
  rolloutMs: { mean: number; max: number };
  violations: Record<Rule, number>;
  violationList: Violation[];
  orphans: number;
  wallMs: number;
}

export interface ChaosOptions {
  /** Gives up on rollouts still running this long after the window's end. */
  tailMs: number;
  say?: (line: string) => void;
  /** Keep the temp dir (logs, SQLite file) for a look after a failure. */
  keepDir?: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Client calls given up on by within() go on retrying inside the client library; a retry
// that fires after the connection is closed throws "Channel has been shut down" from a
// timer, an uncaught error that fails the test file after every invariant held. So each is
// remembered, and the connection closes only once they have all settled.
const inFlight = new Set<Promise<unknown>>();

async function settleInFlight(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  inFlight.add(p);
  void p.then(
    () => inFlight.delete(p),
    () => inFlight.delete(p),
  );
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`no answer in ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export function plan(spec: RolloutSpec, simUrl: string, migrationLog: string) {
  // The contract migration takes 2 s after it logs its start, so the operator sees the
  // rollout in it (past the point of no return) and can send a workflow cancel there.
  const append = (phase: string, direction: string) => [
    process.execPath,
    '-e',
    "require('fs').appendFileSync(process.argv[1], JSON.stringify({at: Date.now(), name: process.env.MIGRATION, phase: process.env.PHASE, direction: process.env.DIRECTION}) + '\\n'); setTimeout(() => {}, process.argv[2] === 'contract' ? 2000 : 0)",
    migrationLog,
    phase,
    direction,
  ];
  return {
    apiVersion: 'mrcd/v1',
    service: spec.service,
    version: NEW_VERSION,
    owner: { team: 'chaos', contact: '#chaos', runbook: 'https://runbooks.example.com/chaos' },
    deployer: { type: 'http', baseUrl: simUrl, pollInterval: '250ms', timeout: '1m', tokenEnv: TOKEN_ENV },
    growthReason: 'the chaos run exercises 3-4 regions',
    defaults: {
      soak: `${spec.soakMs}ms`,
      soakReason: 'the chaos run soaks for seconds',
      checkInterval: `${spec.checkIntervalMs}ms`,
      gate: {
        maxInconclusive: 30,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${simUrl}/health/{{region}}?service={{service}}`, path: 'errorRatio', tokenEnv: TOKEN_ENV },
            comparator: '<',
            // The health window is a minute of traffic, most of it the old version's: a bad
            // version's first errors must already count.
            threshold: 0.001,
          },
        ],
      },
    },
    notifications: [{ type: 'webhook', url: `${simUrl}/_sim/notifications` }],
    // Faults may keep evidence inconclusive for a few seconds: room to extend a soak past them.
    regions: spec.regions.map((name, i) => ({ name, size: (i + 1) * 10, maxSoak: '60s', ...(spec.approvalRegion === i ? { approval: 'required' } : {}) })),
    ...(spec.migrations
      ? {
          migrations: [
            { name: 'add-column', phase: 'expand', apply: { run: append('expand', 'apply') }, revert: { run: append('expand', 'revert') }, timeout: '1m' },
            {
              name: 'drop-column',
              phase: 'contract',
              apply: { run: append('contract', 'apply') },
              irreversible: { reason: 'chaos: a dropped column' },
              timeout: '1m',
            },
          ],
        }
      : {}),
  };
}

/** The phase a rollout is in, from its status: where a kill landed. */
export function phaseOf(st: RolloutStatus): Phase | undefined {
  if (TERMINAL.has(st.state)) return undefined;
  if (/migration/.test(st.summary)) return 'migration';
  const rs = st.regions.map((r) => r.status);
  if (st.state === 'rolling-back' || rs.includes('rolling-back')) return 'rollback';
  if (rs.includes('deploying')) return 'deploy';
  if (rs.includes('gating')) return 'gate';
  if (rs.includes('soaking')) return 'soak';
  return 'hold';
}

export async function runChaos(schedule: Schedule, opts: ChaosOptions): Promise<ChaosFigures> {
  const say = opts.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  const startedAt = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-chaos-'));
  const dbFile = join(dir, 'temporal.db');
  const token = `chaos-${process.pid}-${schedule.seed}`;
  const taskQueue = `chaos-${process.pid}`;
  let server: TemporalServer | undefined;
  let sim: Simulator | undefined;
  let m: MrcdClient | undefined;
  const slots: (Proc | undefined)[] = [];
  let stopping = false;

  const opCounts: Record<string, number> = {};
  const faultsInjected: Record<string, number> = { '5xx': 0, latency: 0, hang: 0, drop: 0 };
  const killPhases = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let kills = 0;
  /** Kills of a replacement on its first tasks after a failover. */
  let followUpKills = 0;
  let replacements = 0;
  const replacementMs: number[] = [];
  const serverDownMs: number[] = [];
  let faultHaltsRetried = 0;
  const latest = new Map<string, RolloutStatus>();
  /** From the start call to the end seen by the operator, per rollout that ended. */
  const durations: number[] = [];
  let maxTaskAttempt = 0;
  const cancels: Record<string, number> = {};
  const cancelAnswers = { accepted: 0, noop: 0, refused: 0 };
  let drifts = 0;
  let driftHalts = 0;
  const driftAnswers = { retry: 0, abort: 0 };

  try {
    const bundle = join(dir, 'workflow-bundle.js');
    const b = await new Promise<number | null>((res) =>
      spawn(process.execPath, [join(ROOT, 'scripts/bundle-workflows.js'), bundle], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).on('close', res),
    );
    if (b !== 0 || !existsSync(bundle)) throw new Error('scripts/bundle-workflows.js failed');

    server = await startDevServer({ dbFile, uiPort: false });
    const port = Number(server.address.split(':').pop());
    sim = await startSimulator({
      regions: [...ALL_REGIONS],
      initialVersions: Object.fromEntries(schedule.rollouts.map((r) => [r.service, OLD_VERSION])),
      deployDelayMs: 300,
      badErrorRatio: 0.5,
      requireToken: token,
    });
    for (const r of schedule.rollouts) if (r.truth === 'bad') sim.markBad(NEW_VERSION, r.service);
    for (const region of schedule.undoRollbackRegions) sim.setFaults({ region, undoRollback: true });

    let workerSeq = 0;
    /** Workers polling: a kill picks among these. */
    const polling = new Map<Proc, number>();
    const startWorker = async (slot: number): Promise<void> => {
      const t0 = Date.now();
      workerSeq += 1;
      let ready: () => void = () => {};
      const isReady = new Promise<void>((r) => (ready = r));
      const proc = startProcess('worker', process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], join(dir, `worker-${workerSeq}.log`), {
        cwd: ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: server!.address,
          TEMPORAL_NAMESPACE: 'default',
          MRCD_TASK_QUEUE: taskQueue,
          MRCD_LOG_LEVEL: 'info',
          MRCD_LOG_FORMAT: 'json',
          MRCD_SHUTDOWN_GRACE: '2s',
          MRCD_WORKFLOW_BUNDLE: bundle,
          [TOKEN_ENV]: token,
        },
        onLine: (l) => l.includes('"worker started"') && ready(),
      });
      slots[slot] = proc;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        isReady.then(() => 'ready'),
        proc.exited.then(() => 'exited'),
        new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), 90_000))),
      ]).finally(() => clearTimeout(timer));
      if (outcome === 'ready') {
        polling.set(proc, Date.now());
        replacementMs.push(Date.now() - t0);
      }
      // A worker killed while it started is fine; one that died by itself is not.
      else if (outcome !== 'exited' || slots[slot] === proc) throw new Error(`worker #${workerSeq} did not start (${outcome}):\n${tail(proc)}`);
    };
    await Promise.all(Array.from({ length: schedule.config.workers }, (_, i) => startWorker(i)));
    replacementMs.length = 0;
    m = await connectClient({ address: server.address, namespace: 'default', taskQueue });
    say(`[chaos] server ${server.address} (SQLite ${dbFile}), simulator ${sim.url}, ${schedule.config.workers} workers; ${schedule.rollouts.length} rollouts`);

    const t0 = Date.now();
    const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
    // The fleet policy every rollout asks: one region limited and frozen for a while (docs/policy.md).
    const pol = schedule.policy;
    const freeze = { from: t0 + pol.freeze.fromMs, until: t0 + pol.freeze.untilMs };
    await applyPolicy(m, {
      concurrency: { [pol.region]: pol.limit },
      freezes: [{ scope: { regions: [pol.region] }, reason: 'chaos: a freeze mid-run', ...freeze }],
      reason: 'the chaos run',
      by: 'chaos',
    });
    const ended = new Set<string>();
    const allEnded = () => ended.size === schedule.rollouts.length;
    const deadline = t0 + schedule.config.windowMs + opts.tailMs;

    // --- the operator: one driver per rollout ------------------------------------------
    const outcomes = new Map<string, RolloutOutcome>();
    const count = (what: string) => (opCounts[what] = (opCounts[what] ?? 0) + 1);
    const mrcdCli = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((res) => {
        const child = spawn(process.execPath, [join(ROOT, 'bin/mrcd.js'), ...args], {
          cwd: ROOT,
          env: { ...process.env, TEMPORAL_ADDRESS: server!.address, TEMPORAL_NAMESPACE: 'default', MRCD_TASK_QUEUE: taskQueue, MRCD_USER: 'chaos' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          res({ code, out });
        });
      });

    /** 'ok', 'rejected' (the rollout said no), 'ended', or 'error' (unreachable: try again later). */
    type Answer = 'ok' | 'rejected' | 'ended' | 'error';
    const send = async (service: string, action: OperatorActionName, region?: string, viaCli = false): Promise<Answer> => {
      const reason = `chaos ${action}`;
      if (viaCli) {
        const r = await mrcdCli([action, service, '--reason', reason, '--by', 'chaos', ...(region ? ['--region', region] : [])]);
        if (r.code === 0) return (count(`${action} (bin/mrcd.js)`), 'ok');
        if (/has ended|already ended|ended:/i.test(r.out)) return 'ended';
        return r.code === 3 ? 'rejected' : 'error';
      }
      try {
        await within(act(m!, service, action, { reason, by: 'chaos', ...(region ? { region } : {}) }), 20_000);
        count(action);
        return 'ok';
      } catch (e) {
        if (e instanceof RolloutEndedError) return 'ended';
        if (e instanceof ActionRejectedError) return 'rejected';
        return 'error';
      }
    };

    /** A workflow cancel, as the Web UI's Cancel sends it. */
    const cancelWorkflow = async (spec: RolloutSpec): Promise<Answer> => {
      try {
        await within(rolloutHandle(m!, spec.service).cancel(), 20_000);
        cancels[spec.cancel!] = (cancels[spec.cancel!] ?? 0) + 1;
        return 'ok';
      } catch (e) {
        return e instanceof WorkflowNotFoundError ? 'ended' : 'error';
      }
    };

    const drive = async (spec: RolloutSpec): Promise<void> => {
      const migrationLog = join(dir, `migrations-${spec.index}.jsonl`);
      const o: RolloutOutcome = {
        service: spec.service,
        truth: spec.truth,
        regions: spec.regions,
        oldVersion: OLD_VERSION,
        newVersion: NEW_VERSION,
        expected: spec.truth === 'good' ? 'succeeded' : 'aborted',
        falseBreaches: 0,
        finalVersions: {},
        workflowTaskFailures: 0,
      };
      outcomes.set(spec.service, o);
      await at(spec.startAtMs);
      for (;;) {
        try {
          await within(startRollout(m!, plan(spec, sim!.url, migrationLog), { startedBy: 'chaos' }), 20_000);
          break;
        } catch (e) {
          // A start that timed out may have started it.
          if (e instanceof RolloutAlreadyRunningError) break;
          if ((e as Error).name === 'PlanError') throw e;
          if (Date.now() > deadline) return;
          await sleep(1000);
        }
      }
      const began = Date.now();
      const handled = new Set<number>();
      let retriedBad = false;
      let pausedAt: number | undefined;
      let resumed = false;
      let opDone = spec.operator.kind === 'none';
      let cancelled = false;
      let cancelledAt = 0;
      let drifted = false;
      const cancelNow = async () => {
        const a = await cancelWorkflow(spec);
        if (a !== 'error') {
          cancelled = true;
          cancelledAt = Date.now();
        }
        return a;
      };
      while (Date.now() < deadline) {
        await sleep(800);
        let st: RolloutStatus;
        try {
          st = await within(getStatus(m!, spec.service), 10_000);
        } catch {
          continue;
        }
        latest.set(spec.service, st);
        if (TERMINAL.has(st.state)) {
          o.finalState = st.state;
          o.attempts = Object.fromEntries(st.regions.map((r) => [r.name, r.attempts]));
          o.finalRegionStatus = Object.fromEntries(st.regions.map((r) => [r.name, r.status]));
          o.startedAt = st.startedAt;
          if (st.endedAt !== undefined) o.endedAt = st.endedAt;
          o.regionTimes = Object.fromEntries(
            st.regions.map((r) => [
              r.name,
              { ...(r.deployedAt !== undefined ? { deployedAt: r.deployedAt } : {}), ...(r.promotedAt !== undefined ? { promotedAt: r.promotedAt } : {}) },
            ]),
          );
          // An abort whose answer was lost (the server restarting) still took effect: the
          // rollout's own record of accepted actions says so. A workflow cancel is recorded as
          // an abort by 'temporal', accepted or refused by the same action table.
          if (spec.truth === 'good' && st.actions.some((a) => a.action === 'abort' && a.accepted && (a.by === 'chaos' || a.by === 'temporal')))
            o.expected = 'aborted';
          for (const a of st.actions.filter((x) => x.action === 'abort' && x.by === 'temporal')) {
            if (!a.accepted) cancelAnswers.refused += 1;
            else if (/already/i.test(a.note ?? '')) cancelAnswers.noop += 1;
            else cancelAnswers.accepted += 1;
            if (!a.accepted && !/point of no return/i.test(a.note ?? ''))
              say(`[chaos] ${spec.service}: a cancel refused without naming the point of no return: ${a.note ?? '(no note)'}`);
          }
          durations.push(Date.now() - began);
          break;
        }
        if (st.state === 'halted' && st.halt && !handled.has(st.halt.at)) {
          const cause = st.halt.cause?.kind;
          let a: Answer;
          if (cause === 'slo-breach') {
            if (spec.truth === 'bad') {
              o.caughtIn ??= st.halt.cause?.region ?? st.halt.region;
              if (spec.retryBadOnce && !retriedBad) {
                a = await send(spec.service, 'retry', undefined, true);
                if (a === 'ok') retriedBad = true;
              } else if (spec.cancel === 'halted' && !cancelled) a = await cancelNow();
              else a = await send(spec.service, 'abort', undefined, true);
            } else {
              o.falseBreaches += 1;
              a = await send(spec.service, 'abort');
            }
          } else if (cause === 'not-running-version' && drifted && spec.drift?.then === 'abort') {
            driftHalts += 1;
            a = await send(spec.service, 'abort');
            // Accepted: the operator's answer to the region changed by hand is the verdict.
            if (a === 'ok') o.expected = 'aborted';
            if (a === 'ok') driftAnswers.abort += 1;
          } else {
            if (cause === 'not-running-version') driftHalts += 1;
            a = await send(spec.service, 'retry');
            if (a === 'ok' && cause === 'not-running-version' && drifted) driftAnswers.retry += 1;
            else if (a === 'ok') faultHaltsRetried += 1;
          }
          if (a !== 'error') handled.add(st.halt.at);
          continue;
        }
        if (st.state === 'rollback-failed') {
          // A cancel while the abort compensates: an accepted no-op, the hold stays for the retry.
          if (spec.cancel === 'rollback-failed' && !cancelled) await cancelNow();
          else await send(spec.service, 'retry');
          continue;
        }
        // A change by hand: the region back on the old version while it soaks or waits for approval.
        const dr = spec.drift;
        if (dr && !drifted && st.regions[dr.region]?.status === (dr.during === 'soak' ? 'soaking' : 'awaiting-approval')) {
          sim!.setVersion(spec.service, spec.regions[dr.region]!, OLD_VERSION);
          drifted = true;
          drifts += 1;
          continue;
        }
        const ap = spec.approvalRegion;
        if (ap !== undefined && st.regions[ap]?.status === 'awaiting-approval') {
          // A cancel instead of the approval; approved after all if it was not taken (15 s on).
          if (spec.cancel === 'approval' && !cancelled) await cancelNow();
          else if (spec.cancel !== 'approval' || Date.now() - cancelledAt > 15_000) await send(spec.service, 'approve', spec.regions[ap]);
        }
        if (!cancelled && spec.cancel === 'soak' && st.regions.some((r) => r.status === 'soaking')) await cancelNow();
        if (!cancelled && spec.cancel === 'contract' && /contract migrations/.test(st.summary)) await cancelNow();
        if (opDone) continue;
        const op = spec.operator;
        const region = op.kind === 'none' ? undefined : st.regions[op.region];
        if (op.kind === 'pause-resume') {
          // A pause whose answer was lost took effect all the same.
          if (pausedAt === undefined && st.state === 'paused') pausedAt = Date.now();
          if (pausedAt === undefined && region?.status === 'soaking') {
            const a = await send(spec.service, 'pause');
            if (a === 'ok') pausedAt = Date.now();
            else if (a !== 'error') opDone = true;
          } else if (pausedAt !== undefined && !resumed && Date.now() - pausedAt >= op.holdMs) {
            const a = await send(spec.service, 'resume');
            if (a !== 'error') resumed = true;
          } else if (resumed && st.state === 'paused') {
            await send(spec.service, 'resume');
          }
          if (resumed && st.state !== 'paused') opDone = true;
        } else if (op.kind === 'skip-soak' && region?.status === 'soaking') {
          if ((await send(spec.service, 'skip-soak', spec.regions[op.region])) !== 'error') opDone = true;
        } else if (op.kind === 'abort' && region && !['pending', 'awaiting-resume', 'waiting-window'].includes(region.status)) {
          // The abort's rollback of the first region fails once: rollback-failed, where the cancel lands.
          if (spec.cancel === 'rollback-failed') sim!.setFaults({ region: spec.regions[0]!, failRollback: { times: 1 } });
          const a = await send(spec.service, 'abort');
          // Accepted: the operator changed the verdict. Refused or too late: it stands.
          if (a === 'ok') o.expected = 'aborted';
          if (a !== 'error') opDone = true;
        }
      }
      ended.add(spec.service);
    };

    // --- the faults ----------------------------------------------------------------------
    /** The replacement in `slot`, killed once it has polled for MIN_LIFE_MS: on its first tasks of the rollouts it took over. */
    const killAfterFailover = async (slot: number): Promise<void> => {
      await sleep(MIN_LIFE_MS);
      const p = slots[slot];
      if (!p?.running() || allEnded() || stopping) return;
      await kill9(p);
      kills += 1;
      followUpKills += 1;
      replacements += 1;
      void startWorker(slot).catch((e: Error) => say(`[chaos] ${e.message}`));
    };

    const killer = (async () => {
      for (const k of schedule.kills) {
        await at(k.atMs);
        if (allEnded() || stopping) return;
        // Every worker may be starting (a kill lands faster than a start on a busy machine):
        // the kill waits for one to be up rather than being dropped from the count.
        // A kill that is behind schedule would hit a worker the moment it polls, every time, and
        // no worker would ever do any work: one polling for less than MIN_LIFE_MS is spared.
        const eligible = () => slots.map((p, i) => ({ p, i })).filter((x) => x.p?.running() && Date.now() - (polling.get(x.p) ?? Infinity) >= MIN_LIFE_MS);
        let live = eligible();
        for (let waited = 0; !live.length && waited < 60_000 && !allEnded(); waited += 200) {
          await sleep(200);
          live = eligible();
        }
        if (!live.length) continue;
        const { p, i } = live[k.slot % live.length]!;
        const phases = new Set([...latest.entries()].filter(([s]) => !ended.has(s)).map(([, st]) => phaseOf(st) ?? 'idle'));
        if (!phases.size) phases.add('idle');
        await kill9(p!);
        kills += 1;
        for (const ph of phases) killPhases[ph] += 1;
        replacements += 1;
        const replaced = startWorker(i);
        void replaced.catch((e: Error) => say(`[chaos] ${e.message}`));
        if (k.followUp) void replaced.then(() => killAfterFailover(i)).catch((e: Error) => say(`[chaos] ${e.message}`));
      }
    })();

    const restarter = (async () => {
      for (const ms of schedule.serverRestarts) {
        await at(ms);
        if (allEnded() || stopping) return;
        const down = Date.now();
        process.kill(server!.pid!, 'SIGKILL');
        await server!.stop();
        await sleep(500);
        for (let attempt = 1; ; attempt++) {
          try {
            server = await startDevServer({ dbFile, port, uiPort: false, readyTimeoutMs: 60_000 });
            break;
          } catch (e) {
            if (attempt >= 5) throw e;
            await sleep(2000);
          }
        }
        serverDownMs.push(Date.now() - down);
        say(`[chaos] kill -9 of the server at +${((down - t0) / 1000).toFixed(1)} s; serving again after ${((Date.now() - down) / 1000).toFixed(1)} s`);
      }
    })();

    const faulter = (async () => {
      const pending: Promise<void>[] = [];
      for (const f of schedule.faults) {
        await at(f.atMs);
        if (allEnded() || stopping) break;
        inject(sim!, f, true);
        faultsInjected[f.kind] = (faultsInjected[f.kind] ?? 0) + 1;
        pending.push(sleep(f.durationMs).then(() => inject(sim!, f, false)));
      }
      await Promise.all(pending);
    })();

    const progress = setInterval(() => {
      const states: Record<string, number> = {};
      for (const [svc, st] of latest) if (!ended.has(svc)) states[st.state] = (states[st.state] ?? 0) + 1;
      const inFlight = Object.entries(states).map(([k, n]) => `${k} ${n}`);
      say(
        `[chaos] +${((Date.now() - t0) / 1000).toFixed(0)} s: ${ended.size}/${schedule.rollouts.length} ended; ${inFlight.join(', ') || 'none'} in flight; ${kills} worker kills`,
      );
    }, 30_000);
    progress.unref();
    await Promise.all(schedule.rollouts.map((r) => drive(r)));
    clearInterval(progress);
    stopping = true;
    await Promise.all([killer, restarter, faulter]);
    sim.clearFaults();
    say(`[chaos] every rollout ended after ${((Date.now() - t0) / 1000).toFixed(1)} s (${kills} worker kills)`);

    // --- judgement -----------------------------------------------------------------------
    let timeouts = 0;
    let unhandledCommand = 0;
    for (const spec of schedule.rollouts) {
      const o = outcomes.get(spec.service)!;
      for (const r of spec.regions) o.finalVersions[r] = sim.versionOf(spec.service, r);
      try {
        o.closeStatus = (await within(rolloutHandle(m, spec.service).describe(), 30_000)).status.name;
      } catch (e) {
        say(`[chaos] ${spec.service} not described: ${(e as Error).message}`);
      }
      try {
        const h = await within(rolloutHandle(m, spec.service).fetchHistory(), 30_000);
        for (const e of h.events ?? []) {
          if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
            // The server refusing a completion because a new event arrived meanwhile (the
            // worker runs the task again with it) is Temporal's protocol, not a failing workflow.
            if (e.workflowTaskFailedEventAttributes?.cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND) unhandledCommand += 1;
            else o.workflowTaskFailures += 1;
          }
          if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) timeouts += 1;
          maxTaskAttempt = Math.max(maxTaskAttempt, e.workflowTaskScheduledEventAttributes?.attempt ?? 0);
        }
      } catch (e) {
        say(`[chaos] history of ${spec.service} unreadable: ${(e as Error).message}`);
      }
      if (spec.migrations) o.migrationRuns = readRuns(join(dir, `migrations-${spec.index}.jsonl`));
    }
    const all = [...outcomes.values()];
    const ledger = sim.ledger();
    // The policy lived through every kill and restart: read it once more (after a restart it may take a moment).
    let policyState: PolicyState | undefined;
    for (let i = 0; i < 10 && !policyState; i++) {
      policyState = await within(showPolicy(m), 15_000).catch((e: unknown) => {
        say(`[chaos] the fleet policy unreadable: ${(e as Error).message}`);
        return undefined;
      });
      if (!policyState) await sleep(2000);
    }
    const violations = [
      ...checkInvariants(all, ledger),
      ...checkPolicy(
        { region: pol.region, limit: pol.limit, freeze, ...(policyState ? { log: policyState.log, leases: policyState.leases.length } : {}) },
        ledger,
      ),
    ];
    const byRule = countByRule(violations);
    const wrong = new Set(violations.filter((v) => v.rule === 'verdict' || v.rule === 'caught-first-region').map((v) => v.service));
    const runsByStep: Record<string, number> = {};
    let reRuns = 0;
    for (const o of all) {
      const per: Record<string, number> = {};
      for (const r of o.migrationRuns ?? []) per[`${r.phase}:${r.direction}`] = (per[`${r.phase}:${r.direction}`] ?? 0) + 1;
      for (const [k, n] of Object.entries(per)) {
        runsByStep[k] = (runsByStep[k] ?? 0) + n;
        reRuns += n - 1;
      }
    }
    const byFinal: Record<string, number> = {};
    for (const o of all) byFinal[o.finalState ?? 'never ended'] = (byFinal[o.finalState ?? 'never ended'] ?? 0) + 1;

    await settleInFlight(60_000);
    await m.close();
    m = undefined;
    await stopAll({ fast: true });
    await server.stop();
    const serverPid = server.pid;
    server = undefined;
    const left = orphans().length + (serverPid !== undefined && alive(serverPid) ? 1 : 0);

    return {
      seed: schedule.seed,
      config: schedule.config,
      rollouts: {
        total: all.length,
        good: schedule.rollouts.filter((r) => r.truth === 'good').length,
        bad: schedule.rollouts.filter((r) => r.truth === 'bad').length,
        abortedByOperator: all.filter((o) => o.truth === 'good' && o.expected === 'aborted').length,
        withMigrations: schedule.rollouts.filter((r) => r.migrations).length,
        withApproval: schedule.rollouts.filter((r) => r.approvalRegion !== undefined).length,
        ended: all.filter((o) => o.finalState !== undefined).length,
      },
      verdicts: { correct: all.length - wrong.size, wrong: wrong.size, byFinalState: byFinal },
      operator: opCounts,
      faultHaltsRetried,
      workerKills: {
        total: kills,
        byPhase: killPhases,
        replacements,
        replacementStartMs: { mean: mean(replacementMs), max: Math.max(0, ...replacementMs) },
        afterFailover: followUpKills,
      },
      serverRestarts: { total: serverDownMs.length, downMs: serverDownMs },
      policy: {
        region: pol.region,
        limit: pol.limit,
        freezeMs: freeze.until - freeze.from,
        ...policyFigures(policyState, pol.region),
        readAtEnd: policyState !== undefined,
      },
      faultsInjected,
      edges: { cancels, cancelAnswers, undoRollbackRegions: [...schedule.undoRollbackRegions], drifts, driftHalts, driftAnswers },
      ledger: {
        deploys: ledger.filter((e) => e.kind === 'deploy').length,
        rollbacks: ledger.filter((e) => e.kind === 'rollback').length,
        manual: ledger.filter((e) => e.kind === 'manual').length,
      },
      migrations: { runsByStep, reRuns },
      duplicateDeploys: byRule['duplicate-deploy'] + byRule['idempotency-key-reused'],
      lostRollbacks: byRule['rollback-lost'],
      workflowTaskFailures: all.reduce((a, o) => a + o.workflowTaskFailures, 0),
      workflowTaskTimeouts: timeouts,
      maxWorkflowTaskAttempt: maxTaskAttempt,
      unhandledCommandRetries: unhandledCommand,
      rolloutMs: { mean: mean(durations), max: Math.max(0, ...durations) },
      violations: byRule,
      violationList: violations,
      orphans: left,
      wallMs: Date.now() - startedAt,
    };
  } finally {
    stopping = true;
    if (m) await settleInFlight(60_000);
    await m?.close().catch(() => undefined);
    await stopAll({ fast: true }).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await sim?.close();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    else say(`[chaos] logs and SQLite file kept in ${dir}`);
  }
}

function inject(sim: Simulator, f: FaultEvent, on: boolean): void {
  const scope = f.region ? { region: f.region } : {};
  switch (f.kind) {
    case '5xx':
      return sim.setFaults({ ...scope, errorRate5xx: on ? f.value! : 0 });
    case 'latency':
      return sim.setFaults({ ...scope, latencyMs: on ? f.value! : 0 });
    case 'hang':
      return sim.setFaults({ ...scope, hang: on });
    case 'drop':
      return sim.setFaults({ ...scope, drop: on });
  }
}

/** Slots granted in the limited region, and the most held at once (the policy's log replayed). */
function policyFigures(p: PolicyState | undefined, region: string): { grants: number; maxHolders: number } {
  let holders = 0;
  let maxHolders = 0;
  let grants = 0;
  for (const e of p?.log ?? []) {
    if (e.action === 'grant') {
      grants += 1;
      maxHolders = Math.max(maxHolders, (holders += 1));
    } else if ((e.action === 'release' || e.action === 'reclaim') && (e.detail ?? '').includes(`(${region}`)) holders = Math.max(0, holders - 1);
  }
  return { grants, maxHolders };
}

function readRuns(file: string): MigrationRun[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MigrationRun);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
