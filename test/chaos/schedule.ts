// The chaos run's whole plan, drawn from one seed before anything starts: which rollouts
// (good, bad, aborted), their plans and operator actions, when workers and the server are
// killed, and which endpoint faults hit which region when. The same seed gives the same
// schedule, so `MRCD_CHAOS_SEED=<n> npm run chaos` replays a run's faults (the moments
// they land in the rollouts still depend on the machine's timing).

/** mulberry32: small, fast, and good enough to spread faults; not for anything secret. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ALL_REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1', 'us-west-2'] as const;
export const OLD_VERSION = '1.0.0';
export const NEW_VERSION = '2.0.0';

/** What the operator (the harness) does to one rollout, besides answering halts. */
export type OperatorPlan =
  | { kind: 'none' }
  /** Pause once `region` soaks, resume after `holdMs`. */
  | { kind: 'pause-resume'; region: number; holdMs: number }
  /** Skip the soak of `region` once it soaks. */
  | { kind: 'skip-soak'; region: number }
  /** Abort once `region` has left pending (deploying, soaking, awaiting approval...). */
  | { kind: 'abort'; region: number };

export interface RolloutSpec {
  index: number;
  service: string;
  /** good: the version is healthy; bad: sim.markBad before it starts. */
  truth: 'good' | 'bad';
  regions: string[];
  soakMs: number;
  checkIntervalMs: number;
  /** An expand and a contract migration whose commands append a line per run to a file. */
  migrations: boolean;
  /** A region (index) that needs approval; the operator approves when it waits. */
  approvalRegion?: number;
  operator: OperatorPlan;
  /** Bad versions: the operator retries the halt once (the region fails again) before aborting. */
  retryBadOnce: boolean;
  startAtMs: number;
  /** A workflow cancel (what the Web UI's Cancel sends) at a phase of the rollout; see CancelAt. */
  cancel?: CancelAt;
  /** A change by hand: the region set back to the old version while it soaks or waits for approval. */
  drift?: DriftPlan;
}

/**
 * Where a workflow cancel lands. soak: while `region` soaks (an abort: expected aborted);
 * approval: instead of approving the approval region; halted: instead of the operator's abort
 * of a bad version's halt; rollback-failed: during the operator's abort, a rollback made to fail
 * once (an accepted no-op, then the operator's retry); contract: once every region is promoted
 * (refused past the point of no return, or an abort if it lands before the contract runs).
 */
export type CancelAt = 'soak' | 'approval' | 'halted' | 'rollback-failed' | 'contract';

export interface DriftPlan {
  /** The region (index) changed by hand. */
  region: number;
  during: 'soak' | 'approval';
  /** The operator's answer to the not-running-version halt it causes. */
  then: 'retry' | 'abort';
}

export type FaultKind = '5xx' | 'latency' | 'hang' | 'drop';

export interface FaultEvent {
  atMs: number;
  kind: FaultKind;
  /** A region, or undefined for every region. */
  region?: string;
  durationMs: number;
  /** 5xx: the error rate; latency: ms per call. */
  value?: number;
}

export interface KillEvent {
  atMs: number;
  /** Which worker slot (index into the live workers, modulo their number). */
  slot: number;
  /**
   * Kill the replacement too, as soon as it has polled for the engine's minimum life: the
   * moment it runs its first tasks of the rollouts it took over (issue 20 item 6).
   */
  followUp?: boolean;
}

export interface ChaosConfig {
  rollouts: number;
  workers: number;
  workerKills: number;
  serverRestarts: number;
  faults: number;
  /** Rollouts start spread over this window; kills, faults and restarts fall inside it. */
  windowMs: number;
  /** The share of kills whose replacement is killed too, on its first tasks after the failover. */
  followUpShare: number;
}

export interface Schedule {
  seed: number;
  config: ChaosConfig;
  rollouts: RolloutSpec[];
  kills: KillEvent[];
  serverRestarts: number[];
  faults: FaultEvent[];
  /** Regions whose rollbacks undo one revision (`kubectl rollout undo`) for the whole run. */
  undoRollbackRegions: string[];
  /** The fleet policy of the run: a region limited to `limit` rollouts at once, frozen over [fromMs, untilMs) of the window. */
  policy: { region: string; limit: number; freeze: { fromMs: number; untilMs: number } };
}

