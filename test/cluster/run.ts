// `npm run test:cluster`: mrcd on a real, self-hosted Temporal cluster instead of the dev
// server. The production server (go.temporal.io/server, built once into .tools/ by
// scripts/build-temporal-server.js) on a private PostgreSQL, three worker processes
// (worker/main.ts) and the region simulator as the fleet. Six rollouts start at once through
// the real CLI (bin/mrcd.js), one of them a bad version; mid-flight one worker is killed
// with SIGKILL (and replaced) during the soaks, and later the server itself is killed with
// SIGKILL and started again on the same database. Then: every rollout reached its verdict,
// the simulator's ledger shows each region deployed exactly once per version (a bad one
// rolled back in its first region and nowhere else), and no process started here is left.
// Prints its figures; exits 1 on any violated check, 2 when the cluster cannot be set up.
// Not part of `npm test` (the first build takes ~5 minutes on 2 idle cores); .ci/run runs it
// after it. MRCD_CLUSTER_FAULTS=0: no kills (a baseline); MRCD_CLUSTER_ACTIVITY_SLOTS=n.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startSimulator, type Simulator } from '../../dev/simulator';
import { connectClient, getStatus, type MrcdClient } from '../../client/rollouts';
import type { RolloutStatus } from '../../domain/state';
import { startPostgres, type Postgres } from './postgres';
import { createCluster, registerNamespace, setupSchema, type TemporalCluster } from './temporal-cluster';
import { kill9, orphans, startProcess, stopAll, stopProcess, tail, type Proc } from './processes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const builder = require('../../scripts/build-temporal-server.js') as {
  VERSION: string;
  ensureTemporalServer(o?: { say?: (l: string) => void }): Promise<{ server: string; sqlTool: string; schema: string; built: boolean }>;
};

const ROOT = resolve(__dirname, '../..');
const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const TASK_QUEUE = `cluster-${process.pid}`;
const TOKEN = `cluster-${process.pid}-token`;
const SOAK = '5s';
/** Good rollouts, and one bad version that must be caught in its first region. */
const GOOD = ['billing', 'cart', 'catalog', 'search', 'profile'];
const BAD = 'checkout';
const NEW_VERSION = '2.0.0';
const OLD_VERSION = '1.0.0';
const WORKERS = 3;
/** Activity slots per worker: small on purpose, to show what the scenario needs (docs/operations.md). */
const ACTIVITY_SLOTS = Number(process.env.MRCD_CLUSTER_ACTIVITY_SLOTS ?? 10);
/** MRCD_CLUSTER_FAULTS=0: no kills, for a baseline to compare the figures with. */
const FAULTS = process.env.MRCD_CLUSTER_FAULTS !== '0';
const SCENARIO_DEADLINE_MS = 6 * 60_000;

