// Cluster mode (issue 25): the same load on the dev server (one history shard on one SQLite
// file) and on the production server (scripts/build-temporal-server.js, the test:cluster
// build) on PostgreSQL with several history shards, in one run, each with two worker
// processes (bench/cluster-worker.ts). On each: a ramp of N rollouts started at once, the N
// soaking (the steady state), a breach → rollback among them, and a kill -9 of one worker
// under that load. Every latency is measured where it happens (activity attempts in the
// workers, workflow tasks from histories, updates in this process), and every phase records
// the CPU each process used and the machine's, so a missed goal comes with what limits it.
// `npm run bench:cluster [-- --quick]` (or `npx tsx bench/cluster.ts`); mcluster() for callers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { startDevServer } from '../dev/temporal-server';
import { actionUpdates, rolloutWorkflowId, statusQuery } from '../domain/definitions';
import { policyWorkflowId } from '../domain/policy';
import { planDoc, TEST_GATE } from '../test/support/rollout-harness';
import { workflowBundle } from '../test/support/temporal';
import { ensurePostgresServer, startPostgres } from '../test/cluster/postgres';
import { signalGroup, stopAll, tail } from '../test/cluster/processes';
import { createCluster, registerNamespace, setupSchema, type TemporalCluster } from '../test/cluster/temporal-cluster';
import { BREACH_MARK, type Report } from './cluster-worker';
import { ms, pct, QUICK, results, rssMb, sleep, table } from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const builder = require('../scripts/build-temporal-server.js') as {
  VERSION: string;
  ensureTemporalServer(o?: { say?: (l: string) => void }): Promise<{ server: string; sqlTool: string; schema: string; built: boolean }>;
};

/**
 * 1,000 is the issue's size, but on 2 cores a full run of it takes 34 minutes (most of it
 * starting again, in waves, the rollouts the policy livelocked): 500 keeps it near 20.
 * MRCD_BENCH_CLUSTER_N=1000 for the issue's size. Quick runs stay below the workers' 80
 * workflow task slots, where the livelock starts, to stay short.
 */
const N = Number(process.env.MRCD_BENCH_CLUSTER_N ?? (QUICK ? 50 : 500));
/** Production plans' cadence; quick runs check more often so that their phases can be short. */
const INTERVAL_MS = QUICK ? 5_000 : 15_000;
/** As in M6: a few real SLO queries take this long, so a kill lands mid-check. */
const CHECK_MS = 400;
const SHARDS = 8;
const WORKERS = 2;
/** Workflow task slots per worker: the SDK's default (40) unless MRCD_BENCH_CLUSTER_WFT_SLOTS says otherwise. */
const WFT_SLOTS = Number(process.env.MRCD_BENCH_CLUSTER_WFT_SLOTS) || undefined;
const REGIONS = [
  { name: 'r1', size: 1 },
  { name: 'r2', size: 10 },
  { name: 'r3', size: 100 },
];
const STEADY_MS = QUICK ? 15_000 : 60_000;
const PAUSES = QUICK ? 30 : 100;
const BREACHES = QUICK ? 3 : 5;
/** Pauses sent right after the kill: a rollout cached by the dead worker waits for its sticky queue. */
const PAUSES_AFTER_KILL = QUICK ? 10 : 20;
/**
 * How long the rollouts started at once are given to reach their soak. Past a few dozen at
 * once they livelock on the fleet policy (docs/benchmarks.md, "Cluster mode"), so the rest are
 * then started again in waves small enough to pass, for the steady state to have all N.
 */
const RAMP_LIMIT_MS = QUICK ? 60_000 : 120_000;
const FILL_WAVE = 30;
const GOALS = { rampP95Ms: 5_000, pauseP99Ms: 250, recoveryMs: 15_000 };
const who = { reason: 'bench', by: 'bench' };

const say = (line: string) => console.log(`  ${line}`);

// --- CPU and memory, from /proc -------------------------------------------------------------

const TICK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout?.trim()) || 100;
})();

/** utime+stime (and, with children, the reaped children's) of a process in seconds; undefined when it is gone. */
function cpuOf(pid: number, children = false): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const t = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
    return t / TICK;
  } catch {
    return undefined;
  }
}

/** A process and its descendants: PostgreSQL's backends each start a session of their own, so its process group is the postmaster alone. */
function treePids(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  if (!parent.has(root)) return [];
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

/** A process tree's CPU: its live members, plus what the root reaped (ended backends). */
function treeCpu(root: number): number {
  return treePids(root).reduce((s, pid) => s + (cpuOf(pid, pid === root) ?? 0), 0);
}

/** Proportional set size of a process tree in MB: PostgreSQL's shared buffers counted once, not per backend. */
function treePssMb(root: number): number {
  let kb = 0;
  for (const pid of treePids(root)) {
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb / 1024;
}

/** Busy CPU seconds of the whole machine (every core), whoever used them. */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / TICK;
}

interface CpuSnap {
  at: number;
  machine: number;
  server: number;
  postgres: number;
  workers: number;
  bench: number;
}

/** Cores used over a phase, per process kind, and by everything else on the machine. */
interface PhaseCpu {
  seconds: number;
  server: number;
  postgres?: number;
  workers: number;
  bench: number;
  machine: number;
  others: number;
}

// --- The server's own metrics (the production server's Prometheus endpoint) ----------------

type Metrics = Map<string, number>;

async function scrape(port: number): Promise<Metrics> {
  const out: Metrics = new Map();
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^(\w+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
    }
  } catch {
    // no figures for this phase; said so in the table
  }
  return out;
}