/** The bounded run inside npm test, and the full run (npm run chaos). */
// A kill every ~2.8 s over 90 s: at one every 2 s (a 64 s window) on a machine also running
// another test suite, a rollout's workflow task was lost to kills often enough that Temporal's
// lengthened task timeout held it past the run's 90 s tail.
// Few kills after a failover here (about 3 more): each is one more lost workflow task.
export const BOUNDED: ChaosConfig = { rollouts: 12, workers: 2, workerKills: 32, serverRestarts: 1, faults: 10, windowMs: 90_000, followUpShare: 0.1 };
// A kill every ~3.2 s. At one every ~2.8 s on a machine loaded by other work (load 17, workers
// ~10 s to start, each killed ~8 s after it polled), a workflow task was lost to kills ten times
// in a row and Temporal's lengthened timeout for a task retried that often (up to 10 min) held
// its rollout past the run (seed 20261202, bench/results/chaos-2026-12-02-seed-20261202.json).
export const FULL: ChaosConfig = { rollouts: 54, workers: 3, workerKills: 225, serverRestarts: 2, faults: 80, windowMs: 14 * 60_000, followUpShare: 0.25 };

export function makeSchedule(seed: number, config: ChaosConfig): Schedule {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const W = config.windowMs;

  const rollouts: RolloutSpec[] = [];
  // Rollouts start over the first 85% of the window so the last ones still meet faults.
  for (let i = 0; i < config.rollouts; i++) {
    const nRegions = int(3, 4);
    const regions = ALL_REGIONS.slice(0, nRegions);
    const roll = rnd();
    // Roughly: 45% good and left alone, 15% good with pause/resume, 10% skip-soak, 10% aborted, 20% bad.
    const truth: RolloutSpec['truth'] = roll < 0.8 ? 'good' : 'bad';
    let operator: OperatorPlan = { kind: 'none' };
    if (truth === 'good') {
      if (roll < 0.15) operator = { kind: 'pause-resume', region: int(0, nRegions - 1), holdMs: int(1_000, 4_000) };
      else if (roll < 0.25) operator = { kind: 'skip-soak', region: int(0, nRegions - 1) };
      // Never the last region: an abort there may come after the rollout has succeeded.
      else if (roll < 0.35) operator = { kind: 'abort', region: int(0, nRegions - 2) };
    }
    rollouts.push({
      index: i,
      service: `chaos-${seed >>> 0}-${i}`.slice(0, 63),
      truth,
      regions: [...regions],
      soakMs: int(2, 4) * 1000,
      checkIntervalMs: pick([500, 750, 1000]),
      migrations: rnd() < 0.3,
      ...(truth === 'good' && rnd() < 0.25 ? { approvalRegion: int(1, nRegions - 1) } : {}),
      operator,
      retryBadOnce: truth === 'bad' && rnd() < 0.5,
      startAtMs: Math.round((i / config.rollouts) * W * 0.85 + rnd() * 1000),
    });
  }

  // Kills spread over the part of the window where rollouts start (so every kill lands while
  // rollouts are in flight, and none is dropped because all have ended): a gap drawn around the mean.
  const kills: KillEvent[] = [];
  const killWindow = W * 0.85;
  const mean = (killWindow - 3_000) / config.workerKills;
  let t = 3_000;
  for (let i = 0; i < config.workerKills; i++) {
    t += mean * (0.3 + 1.4 * rnd());
    kills.push({ atMs: Math.round(Math.min(t, killWindow)), slot: int(0, config.workers - 1) });
  }

  const serverRestarts: number[] = [];
  for (let i = 0; i < config.serverRestarts; i++) {
    // One in each equal slice of the window's middle, so restarts are apart.
    const slice = (W * 0.8) / config.serverRestarts;
    serverRestarts.push(Math.round(W * 0.1 + slice * i + slice * (0.2 + 0.6 * rnd())));
  }

  const faults: FaultEvent[] = [];
  for (let i = 0; i < config.faults; i++) {
    const kind = pick(['5xx', '5xx', 'latency', 'hang', 'drop'] as const);
    const region = rnd() < 0.75 ? pick(ALL_REGIONS) : undefined;
    // Short: a longer hang or drop makes a gate inconclusive for longer than maxSoak allows,
    // which is a legitimate halt, not a fault the rollout should ride out.
    const durationMs = kind === 'hang' || kind === 'drop' ? int(500, 2_000) : int(1_000, 5_000);
    const value = kind === '5xx' ? pick([0.2, 0.34, 0.5]) : kind === 'latency' ? int(200, 1_500) : undefined;
    faults.push({ atMs: int(2_000, W), kind, ...(region ? { region } : {}), durationMs, ...(value !== undefined ? { value } : {}) });
  }
  faults.sort((a, b) => a.atMs - b.atMs);

  ensureCoverage(rollouts);
  const undoRollbackRegions = drawEdges(seed, rollouts, kills, config.followUpShare);
  // Every rollout goes through the second region: it is the one limited and frozen, a third
  // of the way into the window for a twentieth of it (at least 15 s). Drawn from nothing:
  // the same for every seed, so a replay changes no other draw.
  const freezeFrom = Math.round(W * 0.35);
  const policy = { region: ALL_REGIONS[1], limit: 2, freeze: { fromMs: freezeFrom, untilMs: freezeFrom + Math.max(15_000, Math.round(W * 0.05)) } };
  return { seed, config, rollouts, kills, serverRestarts, faults, undoRollbackRegions, policy };
}