const say = (line: string) => process.stdout.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const failures: string[] = [];
/** Removed at the end, and on SIGINT/SIGTERM. */
const tempDirs: string[] = [];
function check(ok: boolean, what: string): void {
  say(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

function plan(service: string, simUrl: string) {
  return {
    apiVersion: 'mrcd/v1',
    service,
    version: NEW_VERSION,
    owner: { team: 'platform', contact: '#platform-oncall', runbook: 'https://runbooks.example.com/cluster-test' },
    deployer: { type: 'http', baseUrl: simUrl, pollInterval: '250ms', timeout: '1m', tokenEnv: 'MRCD_CLUSTER_DEPLOY_TOKEN' },
    defaults: {
      soak: SOAK,
      soakReason: 'the cluster test soaks for seconds',
      checkInterval: '1s',
      gate: {
        maxInconclusive: 10,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${simUrl}/health/{{region}}?service={{service}}`, path: 'errorRatio', tokenEnv: 'MRCD_CLUSTER_DEPLOY_TOKEN' },
            comparator: '<',
            threshold: 0.02,
          },
        ],
      },
    },
    regions: REGIONS.map((name, i) => ({ name, size: (i + 1) * 10 })),
  };
}

/** Runs bin/mrcd.js against the cluster; resolves with its exit code and output. */
function mrcd(cluster: TemporalCluster, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/mrcd.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: cluster.namespace, MRCD_TASK_QUEUE: TASK_QUEUE, MRCD_USER: 'cluster-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => res({ code, out }));
  });
}

/** RSS in MB of each named process group's members, summed. */
function sampleRss(procs: Proc[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of procs) {
    if (!p.running()) continue;
    try {
      const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out.set(p.name, kb / 1024);
    } catch {
      // gone between the check and the read
    }
  }
  return out;
}

/**
 * Mean and share over 1 s of a server histogram (seconds), per task_type / operation label,
 * from the server's Prometheus endpoint: how long tasks waited for a worker slot.
 */
async function serverHistogram(metricsPort: number, name: string, by: string): Promise<Map<string, { count: number; meanMs: number; over1s: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const acc = new Map<string, { sum: number; count: number; le1: number }>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!m || !m[1]!.startsWith(name)) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = labels[by] ?? '?';
    const a = acc.get(key) ?? { sum: 0, count: 0, le1: 0 };
    const v = Number(m[3]);
    if (m[1] === `${name}_sum`) a.sum += v;
    else if (m[1] === `${name}_count`) a.count += v;
    else if (m[1] === `${name}_bucket` && labels.le === '1') a.le1 += v;
    acc.set(key, a);
  }
  return new Map(
    [...acc].filter(([, a]) => a.count > 0).map(([k, a]) => [k, { count: a.count, meanMs: (a.sum / a.count) * 1000, over1s: (a.count - a.le1) / a.count }]),
  );
}

type Histograms = { wait: Map<string, { count: number; meanMs: number; over1s: number }>; db: { count: number; meanMs: number } } | Error;

async function scrape(metricsPort: number): Promise<Histograms> {
  try {
    const wait = await serverHistogram(metricsPort, 'task_schedule_to_start_latency', 'task_type');
    const ops = await serverHistogram(metricsPort, 'persistence_latency', 'operation');
    const total = [...ops.values()].reduce((a, h) => ({ count: a.count + h.count, ms: a.ms + h.meanMs * h.count }), { count: 0, ms: 0 });
    return { wait, db: { count: total.count, meanMs: total.count ? total.ms / total.count : 0 } };
  } catch (e) {
    return e as Error;
  }
}

function serverFigures(which: string, h: Histograms): string {
  if (h instanceof Error) return `${which}: metrics unavailable (${h.message})`;
  const waits = [...h.wait].map(
    ([type, w]) => `${type} tasks ${w.count}, waited for a worker ${w.meanMs.toFixed(0)} ms mean, ${(w.over1s * 100).toFixed(1)}% over 1 s`,
  );
  return `${which}: ${[...waits, `PostgreSQL ${h.db.count} calls, ${h.db.meanMs.toFixed(1)} ms mean`].join('; ')}`;
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const timings: [string, number][] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-cluster-'));
  tempDirs.push(dir);
  let pg: Postgres | undefined;
  let cluster: TemporalCluster | undefined;
  let sim: Simulator | undefined;
  let m: MrcdClient | undefined;
  const workers: Proc[] = [];
  let keep = false;
  try {
    // 1. The server binaries (built once; a second run only checks their version).
    let t0 = Date.now();
    let tools;
    try {
      tools = await builder.ensureTemporalServer({ say: (l) => say(`[mrcd] ${l}`) });
    } catch (e) {
      say(`[mrcd] ${(e as Error).message}`);
      return 2;
    }
    timings.push([tools.built ? 'build temporal-server (first)' : 'build temporal-server (cached)', Date.now() - t0]);

    // 2. PostgreSQL: initdb, start, databases and schema.
    t0 = Date.now();
    pg = await startPostgres(say);
    tempDirs.push(pg.dir);
    const pgStart = Date.now() - t0;
    t0 = Date.now();
    setupSchema(tools, pg);
    const schema = Date.now() - t0;
    timings.push([`postgres ${pg.major} initdb + start`, pgStart], ['schema (temporal-sql-tool)', schema]);
    say(`[cluster] postgres ${pg.major} on 127.0.0.1:${pg.port}, schema set up`);

    // 3. The server on it; namespace and search attributes as an operator registers them.
    cluster = await createCluster(tools, pg, dir);
    timings.push(['server start (until the frontend answers)', await cluster.start()]);
    t0 = Date.now();
    await registerNamespace(cluster);
    timings.push(['namespace + search attributes', Date.now() - t0]);
    say(`[cluster] temporal-server ${builder.VERSION} on ${cluster.address} (namespace ${cluster.namespace})`);

    // 4. The scenario.
    sim = await startSimulator({
      regions: REGIONS,
      initialVersions: Object.fromEntries([...GOOD, BAD].map((s) => [s, OLD_VERSION])),
      deployDelayMs: 300,
      requireToken: TOKEN,
    });
    sim.markBad(NEW_VERSION, BAD);
    t0 = Date.now();
    const bundle = join(dir, 'workflow-bundle.js');
    const b = await new Promise<number | null>((res) =>
      spawn(process.execPath, [join(ROOT, 'scripts/bundle-workflows.js'), bundle], { cwd: ROOT, stdio: 'inherit' }).on('close', res),
    );
    if (b !== 0 || !existsSync(bundle)) throw new Error('scripts/bundle-workflows.js failed');
    timings.push(['workflow bundle (once, for every worker)', Date.now() - t0]);

    let workerSeq = 0;
    const startWorker = async (): Promise<{ proc: Proc; ms: number }> => {
      const started = Date.now();
      workerSeq += 1;
      let ready: () => void = () => {};
      const isReady = new Promise<void>((r) => (ready = r));
      const proc = startProcess(
        `worker#${workerSeq}`,
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'worker/main.ts')],
        join(dir, `worker-${workerSeq}.log`),
        {
          cwd: ROOT,
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: cluster!.address,
            TEMPORAL_NAMESPACE: cluster!.namespace,
            MRCD_TASK_QUEUE: TASK_QUEUE,
            MRCD_LOG_LEVEL: 'info',
            MRCD_LOG_FORMAT: 'json',
            MRCD_SHUTDOWN_GRACE: '2s',
            MRCD_WORKFLOW_BUNDLE: bundle,
            MRCD_MAX_CONCURRENT_ACTIVITIES: String(ACTIVITY_SLOTS),
            MRCD_CLUSTER_DEPLOY_TOKEN: TOKEN,
          },
          onLine: (l) => l.includes('"worker started"') && ready(),
        },
      );
      const outcome = await Promise.race([
        isReady.then(() => 'ready' as const),
        proc.exited.then(() => 'exited' as const),
        sleep(60_000).then(() => 'timeout' as const),
      ]);
      if (outcome !== 'ready') throw new Error(`${proc.name} did not start (${outcome}):\n${tail(proc)}`);
      workers.push(proc);
      return { proc, ms: Date.now() - started };
    };
    const firstWorkers = await Promise.all(Array.from({ length: WORKERS }, () => startWorker()));
    timings.push([`${WORKERS} workers start (in parallel, prebuilt bundle)`, Math.max(...firstWorkers.map((w) => w.ms))]);

    m = await connectClient({ address: cluster.address, namespace: cluster.namespace, taskQueue: TASK_QUEUE });
    const services = [...GOOD, BAD];
    for (const s of services) writeFileSync(join(dir, `${s}.yaml`), stringify(plan(s, sim.url)));
    t0 = Date.now();
    const starts = await Promise.all(services.map((s) => mrcd(cluster!, ['deploy', join(dir, `${s}.yaml`), '--by', 'cluster-test'])));
    timings.push([`${services.length} × mrcd deploy at once`, Date.now() - t0]);
    starts.forEach((r, i) => {
      if (r.code !== 0) say(r.out);
      check(r.code === 0, `mrcd deploy ${services[i]} exited 0`);
    });
    const rolloutStart = Date.now();

    // Status of every rollout, polled throughout; failures while the server is down are counted.
    const latest = new Map<string, RolloutStatus>();
    const endedAt = new Map<string, number>();
    const haltedAt = new Map<string, number>();
    /** When the first region was seen failed or rolling back. */
    const caughtAt = new Map<string, number>();
    let pollErrors = 0;
    let polls = 0;
    let cleanRounds = 0;
    const peak = { soaking: 0, deploying: 0 };
    const rssPeak = new Map<string, number>();
    const rssStart = new Map<string, number>();
    let polling = true;
    const procsToSample = () => [...workers, ...(cluster?.proc() ? [cluster.proc()!] : [])];
    const poller = (async () => {
      while (polling) {
        const roundErrors = pollErrors;
        await Promise.all(
          services.map(async (s) => {
            polls += 1;
            try {
              const st = await getStatus(m!, s);
              latest.set(s, st);
              if (['succeeded', 'aborted', 'failed', 'rolled-back'].includes(st.state) && !endedAt.has(s)) endedAt.set(s, Date.now());
              if (st.state === 'halted' && !haltedAt.has(s)) haltedAt.set(s, Date.now());
              if (['failed', 'rolling-back', 'rolled-back'].includes(st.regions[0]?.status ?? '') && !caughtAt.has(s)) caughtAt.set(s, Date.now());
            } catch {
              pollErrors += 1;
            }
          }),
        );
        if (pollErrors === roundErrors) cleanRounds += 1;
        const regions = [...latest.values()].flatMap((st) => st.regions);
        peak.soaking = Math.max(peak.soaking, regions.filter((r) => r.status === 'soaking' || r.status === 'gating').length);
        peak.deploying = Math.max(peak.deploying, regions.filter((r) => r.status === 'deploying' || r.status === 'rolling-back').length);
        for (const [name, mb] of sampleRss(procsToSample())) {
          const key = name.replace(/#\d+$/, '');
          rssPeak.set(key, Math.max(rssPeak.get(key) ?? 0, mb));
          if (!rssStart.has(key)) rssStart.set(key, mb);
        }
        await sleep(250);
      }
    })();
    const waitFor = async (what: string, cond: () => boolean, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${[...latest.values()].map((s) => `${s.service}=${s.state}`).join(' ')}`);
        await sleep(100);
      }
    };
    const soakingNow = () => [...latest.values()].filter((s) => s.regions.some((r) => r.status === 'soaking')).length;
    const inSecondRegion = () => [...latest.values()].filter((s) => s.regions[1] && s.regions[1].status !== 'pending').length;

    try {
      let beforeKill: Histograms | undefined;
      if (FAULTS) {
        // A worker dies mid-soak; a new one takes its place.
        await waitFor('three rollouts soaking', () => soakingNow() >= 3);
        const victim = workers[0]!;
        await kill9(victim);
        const killedWorkerAt = Date.now() - rolloutStart;
        const replacement = await startWorker();
        say(
          `[cluster] kill -9 ${victim.name} at +${secs(killedWorkerAt)} with ${soakingNow()} rollouts soaking; ${replacement.proc.name} polling after ${secs(replacement.ms)}`,
        );
        timings.push(['replacement worker start', replacement.ms]);

        // The server dies while rollouts are in flight (some in their second region), and comes back.
        await waitFor('three rollouts in their second region', () => inSecondRegion() >= 3);
        const inFlight = [...latest.values()].filter((s) => !['succeeded', 'aborted', 'halted'].includes(s.state)).length;
        const errorsBefore = pollErrors;
        const killedAt = Date.now();
        beforeKill = await scrape(cluster.ports.metrics);
        await cluster.kill9();
        await sleep(1000);
        const restart = await cluster.start();
        // Until a whole round of status reads (one per rollout) answers again.
        const roundsBefore = cleanRounds;
        await waitFor('every rollout to answer a status query after the restart', () => cleanRounds > roundsBefore + 1, 60_000);
        const answeredMs = Date.now() - killedAt;
        say(
          `[cluster] kill -9 temporal-server at +${secs(killedAt - rolloutStart)} with ${inFlight} rollouts in flight; serving again after ${secs(restart)}, every rollout answering ${secs(answeredMs)} after the kill${pollErrors > errorsBefore ? ` (${pollErrors - errorsBefore} status reads failed meanwhile)` : ''}`,
        );
        timings.push(['server restart after kill -9 (until the frontend answers)', restart], ['kill -9 → every rollout answers its status query', answeredMs]);
      }

      // Verdicts: the good ones succeed; the bad one halts in its first region, rolled back.
      await waitFor(
        'every good rollout to succeed and the bad one to halt',
        () => GOOD.every((s) => endedAt.has(s)) && haltedAt.has(BAD),
        SCENARIO_DEADLINE_MS,
      );
      const halted = latest.get(BAD)!;
      const abort = await mrcd(cluster, ['abort', BAD, '--reason', 'bad build caught by the cluster test', '--by', 'cluster-test']);
      check(abort.code === 0, `mrcd abort ${BAD} exited 0${abort.code === 0 ? '' : `: ${abort.out.trim()}`}`);
      await waitFor(`${BAD} to end`, () => endedAt.has(BAD), 120_000);
      const scenarioMs = Date.now() - rolloutStart;
      polling = false;
      await poller;

      say('\nverdicts');
      for (const s of GOOD) check(latest.get(s)?.state === 'succeeded', `${s} ${NEW_VERSION}: succeeded (${latest.get(s)?.state})`);
      check(halted.halt?.region === REGIONS[0], `${BAD} ${NEW_VERSION}: halted in ${REGIONS[0]} (${halted.halt?.region})`);
      // A breach mid-soak, or the gate at the soak's end when the kill -9 took the worker that
      // held the soak's checks (their retry waits out the activity's timeout): either way the
      // version failed its SLO there, by a check's failing value.
      const cause = halted.halt?.cause;
      check(
        (cause?.kind === 'slo-breach' || cause?.kind === 'gate-failed') && cause.verdict === 'fail',
        `${BAD}: the cause is its SLO failing (${cause?.kind}, ${cause?.check} ${cause?.verdict})`,
      );
      check(latest.get(BAD)?.state === 'aborted', `${BAD}: aborted by the operator after the halt (${latest.get(BAD)?.state})`);

      say('\nledger (simulator)');
      const ledger = sim.ledger();
      const deploys = ledger.filter((e) => e.kind === 'deploy');
      const perRegion = new Map<string, number>();
      for (const e of deploys) perRegion.set(`${e.service}/${e.region}/${e.version}`, (perRegion.get(`${e.service}/${e.region}/${e.version}`) ?? 0) + 1);
      const twice = [...perRegion].filter(([, n]) => n !== 1);
      check(
        twice.length === 0,
        `every region deployed exactly once per version (${deploys.length} deploys${twice.length ? `; more than once: ${twice.map(([k, n]) => `${k}×${n}`).join(', ')}` : ''})`,
      );
      const keys = new Set(ledger.map((e) => e.idempotencyKey));
      check(keys.size === ledger.length, `one ledger entry per idempotency key (${ledger.length} entries, ${keys.size} keys)`);
      for (const s of GOOD) {
        const mine = ledger.filter((e) => e.service === s).map((e) => `${e.kind} ${e.region} ${e.version}`);
        const want = REGIONS.map((r) => `deploy ${r} ${NEW_VERSION}`);
        check(
          JSON.stringify(mine) === JSON.stringify(want),
          `${s}: deployed to ${REGIONS.join(' → ')} in order, nothing rolled back${mine.length === 3 ? '' : ` (${mine.join(', ')})`}`,
        );
        check(
          REGIONS.every((r) => sim!.versionOf(s, r) === NEW_VERSION),
          `${s}: every region runs ${NEW_VERSION}`,
        );
      }
      const bad = ledger.filter((e) => e.service === BAD).map((e) => `${e.kind} ${e.region} ${e.version}`);
      check(
        JSON.stringify(bad) === JSON.stringify([`deploy ${REGIONS[0]} ${NEW_VERSION}`, `rollback ${REGIONS[0]} ${OLD_VERSION}`]),
        `${BAD}: deployed to ${REGIONS[0]} only and rolled back there; nothing after the failed region (${bad.join(', ')})`,
      );
      check(
        REGIONS.every((r) => sim!.versionOf(BAD, r) === OLD_VERSION),
        `${BAD}: every region runs ${OLD_VERSION} again`,
      );

      say('\nfigures');
      for (const s of services) {
        const end = endedAt.get(s);
        say(
          `  ${s.padEnd(9)} ${latest.get(s)?.state.padEnd(10)} ${end ? secs(end - rolloutStart) : '-'}${s === BAD ? ` (failed in ${REGIONS[0]} at ${secs((caughtAt.get(s) ?? NaN) - rolloutStart)}, halted at ${secs(haltedAt.get(s)! - rolloutStart)})` : ''}`,
        );
      }
      say(`  scenario: ${services.length} rollouts × ${REGIONS.length} regions, soak ${SOAK}: ${secs(scenarioMs)} from the deploys to the last verdict`);
      say(`  peak at once: ${peak.soaking} regions soaking or gating, ${peak.deploying} deploying or rolling back`);
      say(`  status reads: ${polls}, failed: ${pollErrors}${FAULTS ? " (the client retries through the server's restart)" : ''}`);
      say(`  RSS at start → peak: ${[...rssPeak].map(([n, mb]) => `${n} ${(rssStart.get(n) ?? 0).toFixed(0)} → ${mb.toFixed(0)} MB`).join(', ')}`);
      // The server's own view: how long tasks waited for a worker slot, and PostgreSQL's latency.
      if (beforeKill) {
        say(`  ${serverFigures('first server (start → kill -9, a worker killed meanwhile)', beforeKill)}`);
        say(`  ${serverFigures('restarted server (restart → end, recovery included)', await scrape(cluster.ports.metrics))}`);
      } else say(`  ${serverFigures('server (no faults injected)', await scrape(cluster.ports.metrics))}`);
      timings.push(['scenario (deploys → last verdict)', scenarioMs]);
    } finally {
      polling = false;
      await poller;
    }

    // Workers stop gracefully; everything else is stopped in the finally below.
    for (const w of workers) {
      if (!w.running()) continue;
      await stopProcess(w, 'SIGTERM', 15_000);
      const { code, signal } = await w.exited;
      check(code === 0, `${w.name} stopped on SIGTERM with exit 0 (${code ?? signal})`);
    }
    timings.push(['total', Date.now() - startedAt]);
    return 0;
  } catch (e) {
    say(`\n[cluster] error: ${(e as Error).stack ?? String(e)}`);
    for (const w of workers) if (w.running()) say(`--- ${w.name} ---\n${tail(w, 15)}`);
    if (process.env.MRCD_CLUSTER_KEEP === '1') keep = true;
    failures.push((e as Error).message.split('\n')[0]!);
    return 1;
  } finally {
    await m?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    await stopAll();
    const left = orphans();
    check(left.length === 0, `no process left behind${left.length ? `: ${left.map((o) => `${o.name} (${o.pids.join(' ')})`).join(', ')}` : ''}`);
    check(!pg || !existsSync(pg.dir), 'the PostgreSQL cluster directory is deleted');
    if (keep) say(`[cluster] logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    say('\ntimings');
    for (const [what, ms] of timings) say(`  ${what.padEnd(58)} ${secs(ms)}`);
  }
}

// `timeout` (.ci/run) or ^C: the process groups started here are not in ours, so stop them.
// A signal arrives more than once (timeout signals the group, and tsx relays it to us again):
// handled every time, acted on once, so a second one cannot end us half way through.
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    say(`[cluster] ${sig}: stopping every process started here`);
    void stopAll({ fast: true }).finally(() => {
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
      process.exit(1);
    });
  });
}

main().then(
  (code) => {
    const exit = code !== 0 ? code : failures.length ? 1 : 0;
    say(exit === 0 ? '\ntest:cluster passed' : `\ntest:cluster FAILED: ${failures.length ? failures.join('; ') : `exit ${exit}`}`);
    process.exit(exit);
  },
  (e) => {
    say(`test:cluster crashed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