/** Sum and count of a histogram between two scrapes, per value of one label. */
function histDelta(a: Metrics, b: Metrics, name: string, by: string): Map<string, { sum: number; count: number }> {
  const out = new Map<string, { sum: number; count: number }>();
  for (const [key, v] of b) {
    const m = /^(\w+)(\{.*\})?$/.exec(key)!;
    const suffix = m[1] === `${name}_sum` ? 'sum' : m[1] === `${name}_count` ? 'count' : undefined;
    if (!suffix) continue;
    const label = new RegExp(`${by}="([^"]*)"`).exec(m[2] ?? '')?.[1] ?? '?';
    const d = v - (a.get(key) ?? 0);
    const acc = out.get(label) ?? { sum: 0, count: 0 };
    acc[suffix] += d;
    out.set(label, acc);
  }
  return out;
}

interface ServerPhase {
  /** PostgreSQL calls per second, their mean latency, and the operations that took most of the time. */
  dbCallsPerS: number;
  dbMeanMs: number;
  dbTop: string;
  /** Matching's own schedule-to-start, per task type (mean ms). */
  waitMeanMs: Record<string, number>;
}

function serverPhase(a: Metrics, b: Metrics, seconds: number): ServerPhase | undefined {
  if (a.size === 0 || b.size === 0) return undefined;
  const ops = [...histDelta(a, b, 'persistence_latency', 'operation')].filter(([, h]) => h.count > 0);
  const total = ops.reduce((s, [, h]) => ({ sum: s.sum + h.sum, count: s.count + h.count }), { sum: 0, count: 0 });
  const top = ops
    .sort((x, y) => y[1].sum - x[1].sum)
    .slice(0, 3)
    .map(([op, h]) => `${op} ${((h.sum / total.sum) * 100).toFixed(0)}%`)
    .join(', ');
  const waits = [...histDelta(a, b, 'task_schedule_to_start_latency', 'task_type')].filter(([, h]) => h.count > 0);
  return {
    dbCallsPerS: total.count / seconds,
    dbMeanMs: total.count ? (total.sum / total.count) * 1000 : NaN,
    dbTop: top,
    waitMeanMs: Object.fromEntries(waits.map(([t, h]) => [t, (h.sum / h.count) * 1000])),
  };
}

// --- The two servers ------------------------------------------------------------------------

interface Env {
  label: string;
  address: string;
  serverPid: number;
  /** PostgreSQL's postmaster, on the cluster. */
  postgresPid?: number;
  setupMs: number;
  /** Bytes the server's store takes (SQLite file with its WAL, or both PostgreSQL databases). */
  storeBytes(): number;
  metrics(): Promise<Metrics>;
  stop(): Promise<void>;
}

async function devServerEnv(dir: string): Promise<Env> {
  const t0 = Date.now();
  const dbFile = join(dir, 'dev.db');
  // A file, not memory: the cluster's state is durable, and a store size per rollout is wanted.
  const server = await startDevServer({ dbFile, uiPort: false });
  // startDevServer gives it a metrics port without saying which: its command line does.
  const args = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
  const metricsPort = Number(args[args.indexOf('--metrics-port') + 1]) || undefined;
  return {
    label: 'dev server',
    address: server.address,
    serverPid: server.pid!,
    setupMs: Date.now() - t0,
    storeBytes: () => ['', '-wal', '-shm'].reduce((s, x) => s + (existsSync(dbFile + x) ? statSync(dbFile + x).size : 0), 0),
    metrics: () => (metricsPort ? scrape(metricsPort) : Promise.resolve(new Map())),
    stop: () => server.stop(),
  };
}

async function clusterEnv(dir: string): Promise<Env> {
  const t0 = Date.now();
  const tools = await builder.ensureTemporalServer({ say: (l) => say(`[cluster] ${l}`) });
  const pg = await startPostgres(say);
  let cluster: TemporalCluster | undefined;
  try {
    setupSchema(tools, pg);
    cluster = await createCluster(tools, pg, dir, 'default', SHARDS);
    await cluster.start();
    await registerNamespace(cluster);
  } catch (e) {
    await cluster?.stop().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    throw e;
  }
  const c = cluster;
  const psql = join(ensurePostgresServer(say).bin, 'psql');
  return {
    label: `cluster (${SHARDS} shards, PostgreSQL ${pg.major})`,
    address: c.address,
    serverPid: c.proc()!.pid,
    postgresPid: pg.proc.pid,
    setupMs: Date.now() - t0,
    storeBytes: () => {
      const r = spawnSync(
        psql,
        [
          '-h',
          pg.host,
          '-p',
          String(pg.port),
          '-U',
          pg.user,
          '-d',
          'temporal',
          '-Atc',
          "SELECT sum(pg_database_size(datname)) FROM pg_database WHERE datname IN ('temporal', 'temporal_visibility')",
        ],
        { encoding: 'utf8', env: { ...process.env, PGPASSWORD: pg.password }, timeout: 30_000 },
      );
      return r.status === 0 ? Number(r.stdout.trim()) : NaN;
    },
    metrics: () => scrape(c.ports.metrics),
    stop: async () => {
      await c.stop();
      await pg.stop();
    },
  };
}

// --- Worker processes -----------------------------------------------------------------------

interface WorkerProc {
  name: string;
  child: ChildProcess;
  log: string;
}

/** Removed at the end, and on SIGINT/SIGTERM. */
const tempDirs: string[] = [];

/** Every worker process started, so that none outlives the bench whatever happens. */
const workerProcs = new Set<WorkerProc>();

function killWorkers(): void {
  for (const w of workerProcs) signalGroup({ pid: w.child.pid ?? 0 }, 'SIGKILL');
  workerProcs.clear();
}