/**
 * Issue 20's edges, drawn from a stream of their own (seeded from the seed) after everything
 * else, so a seed's rollouts, kills and faults stay what they were before these existed.
 * Every rollout draws the same number of values whatever it gets, so one's draw does not
 * shift the next's.
 */
function drawEdges(seed: number, rollouts: RolloutSpec[], kills: KillEvent[], followUpShare: number): string[] {
  const rnd = prng((seed ^ 0x5bd1e995) >>> 0);
  for (const r of rollouts) {
    const [a, b, c, d] = [rnd(), rnd(), rnd(), rnd()];
    const n = r.regions.length;
    const plainGood = r.truth === 'good' && r.operator.kind === 'none';
    if (r.truth === 'bad' && a < 0.4) r.cancel = 'halted';
    else if (r.truth === 'good' && r.operator.kind === 'abort' && a < 0.5) r.cancel = 'rollback-failed';
    else if (plainGood && r.approvalRegion !== undefined && a < 0.3) r.cancel = 'approval';
    else if (plainGood && r.migrations && a < 0.4) r.cancel = 'contract';
    else if (plainGood && a < 0.12) r.cancel = 'soak';
    if (plainGood && !r.cancel && b < 0.35) {
      // A soak drift never in the last region: changed after the rollout's last read, the
      // rollout would rightly have succeeded. An approval hold is re-read at promotion.
      const during = r.approvalRegion !== undefined && c < 0.6 ? 'approval' : 'soak';
      r.drift = { region: during === 'approval' ? r.approvalRegion! : Math.floor(c * (n - 1)), during, then: d < 0.3 ? 'abort' : 'retry' };
    }
  }
  // A cancel and a drift in every schedule where some rollout can take one.
  const soakCancel = rollouts.find((r) => r.truth === 'good' && r.operator.kind === 'none' && !r.cancel && !r.drift);
  if (!rollouts.some((r) => r.cancel) && soakCancel) soakCancel.cancel = 'soak';
  const drifter = rollouts.find((r) => r.truth === 'good' && r.operator.kind === 'none' && !r.cancel && !r.drift);
  if (!rollouts.some((r) => r.drift) && drifter) drifter.drift = { region: 0, during: 'soak', then: 'retry' };
  const undo = ALL_REGIONS.filter(() => rnd() < 0.5);
  // Some kills take the replacement down too, on its first tasks after the failover.
  for (const k of kills) if (rnd() < followUpShare) k.followUp = true;
  // The first region always: it is where bad versions are rolled back (and retried).
  return undo.includes(ALL_REGIONS[0]) ? [...undo] : [ALL_REGIONS[0], ...undo];
}

/**
 * A dozen rollouts drawn at random may hold no bad version or no abort (0.8^12: one seed in 14).
 * Then the first suitable rollouts become one, without drawing again, so every other seed's
 * schedule stays what it was.
 */
function ensureCoverage(rollouts: RolloutSpec[]): void {
  const plain = () => rollouts.find((r, i) => i > 0 && r.truth === 'good' && r.operator.kind === 'none' && r.approvalRegion === undefined);
  if (!rollouts.some((r) => r.truth === 'bad')) {
    const r = plain();
    if (r) Object.assign(r, { truth: 'bad', retryBadOnce: true });
  }
  if (!rollouts.some((r) => r.operator.kind === 'abort')) {
    const r = plain();
    if (r) r.operator = { kind: 'abort', region: 0 };
  }
}

/** A seed from the environment (MRCD_CHAOS_SEED), else a fresh one. */
export function chaosSeed(env: Record<string, string | undefined> = process.env): number {
  const given = env.MRCD_CHAOS_SEED;
  if (given !== undefined && given.trim() !== '') {
    const n = Number(given);
    if (!Number.isInteger(n)) throw new Error(`MRCD_CHAOS_SEED must be an integer, got "${given}"`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