function startWorker(env: Env, dir: string, bundle: string, taskQueue: string, name: string, onReport: (r: Report) => void): Promise<WorkerProc> {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  // Its own process group, so the kill -9 (and the clean-up) takes whatever it started.
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'cluster-worker.ts')], {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: {
      ...process.env,
      BENCH_ADDRESS: env.address,
      BENCH_TASK_QUEUE: taskQueue,
      BENCH_BUNDLE: bundle,
      BENCH_NAME: name,
      BENCH_CHECK_MS: String(CHECK_MS),
      ...(WFT_SLOTS ? { BENCH_WFT_SLOTS: String(WFT_SLOTS) } : {}),
    },
  });
  closeSync(fd);
  const w = { name, child, log };
  workerProcs.add(w);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after 120 s:\n${tail(log, 15)}`)), 120_000);
    child.on('message', (m: Report) => {
      if ('ready' in m) {
        clearTimeout(timer);
        resolve(w);
      } else onReport(m);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? sig}) before it was ready:\n${tail(log, 15)}`));
    });
  });
}

// --- One server's phases --------------------------------------------------------------------

interface EnvFigures {
  env: string;
  rollouts: number;
  setupSeconds: number;
  ramp: {
    soaked: number;
    allSoakingSeconds: number;
    toSoakP50Ms: number;
    toSoakP95Ms: number;
    workflowTaskP95Ms: number;
    workflowTasks: number;
    /** How long a worker held a rollout's workflow task, p95 (a consult runs inside it as a local activity). */
    workflowTaskHeldP95Ms: number;
    /** The policy workflow's own tasks: it runs on the same workers, whose workflow task slots the rollouts hold. */
    policyTaskP95Ms: number;
    policyTaskMaxMs: number;
    activityP95Ms: number;
    activities: number;
  };
  /** The fleet policy during the ramp: every rollout asks it before its first deploy. */
  policy: ConsultStats & {
    historyLength: number;
    /** Runs of the policy workflow by the end (it continues as new when Temporal suggests it). */
    runs?: number;
  };
  /** When the ramp left rollouts short of their soak: started again in waves of FILL_WAVE. */
  fill?: { restarted: number; waves: number; wavesLate: number; seconds: number; waveP50Seconds: number; waveMaxSeconds: number; policy: ConsultStats };
  steady: {
    pauseP50Ms: number;
    pauseP99Ms: number;
    pauses: number;
    checkP95Ms: number;
    checks: number;
    workerRssMb: number[];
    serverRssMb: number;
    postgresPssMb?: number;
    storeBytes: number;
    storeBytesPerRollout: number;
  };
  breach: {
    rollouts: number;
    startToBreachMaxMs: number;
    toRollbackStartedP50Ms: number;
    toRollbackStartedMaxMs: number;
    toRollbackDoneMaxMs: number;
    toHaltedMaxMs: number;
  };
  kill: {
    orphaned: number;
    /** Of those, checks due after the kill that were still handed to the dead worker, and how long after the kill the last one was due. */
    handedToDeadWorker: number;
    handedToDeadDueAfterKillMaxMs: number;
    orphanedCheckedAgainP50Ms: number;
    orphanedCheckedAgainMaxMs: number;
    allCheckedAgainMaxMs: number;
    pauseAckMaxMs: number;
    checkP95AfterMs: number;
  };
  cpu: Record<string, PhaseCpu>;
  server: Record<string, ServerPhase | undefined>;
}

interface ConsultStats {
  consults: number;
  failed: number;
  reasons: Record<string, number>;
  answeredP95Ms: number;
  /** Rollouts with six failed consults: the local activity then gives up and the rollout holds as "policy unreadable" for 30 s. */
  rolloutsHeldUnreadable: number;
}

function consultStats(list: { id: string; ms: number; error?: string }[]): ConsultStats {
  const failuresOf = new Map<string, number>();
  const reasons: Record<string, number> = {};
  for (const c of list.filter((x) => x.error !== undefined)) {
    failuresOf.set(c.id, (failuresOf.get(c.id) ?? 0) + 1);
    const why = /in-flight updates/.test(c.error!) ? 'in-flight update limit' : /aborted/.test(c.error!) ? 'update aborted' : c.error!.slice(0, 60);
    reasons[why] = (reasons[why] ?? 0) + 1;
  }
  return {
    consults: list.length,
    failed: failuresOf.size ? [...failuresOf.values()].reduce((a, b) => a + b) : 0,
    reasons,
    answeredP95Ms: pct(
      list.filter((c) => c.error === undefined).map((c) => c.ms),
      95,
    ),
    rolloutsHeldUnreadable: [...failuresOf.values()].filter((n) => n >= 6).length,
  };
}

/**
 * Workflow tasks from histories, those scheduled up to `until`: schedule-to-start (scheduled →
 * started) and how long a worker held each (started → completed, local activities included).
 */
async function workflowTaskLatencies(handles: WorkflowHandle[], until: number): Promise<{ s2s: number[]; held: number[] }> {
  const out = { s2s: [] as number[], held: [] as number[] };
  for (const h of handles) {
    const events = (await h.fetchHistory().catch(() => ({ events: [] }))).events ?? [];
    let scheduledAt: number | undefined;
    let startedAt: number | undefined;
    for (const e of events) {
      const t = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      if (e.workflowTaskScheduledEventAttributes) scheduledAt = t;
      else if (e.workflowTaskStartedEventAttributes && scheduledAt !== undefined) {
        if (scheduledAt <= until) {
          out.s2s.push(t - scheduledAt);
          startedAt = t;
        }
        scheduledAt = undefined;
      } else if (e.workflowTaskCompletedEventAttributes && startedAt !== undefined) {
        out.held.push(t - startedAt);
        startedAt = undefined;
      }
    }
  }
  return out;
}

const planOf = (service: string) =>
  planDoc({ service, defaults: { soak: '6h', checkInterval: `${INTERVAL_MS / 1000}s`, gate: TEST_GATE } }, REGIONS) as Record<string, unknown>;

async function waitUntil(cond: () => boolean, limitMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

async function runOn(env: Env, dir: string, bundle: string): Promise<EnvFigures> {
  const tag = env.label.startsWith('dev') ? 'dev' : 'cl';
  const taskQueue = `mcluster-${tag}-${process.pid}`;
  const acts: { name: string; at: number; s2s: number }[] = [];
  /** Check attempts per workflow id, in the order they started. */
  const checks = new Map<string, { at: number; worker: string }[]>();
  const lastCheckOn = new Map<string, number>();
  const consults: { id: string; at: number; ms: number; error?: string }[] = [];
  const events = new Map<string, Partial<Record<'breach' | 'rollback' | 'rollback-done', number>>>();
  const onReport = (r: Report) => {
    if ('ready' in r) return;
    if (r.kind === 'activity') {
      acts.push({ name: r.name, at: r.at, s2s: r.s2s });
      if (r.name === 'checkRegion') {
        lastCheckOn.set(r.worker, r.at);
        const list = checks.get(r.id) ?? [];
        list.push({ at: r.at, worker: r.worker });
        checks.set(r.id, list);
      }
    } else if (r.kind === 'consult') {
      consults.push({ at: r.at, id: r.id, ms: r.ms, ...(r.error !== undefined ? { error: r.error } : {}) });
    } else {
      const e = events.get(r.id) ?? {};
      e[r.kind] ??= r.at;
      events.set(r.id, e);
    }
  };
  const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => startWorker(env, dir, bundle, taskQueue, `${tag}-worker-${i + 1}`, onReport)));
  const workerPids = workers.map((w) => w.child.pid!);
  const lastCpu = new Map<number, number>();
  /** A killed worker keeps the CPU it was last seen with. */
  const workersCpu = () =>
    workerPids.reduce((s, pid) => {
      const now = cpuOf(pid);
      if (now !== undefined) lastCpu.set(pid, now);
      return s + (lastCpu.get(pid) ?? 0);
    }, 0);
  const snap = (): CpuSnap => {
    const b = process.cpuUsage();
    return {
      at: Date.now(),
      machine: machineBusy(),
      server: cpuOf(env.serverPid) ?? NaN,
      postgres: env.postgresPid ? treeCpu(env.postgresPid) : 0,
      workers: workersCpu(),
      bench: (b.user + b.system) / 1e6,
    };
  };
  const cpu: Record<string, PhaseCpu> = {};
  const server: Record<string, ServerPhase | undefined> = {};
  const phase = async (name: string, fn: () => Promise<void>) => {
    const [a, ma] = [snap(), await env.metrics()];
    await fn();
    const [b, mb] = [snap(), await env.metrics()];
    const s = (b.at - a.at) / 1000;
    const cores = (x: number) => x / s;
    const ours = b.server - a.server + (b.postgres - a.postgres) + (b.workers - a.workers) + (b.bench - a.bench);
    cpu[name] = {
      seconds: s,
      server: cores(b.server - a.server),
      ...(env.postgresPid ? { postgres: cores(b.postgres - a.postgres) } : {}),
      workers: cores(b.workers - a.workers),
      bench: cores(b.bench - a.bench),
      machine: cores(b.machine - a.machine),
      others: Math.max(0, cores(b.machine - a.machine - ours)),
    };
    server[name] = serverPhase(ma, mb, s);
  };

  const connection = await Connection.connect({ address: env.address });
  const client = new Client({ connection });
  try {
    /** The store before the rollouts that soak: a livelocked run that was terminated is not one of them. */
    let storeBefore = env.storeBytes();
    let storedRollouts = N;
    const services = Array.from({ length: N }, (_, i) => `svc-${tag}-${i}`);
    const ids = services.map(rolloutWorkflowId);
    let handles: WorkflowHandleWithFirstExecutionRunId[] = [];
    let t0 = 0;
    let rampEnd = 0;
    await phase('ramp', async () => {
      t0 = Date.now();
      handles = await Promise.all(
        services.map((service) =>
          client.workflow.start('rolloutWorkflow', {
            taskQueue,
            workflowId: rolloutWorkflowId(service),
            args: [{ plan: planOf(service), startedBy: 'bench' }],
          }),
        ),
      );
      // A long ramp says how far it got now and then.
      let said = Date.now();
      const all = await waitUntil(
        () => {
          if (Date.now() - said >= 30_000) {
            said = Date.now();
            const failed = consults.filter((c) => c.error !== undefined).length;
            say(
              `${env.label}: ${ids.filter((id) => checks.has(id)).length} of ${N} soaking after ${((said - t0) / 1000).toFixed(0)} s (${failed} of ${consults.length} policy consults failed)`,
            );
          }
          return ids.every((id) => checks.has(id));
        },
        RAMP_LIMIT_MS,
        200,
      );
      rampEnd = Date.now();
      if (!all) say(`${env.label}: only ${ids.filter((id) => checks.has(id)).length} of ${N} soaking after ${RAMP_LIMIT_MS / 1000} s`);
    });
    // Those that did not soak within the limit count as never: a p95 over the others would flatter.
    const toSoak = ids.map((id) => (checks.has(id) ? checks.get(id)![0]!.at - t0 : Infinity));
    /** The runs of the ramp, for their histories: a run started again in the fill is another. */
    const rampRuns = handles.map((h) => client.workflow.getHandle(h.workflowId, h.firstExecutionRunId));
    const rampActs = acts.filter((a) => a.at <= rampEnd).map((a) => a.s2s);
    const ramp = {
      soaked: toSoak.filter(Number.isFinite).length,
      allSoakingSeconds: (rampEnd - t0) / 1000,
      toSoakP50Ms: pct(toSoak, 50),
      toSoakP95Ms: pct(toSoak, 95),
      activityP95Ms: pct(rampActs, 95),
      activities: rampActs.length,
      workflowTaskP95Ms: NaN,
      workflowTasks: 0,
      workflowTaskHeldP95Ms: NaN,
      policyTaskP95Ms: NaN,
      policyTaskMaxMs: NaN,
    };
    const policyHistory = await client.workflow
      .getHandle(policyWorkflowId(taskQueue))
      .describe()
      .then(
        (d) => d.historyLength,
        () => NaN,
      );
    const policy: EnvFigures['policy'] = { ...consultStats(consults.filter((c) => c.at <= rampEnd)), historyLength: policyHistory };
    say(`${env.label}: ${ramp.soaked} of ${N} soaking after ${ramp.allSoakingSeconds.toFixed(1)} s (p95 ${ms(ramp.toSoakP95Ms)} ms)`);

    // The rest: terminated and started again in waves, so that the steady state has all N.
    let fill: EnvFigures['fill'];
    const stuck = ids.filter((id) => !checks.has(id));
    if (stuck.length > 0)
      await phase('fill', async () => {
        const f0 = Date.now();
        for (let i = 0; i < stuck.length; i += 100)
          await Promise.all(
            stuck.slice(i, i + 100).map((id) =>
              client.workflow
                .getHandle(id)
                .terminate('bench: not soaking after the ramp')
                .catch(() => undefined),
            ),
          );
        // The consults the terminated runs still have in flight end with their local activity's 10 s timeout.
        await sleep(12_000);
        storeBefore = env.storeBytes();
        storedRollouts = stuck.length;
        const f1 = Date.now();
        const waveSeconds: number[] = [];
        let late = 0;
        for (let i = 0; i < stuck.length; i += FILL_WAVE) {
          const wave = stuck.slice(i, i + FILL_WAVE);
          const w0 = Date.now();
          const started = await Promise.all(
            wave.map((id) =>
              client.workflow.start('rolloutWorkflow', {
                taskQueue,
                workflowId: id,
                args: [{ plan: planOf(id.replace(/^rollout-/, '')), startedBy: 'bench' }],
              }),
            ),
          );
          for (const h of started) handles[ids.indexOf(h.workflowId)] = h;
          if (!(await waitUntil(() => wave.every((id) => (checks.get(id)?.at(-1)?.at ?? 0) >= w0), 120_000))) late += 1;
          waveSeconds.push((Date.now() - w0) / 1000);
          if (waveSeconds.length % 10 === 0) say(`${env.label}: ${i + wave.length} of ${stuck.length} started again and soaking`);
        }
        fill = {
          restarted: stuck.length,
          waves: waveSeconds.length,
          wavesLate: late,
          seconds: (Date.now() - f0) / 1000,
          waveP50Seconds: pct(waveSeconds, 50),
          waveMaxSeconds: Math.max(...waveSeconds),
          policy: consultStats(consults.filter((c) => c.at >= f1)),
        };
        say(`${env.label}: the other ${stuck.length} soaking after ${fill.seconds.toFixed(0)} s more, in ${fill.waves} waves of ${FILL_WAVE}`);
      });

    // The steady state, measured after one check interval, when the ramp's backlog is gone.
    await sleep(INTERVAL_MS);
    const storeBytes = env.storeBytes() - storeBefore;
    const pauses: number[] = [];
    let steadyFrom = 0;
    let steadyTo = 0;
    let rss = { workers: [] as number[], server: NaN, postgres: NaN };
    await phase('steady', async () => {
      steadyFrom = Date.now();
      const stride = Math.max(1, Math.floor(N / PAUSES));
      for (let i = 0; i < N && pauses.length < PAUSES && Date.now() < steadyFrom + STEADY_MS; i += stride) {
        const t = performance.now();
        await handles[i]!.executeUpdate(actionUpdates.pause, { args: [who] });
        pauses.push(performance.now() - t);
        await handles[i]!.executeUpdate(actionUpdates.resume, { args: [who] });
      }
      const left = steadyFrom + STEADY_MS - Date.now();
      if (left > 0) await sleep(left);
      steadyTo = Date.now();
      rss = {
        workers: workerPids.map(rssMb),
        server: rssMb(env.serverPid),
        postgres: env.postgresPid ? treePssMb(env.postgresPid) : NaN,
      };
    });
    const steadyChecks = acts.filter((a) => a.name === 'checkRegion' && a.at >= steadyFrom && a.at <= steadyTo).map((a) => a.s2s);
    const steady = {
      pauseP50Ms: pct(pauses, 50),
      pauseP99Ms: pct(pauses, 99),
      pauses: pauses.length,
      checkP95Ms: pct(steadyChecks, 95),
      checks: steadyChecks.length,
      workerRssMb: rss.workers,
      serverRssMb: rss.server,
      ...(env.postgresPid ? { postgresPssMb: rss.postgres } : {}),
      storeBytes,
      storeBytesPerRollout: storeBytes / storedRollouts,
    };
    say(`${env.label}: steady pause p99 ${ms(steady.pauseP99Ms)} ms, check s2s p95 ${ms(steady.checkP95Ms)} ms`);

    // A breach among the N soaking: each breaching rollout fails its first check.
    const breachIds = Array.from({ length: BREACHES }, (_, i) => rolloutWorkflowId(`svc-${tag}${BREACH_MARK}${i}`));
    const halted = new Map<string, number>();
    let breachStart = 0;
    await phase('breach', async () => {
      breachStart = Date.now();
      const bh = await Promise.all(
        breachIds.map((id) =>
          client.workflow.start('rolloutWorkflow', {
            taskQueue,
            workflowId: id,
            args: [{ plan: planOf(id.replace(/^rollout-/, '')), startedBy: 'bench' }],
          }),
        ),
      );
      await waitUntil(() => breachIds.every((id) => events.get(id)?.['rollback-done']), 120_000);
      // What an operator sees: the status says halted once the workflow has recorded the rollback.
      await Promise.all(
        bh.map(async (h) => {
          const deadline = Date.now() + 60_000;
          while (Date.now() < deadline) {
            const st = await h.query(statusQuery).catch(() => undefined);
            if (st?.state === 'halted') return void halted.set(h.workflowId, Date.now());
            await sleep(100);
          }
        }),
      );
    });
    const since = (id: string, k: 'rollback' | 'rollback-done') => (events.get(id)?.[k] ?? Infinity) - (events.get(id)?.breach ?? NaN);
    const toRollback = breachIds.map((id) => since(id, 'rollback'));
    const breach = {
      rollouts: BREACHES,
      startToBreachMaxMs: Math.max(...breachIds.map((id) => (events.get(id)?.breach ?? Infinity) - breachStart)),
      toRollbackStartedP50Ms: pct(toRollback, 50),
      toRollbackStartedMaxMs: Math.max(...toRollback),
      toRollbackDoneMaxMs: Math.max(...breachIds.map((id) => since(id, 'rollback-done'))),
      toHaltedMaxMs: Math.max(...breachIds.map((id) => (halted.get(id) ?? Infinity) - (events.get(id)?.breach ?? NaN))),
    };
    say(`${env.label}: breach → rollback started max ${ms(breach.toRollbackStartedMaxMs)} ms`);

    // kill -9 of one worker 100 ms into a check it runs, so that a check is surely lost with it.
    const victim = workers[0]!;
    const paused = handles.slice(-PAUSES_AFTER_KILL);
    const watched = ids.filter((id) => checks.has(id) && !paused.some((h) => h.workflowId === id));
    let killAt = 0;
    const acks: number[] = [];
    const lastBefore = new Map<string, { at: number; worker: string }>();
    await phase('kill', async () => {
      const from = Date.now();
      await waitUntil(() => (lastCheckOn.get(victim.name) ?? 0) >= from, 60_000, 5);
      await sleep(100);
      workersCpu();
      signalGroup({ pid: victim.child.pid! }, 'SIGKILL');
      killAt = Date.now();
      for (const id of watched) {
        const l = checks.get(id)!.filter((c) => c.at <= killAt);
        if (l.length) lastBefore.set(id, l.at(-1)!);
      }
      const pauseAcks = paused.map(async (h) => {
        const ok = await h.executeUpdate(actionUpdates.pause, { args: [who] }).then(
          () => true,
          () => false,
        );
        acks.push(ok ? Date.now() - killAt : Infinity);
      });
      await waitUntil(() => watched.every((id) => checks.get(id)!.some((c) => c.at > killAt)), 2 * INTERVAL_MS + 30_000);
      await Promise.all(pauseAcks);
    });
    const firstAfter = (id: string) => checks.get(id)!.find((c) => c.at > killAt)?.at ?? Infinity;
    const cadence = INTERVAL_MS + CHECK_MS;
    /**
     * How late a rollout's first check after the kill came, against its cadence. A check that
     * should have started before the kill but was never heard of was lost with the worker
     * before it could say so: the next slot after it is the one due.
     */
    const dueAfterKill = (id: string) => {
      let due = lastBefore.get(id)!.at + cadence;
      while (due <= killAt) due += cadence;
      return due;
    };
    const lateness = (id: string) => firstAfter(id) - dueAfterKill(id);
    const known = watched.filter((id) => lastBefore.has(id));
    /**
     * The rollouts the kill delayed: their check was lost with the worker (it waits out its 5 s
     * heartbeat timeout, then one interval, as a retry).
     */
    const orphaned = known.filter((id) => lateness(id) > 1000);
    const orphanedBack = orphaned.map((id) => firstAfter(id) - killAt);
    const afterKill = acts.filter((a) => a.name === 'checkRegion' && a.at > killAt).map((a) => a.s2s);
    /**
     * Later than a lost check's heartbeat timeout (5 s) can explain: a check due after the kill
     * and still handed to the dead worker (a poll of it the server had not yet dropped), which
     * then waits out its heartbeat timeout and one more interval.
     */
    const handedToDead = known.filter((id) => lateness(id) > 7_000);
    const kill = {
      orphaned: orphaned.length,
      handedToDeadWorker: handedToDead.length,
      handedToDeadDueAfterKillMaxMs: handedToDead.length ? Math.max(...handedToDead.map((id) => dueAfterKill(id) - killAt)) : NaN,
      orphanedCheckedAgainP50Ms: pct(orphanedBack, 50),
      orphanedCheckedAgainMaxMs: orphanedBack.length ? Math.max(...orphanedBack) : NaN,
      allCheckedAgainMaxMs: Math.max(...watched.map((id) => firstAfter(id) - killAt)),
      pauseAckMaxMs: Math.max(...acks),
      checkP95AfterMs: pct(afterKill, 95),
    };
    say(`${env.label}: kill -9: ${kill.orphaned} orphaned checks, all of them checked again after ${ms(kill.orphanedCheckedAgainMaxMs)} ms`);

    const sample = rampRuns.filter((_, i) => i % Math.max(1, Math.floor(N / 50)) === 0);
    const wft = await workflowTaskLatencies(sample, rampEnd);
    ramp.workflowTaskP95Ms = pct(wft.s2s, 95);
    ramp.workflowTasks = wft.s2s.length;
    ramp.workflowTaskHeldP95Ms = pct(wft.held, 95);
    let runs = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${policyWorkflowId(taskQueue)}'` })) runs += 1;
    policy.runs = runs;
    const policyTasks = await workflowTaskLatencies([client.workflow.getHandle(policyWorkflowId(taskQueue))], rampEnd);
    ramp.policyTaskP95Ms = pct(policyTasks.s2s, 95);
    ramp.policyTaskMaxMs = Math.max(...policyTasks.s2s);
    return { env: env.label, rollouts: N, setupSeconds: env.setupMs / 1000, ramp, policy, ...(fill ? { fill } : {}), steady, breach, kill, cpu, server };
  } finally {
    for (const w of workers) signalGroup({ pid: w.child.pid! }, 'SIGKILL');
    for (const w of workers) workerProcs.delete(w);
    await connection.close();
  }
}

// --- Both, side by side ---------------------------------------------------------------------

/** MRCD_BENCH_CLUSTER_SERVERS=dev or =cluster: one side only, while investigating one. */
const SERVERS = [devServerEnv, clusterEnv].filter((_, i) => {
  const only = process.env.MRCD_BENCH_CLUSTER_SERVERS;
  return !only || only.split(',').includes(['dev', 'cluster'][i]!);
});

export async function mcluster(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-mcluster-'));
  tempDirs.push(dir);
  const figures: EnvFigures[] = [];
  const started = Date.now();
  try {
    const bundle = join(dir, 'workflows.js');
    writeFileSync(bundle, (await workflowBundle()).code);
    for (const start of SERVERS) {
      const envDir = mkdtempSync(join(dir, 'env-'));
      const env = await start(envDir);
      say(`${env.label} on ${env.address}, ready after ${(env.setupMs / 1000).toFixed(1)} s`);
      try {
        figures.push(await runOn(env, envDir, bundle));
      } finally {
        killWorkers();
        await env.stop().catch(() => undefined);
        // Its store and the workers' logs (hundreds of MB in a livelocked ramp) are not needed by the next.
        rmSync(envDir, { recursive: true, force: true });
      }
    }
  } finally {
    killWorkers();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  results.cluster = {
    rollouts: N,
    regions: REGIONS.length,
    intervalMs: INTERVAL_MS,
    checkMs: CHECK_MS,
    historyShards: SHARDS,
    workers: WORKERS,
    workflowTaskSlots: WFT_SLOTS ?? 40,
    serverVersion: builder.VERSION,
    goals: GOALS,
    seconds: (Date.now() - started) / 1000,
    figures,
  };
  print(figures);
}

function print(figures: EnvFigures[]): void {
  const both = (f: (e: EnvFigures) => string) => figures.map(f);
  const s = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)} s` : x === Infinity ? 'never' : '—');
  const soakS = (x: number) => (x === Infinity ? `> ${RAMP_LIMIT_MS / 1000} s` : s(x));
  const met = (x: number, goal: number) => (Number.isNaN(x) ? '—' : x < goal ? 'met' : 'missed');
  const goalCell = (pick: (e: EnvFigures) => number, goal: number, text: string) => `${text}: ${both((e) => met(pick(e), goal)).join(' | ')}`;
  const t = table(['', ...figures.map((e) => e.env), `goal (${figures.map((e) => e.env.split(' (')[0]).join(' | ')})`]);
  const row = (what: string, f: (e: EnvFigures) => string, goal = '') => t.push([what, ...both(f), goal]);
  row('setup (server answering)', (e) => s(e.setupSeconds * 1000));
  row('ramp: all soaking after', (e) =>
    e.ramp.soaked < e.rollouts ? `never: ${e.ramp.soaked} of ${e.rollouts} after ${s(e.ramp.allSoakingSeconds * 1000)}` : s(e.ramp.allSoakingSeconds * 1000),
  );
  row(
    'ramp: time to soak p50 / p95',
    (e) => `${soakS(e.ramp.toSoakP50Ms)} / ${soakS(e.ramp.toSoakP95Ms)}`,
    goalCell((e) => e.ramp.toSoakP95Ms, GOALS.rampP95Ms, 'p95 < 5 s'),
  );
  row(
    'ramp: workflow task s2s p95',
    (e) => `${ms(e.ramp.workflowTaskP95Ms)} ms`,
    goalCell((e) => e.ramp.workflowTaskP95Ms, GOALS.rampP95Ms, '< 5000 ms'),
  );
  row(
    'ramp: activity s2s p95',
    (e) => `${ms(e.ramp.activityP95Ms)} ms`,
    goalCell((e) => e.ramp.activityP95Ms, GOALS.rampP95Ms, '< 5000 ms'),
  );
  row('ramp: rollout workflow task held by a worker p95', (e) => `${ms(e.ramp.workflowTaskHeldP95Ms)} ms`);
  row('ramp: policy consults (failed)', (e) => `${e.policy.consults} (${e.policy.failed})`);
  row(
    'ramp: why consults failed',
    (e) =>
      Object.entries(e.policy.reasons)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ') || '—',
  );
  row('ramp: consult answered p95', (e) => s(e.policy.answeredP95Ms));
  row('ramp: rollouts held as "policy unreadable"', (e) => String(e.policy.rolloutsHeldUnreadable));
  row('ramp: policy workflow history events at its end', (e) => String(e.policy.historyLength));
  row('ramp: policy workflow task s2s p95 / max', (e) => `${ms(e.ramp.policyTaskP95Ms)} / ${ms(e.ramp.policyTaskMaxMs)} ms`);
  row(`waves: the rest started again, ${FILL_WAVE} at a time`, (e) =>
    e.fill
      ? `${e.fill.restarted} soaking after ${s(e.fill.seconds * 1000)} more (a wave: p50 ${s(e.fill.waveP50Seconds * 1000)}, max ${s(e.fill.waveMaxSeconds * 1000)})`
      : '—',
  );
  row('waves: policy consults (failed), why', (e) =>
    e.fill
      ? `${e.fill.policy.consults} (${e.fill.policy.failed})${Object.entries(e.fill.policy.reasons)
          .map(([k, v]) => `, ${k} ×${v}`)
          .join('')}`
      : '—',
  );
  row('policy workflow runs by the end', (e) => String(e.policy.runs ?? '—'));
  row(
    'steady: pause round trip p50 / p99',
    (e) => `${ms(e.steady.pauseP50Ms)} / ${ms(e.steady.pauseP99Ms)} ms (${e.steady.pauses})`,
    goalCell((e) => e.steady.pauseP99Ms, GOALS.pauseP99Ms, 'p99 < 250 ms'),
  );
  row('steady: check s2s p95', (e) => `${ms(e.steady.checkP95Ms)} ms (${e.steady.checks} checks)`);
  row('steady: worker RSS', (e) => e.steady.workerRssMb.map((x) => `${x.toFixed(0)}`).join(' + ') + ' MB');
  row('steady: server RSS', (e) => `${e.steady.serverRssMb.toFixed(0)} MB`);
  row('steady: PostgreSQL PSS (all backends)', (e) => (e.steady.postgresPssMb !== undefined ? `${e.steady.postgresPssMb.toFixed(0)} MB` : '—'));
  row('steady: store per rollout', (e) => `${(e.steady.storeBytesPerRollout / 1024).toFixed(1)} KiB`);
  row('breach → rollback started p50 / max', (e) => `${ms(e.breach.toRollbackStartedP50Ms)} / ${ms(e.breach.toRollbackStartedMaxMs)} ms`);
  row('breach → rollback done / halted shown, max', (e) => `${ms(e.breach.toRollbackDoneMaxMs)} / ${ms(e.breach.toHaltedMaxMs)} ms`);
  row('kill -9: rollouts whose check was lost', (e) => String(e.kill.orphaned));
  row(
    'kill -9: those checked again after (from the kill) p50 / max',
    (e) => `${s(e.kill.orphanedCheckedAgainP50Ms)} / ${s(e.kill.orphanedCheckedAgainMaxMs)}`,
    goalCell((e) => e.kill.orphanedCheckedAgainMaxMs, GOALS.recoveryMs, 'max < 15 s'),
  );
  row(
    'kill -9: of those, handed to the worker after it died',
    (e) =>
      `${e.kill.handedToDeadWorker ?? '—'}${e.kill.handedToDeadWorker ? ` (due up to ${ms(e.kill.handedToDeadDueAfterKillMaxMs)} ms after the kill)` : ''}`,
  );
  row('kill -9: every rollout checked again after', (e) => s(e.kill.allCheckedAgainMaxMs));
  row('kill -9: pause acknowledged, max', (e) => s(e.kill.pauseAckMaxMs));
  row('kill -9: check s2s p95, one worker left', (e) => `${ms(e.kill.checkP95AfterMs)} ms`);
  console.log(
    `\nCluster mode: ${N} rollouts × ${REGIONS.length} regions, ${INTERVAL_MS / 1000} s checks taking ${CHECK_MS} ms, ${WORKERS} worker processes each with ${WFT_SLOTS ?? 40} workflow task slots; dev server (SQLite file) | temporal-server ${builder.VERSION} (${SHARDS} history shards) on PostgreSQL. Goals: ramp p95 < 5 s, steady pause p99 < 250 ms, recovery < 15 s`,
  );
  console.log(t.toString());

  const c = table(['phase', 'server', 'seconds', 'server cores', 'PostgreSQL cores', 'worker cores', 'bench cores', 'machine busy (of 2)', 'others']);
  for (const e of figures)
    for (const [name, p] of Object.entries(e.cpu))
      c.push([
        name,
        e.env,
        p.seconds.toFixed(0),
        p.server.toFixed(2),
        p.postgres !== undefined ? p.postgres.toFixed(2) : '—',
        p.workers.toFixed(2),
        p.bench.toFixed(2),
        p.machine.toFixed(2),
        p.others.toFixed(2),
      ]);
  console.log('\nCPU per phase, in cores (what limits: a machine near 2.00 busy is CPU-bound; "others" is load not started by the bench)');
  console.log(c.toString());

  const m = table(['phase', 'server', 'store calls/s', 'mean ms', 'most time in', "matching's schedule-to-start mean"]);
  for (const e of figures)
    for (const [name, p] of Object.entries(e.server))
      m.push(
        p
          ? [
              name,
              e.env,
              p.dbCallsPerS.toFixed(0),
              p.dbMeanMs.toFixed(1),
              p.dbTop,
              Object.entries(p.waitMeanMs)
                .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
                .join(', '),
            ]
          : [name, e.env, '—', '—', 'metrics unavailable', '—'],
      );
  console.log(`\nThe servers' own metrics per phase (their Prometheus endpoints): persistence (SQLite or PostgreSQL) and matching`);
  console.log(m.toString());
}

if (require.main === module) {
  // ^C or a timeout: the process groups started here are not in ours, so stop them. A signal
  // comes twice (to the group, and relayed by tsx): handled every time, acted on once.
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.error(`[mcluster] ${sig}: stopping every process started here`);
      killWorkers();
      void stopAll({ fast: true }).finally(() => {
        for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
        process.exit(1);
      });
    });
  const t0 = Date.now();
  mcluster().then(
    () => {
      const out = join(__dirname, 'results');
      mkdirSync(out, { recursive: true });
      const file = join(out, `latest-${QUICK ? 'quick-' : ''}cluster.json`);
      writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
      console.log(`\ncluster mode ${QUICK ? 'quick' : 'full'} done in ${((Date.now() - t0) / 1000).toFixed(0)} s; figures in ${file}`);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      killWorkers();
      void stopAll({ fast: true }).finally(() => process.exit(1));
    },
  );
}
