// `mrcd plan`: what a rollout of a plan would do, without starting anything — the regions in
// order, what each soaks and is gated on, approvals, deploy windows, migrations, and when
// each region could start and finish if nothing fails. Pure: the clock is an input.
import Table from 'cli-table3';
import { formatDuration } from '../domain/duration';
import { computeDeployWindow, describeWindow, NoDeployWindowError } from '../plan/windows';
import type { NormalizedPlan, NormalizedMigration, NormalizedRegion } from '../plan/normalize';
import type { PlanProblem } from '../plan/problem';
import type { RegionPower } from './comparison-power';

export interface PreviewOptions {
  /** When the rollout would start (epoch ms). */
  startAt: number;
  /** How long one region's deploy is assumed to take. */
  deployMs: number;
}

/** A region as the plan normalizes it, with what the preview works out for it. */
export interface RegionPreview extends Pick<NormalizedRegion, 'name' | 'size' | 'soakMs' | 'maxSoakMs' | 'checkIntervalMs' | 'approval' | 'soakAuto'> {
  checks: { name: string; source: string; comparator: string; threshold: number }[];
  window?: string;
  /** ISO instants; absent from the first region whose window never opens on. */
  earliestStart?: string;
  done?: string;
  /** Why the start is later than the region before it finished (a closed window). */
  waitReason?: string;
  /** The window never opens within a year for this soak. */
  never?: string;
}

export interface PlanPreview {
  service: string;
  version: string;
  owner: { team: string; contact: string; runbook?: string };
  failurePolicy: 'halt' | 'rollback-all';
  startAt: string;
  regions: RegionPreview[];
  migrations: { expand: MigrationPreview[]; contract: MigrationPreview[] };
  /** When the last region's soak would end; absent when a window never opens. */
  eta?: string;
  totalMs?: number;
  soakMs: number;
  deployMs: number;
  windowWaitMs: number;
  assumptions: string[];
  problems: PlanProblem[];
  /** With `--power`: per region and comparison check, what its soak can tell (client/comparison-power.ts). */
  power?: RegionPower[];
}

export interface MigrationPreview {
  name: string;
  timeoutMs: number;
  revert: 'revert' | 'irreversible';
}

/** A span as people read it: `1d 13h 12m`, `50s`, `1h 30m`. */
export function spanText(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, s] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= s) {
      parts.push(`${Math.floor(rest / s)}${unit}`);
      rest %= s;
    }
  }
  return parts.length ? parts.join(' ') : formatDuration(ms);
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function migrationPreview(m: NormalizedMigration): MigrationPreview {
  return { name: m.name, timeoutMs: m.timeoutMs, revert: m.revert ? 'revert' : 'irreversible' };
}

/** Walks the regions in order the way the workflow would if every gate passed at its soak's end. */
export function previewPlan(plan: NormalizedPlan, warnings: PlanProblem[], o: PreviewOptions): PlanPreview {
  // A deploy longer than the deployer's timeout fails: the timeout bounds the estimate.
  const deployMs = Math.min(o.deployMs, plan.deployer.timeoutMs);
  let t: number | undefined = o.startAt;
  let soakMs = 0;
  let windowWaitMs = 0;
  const regions: RegionPreview[] = plan.regions.map((r) => {
    const p: RegionPreview = {
      name: r.name,
      size: r.size,
      soakMs: r.soakMs,
      maxSoakMs: r.maxSoakMs,
      ...(r.soakAuto ? { soakAuto: true } : {}),
      checkIntervalMs: r.checkIntervalMs,
      approval: r.approval,
      checks: r.gate.checks.map((c) => ({ name: c.name, source: c.source.type, comparator: c.comparator, threshold: c.threshold })),
      ...(r.window ? { window: describeWindow(r.window) } : {}),
    };
    soakMs += r.soakMs;
    if (t === undefined) return p;
    let start = t;
    if (r.window) {
      try {
        // The same question the workflow asks before each deploy: the soak must fit the window.
        const d = computeDeployWindow({ window: r.window, now: t, soakMs: r.soakMs });
        start = d.startAt;
        if (d.reason) p.waitReason = d.reason;
      } catch (e) {
        if (!(e instanceof NoDeployWindowError)) throw e;
        p.never = e.message;
        t = undefined;
        return p;
      }
    }
    windowWaitMs += start - t;
    p.earliestStart = iso(start);
    t = start + deployMs + r.soakMs;
    p.done = iso(t);
    return p;
  });
  const assumptions = [
    `each deploy takes ${spanText(deployMs)} (--deploy-time ${spanText(o.deployMs)}, at most the deployer's timeout ${spanText(plan.deployer.timeoutMs)})`,
    'every gate passes at the end of its soak (a soak short of traffic extends up to its maxSoak)',
    'approvals are given at once, nobody pauses, and migrations take no time (their timeouts are their bounds)',
  ];
  return {
    service: plan.service,
    version: plan.version,
    owner: plan.owner,
    failurePolicy: plan.failurePolicy,
    startAt: iso(o.startAt),
    regions,
    migrations: {
      expand: plan.migrations.filter((m) => m.phase === 'expand').map(migrationPreview),
      contract: plan.migrations.filter((m) => m.phase === 'contract').map(migrationPreview),
    },
    ...(t !== undefined ? { eta: iso(t), totalMs: t - o.startAt } : {}),
    soakMs,
    deployMs: deployMs * plan.regions.length,
    windowWaitMs,
    assumptions,
    problems: warnings,
  };
}

/** The preview as people read it: a table of regions, migrations, the ETA and what it assumes, the lints. */
export function previewText(p: PlanPreview, formatProblem: (x: PlanProblem) => string): string {
  const t = new Table({
    head: ['#', 'region', 'size', 'soak (max)', 'gate checks', 'approval', 'window', 'earliest start', 'soak ends'],
    style: { head: [], border: [] },
  });
  p.regions.forEach((r, i) => {
    t.push([
      String(i + 1),
      r.name,
      String(r.size),
      `${r.soakAuto ? `auto ${formatDuration(r.soakMs)}–${formatDuration(r.maxSoakMs)}` : `${formatDuration(r.soakMs)} (${formatDuration(r.maxSoakMs)})`}\nevery ${formatDuration(r.checkIntervalMs)}`,
      r.checks.map((c) => `${c.name} ${c.comparator} ${c.threshold}`).join('\n'),
      r.approval,
      r.window ?? '',
      r.never ? 'never' : (r.earliestStart ?? '—'),
      r.done ?? '—',
    ]);
  });
  const lines = [
    `${p.service} ${p.version} — preview, nothing started (owner ${p.owner.team}, ${p.owner.contact}${p.owner.runbook ? `, runbook ${p.owner.runbook}` : ''})`,
    `start ${p.startAt}; on failure: ${p.failurePolicy}`,
  ];
  const first = p.regions[0]?.name;
  const last = p.regions[p.regions.length - 1]?.name;
  const migration = (m: MigrationPreview) => `${m.name} (timeout ${formatDuration(m.timeoutMs)}, ${m.revert === 'revert' ? 'revertible' : 'irreversible'})`;
  if (p.migrations.expand.length) lines.push(`expand before ${first}: ${p.migrations.expand.map(migration).join(', ')}`);
  lines.push(t.toString());
  if (p.migrations.contract.length) lines.push(`contract after ${last}: ${p.migrations.contract.map(migration).join(', ')}`);
  for (const [i, r] of p.regions.entries()) {
    if (r.waitReason) lines.push(`${i + 1}. ${r.name} waits: ${r.waitReason}`);
    if (r.never) lines.push(`${i + 1}. ${r.name} never starts: ${r.never}`);
  }
  if (p.eta !== undefined && p.totalMs !== undefined)
    lines.push(
      `ETA ${p.eta}: ${spanText(p.totalMs)} after the start = soaks ${spanText(p.soakMs)} + deploys ${spanText(p.deployMs)}${p.windowWaitMs > 0 ? ` + waiting for windows ${spanText(p.windowWaitMs)}` : ''}`,
    );
  else lines.push('ETA: none, a region never finds its deploy window (above)');
  lines.push(`assumes ${p.assumptions.join('; ')}`);
  if (p.problems.length) {
    lines.push(`lints (${p.problems.length}):`);
    for (const x of p.problems) lines.push(`  ${formatProblem(x)}`);
  } else lines.push('lints: none');
  return lines.join('\n');
}

// --- `mrcd plan --power`: what each comparison check's soak can tell (client/comparison-power.ts).

const perSecond = (x: number) => (x >= 10 ? Math.round(x).toLocaleString('en-US') : String(Number(x.toPrecision(2))));
const percent = (x: number) => `${Number((x * 100).toPrecision(2))} %`;
const times = (x: number) => `${x < 2 ? x.toFixed(2) : x < 10 ? x.toFixed(1) : Math.round(x)}×`;
/** A needed soak rounded up, as coarse as an estimate from past traffic deserves. */
const roughly = (ms: number) => {
  const unit = ms < 60_000 ? 1000 : ms < 3_600_000 ? 60_000 : 600_000;
  return `≈ ${spanText(Math.ceil(ms / unit) * unit)}`;
};

/** What the soak lacks, or needs: "too little traffic, needs ≈ 3h 10m (maxSoak 1h)". */
function shortfall(p: RegionPower): string {
  const over = `the last ${spanText(p.historyMs)}`;
  const why =
    p.here?.errorRatio === 0 ? `no errors here over ${over}` : p.control?.errorRatio === 0 ? `no errors in the control over ${over}` : 'too little traffic';
  if (p.neededSoakMs === null || p.neededSoakMs === undefined) {
    const floor = p.beforeFloor;
    if (floor && floor.ratio > p.threshold)
      return `cannot within 7 days: its ${floor.before} window before the deploy knows the regions' relationship too loosely (even a week's soak tells ${Number.isFinite(floor.ratio) ? `${times(floor.ratio)} at best` : 'no ratio'}); lengthen source.before`;
    return `${why}, cannot within 7 days`;
  }
  const limit =
    p.neededSoakMs <= p.maxSoakMs ? `within its maxSoak ${spanText(p.maxSoakMs)}, to which an undecided soak extends` : `maxSoak ${spanText(p.maxSoakMs)}`;
  return `${why}, needs ${roughly(p.neededSoakMs)} (${limit})`;
}

const partial = (p: RegionPower) => (p.warnings?.length ? `; Prometheus warned the answer may be partial: ${p.warnings.join('; ')}` : '');

/** One line per region and comparison check: the ratio its soak can tell at recent traffic, against its threshold. */
export function powerText(power: RegionPower[]): string {
  if (power.length === 0) return '--power: the plan has no comparison checks; nothing to measure';
  return power
    .map((p) => {
      const head = `${p.region} ${p.check}`;
      if (p.problem || !p.here || !p.control)
        return `${head}: cannot say whether its ${spanText(p.soakMs)} soak can tell ${p.threshold}×: ${p.problem ?? 'no counts'}`;
      const tells = p.detectableRatio ? `can tell ${times(p.detectableRatio)}` : 'can tell no ratio up to 1000×';
      const h = p.here;
      const c = p.control;
      const traffic = `control ${c.region}: ${perSecond(h.requestsPerSecond)} req/s at ${percent(h.errorRatio)} here, ${perSecond(c.requestsPerSecond)} req/s at ${percent(c.errorRatio)} there, over the last ${spanText(p.historyMs)}`;
      const verdict = p.enough ? `enough${p.neededSoakMs ? ` (${roughly(p.neededSoakMs)} would do)` : ''}` : shortfall(p);
      return `${head}: its ${spanText(p.soakMs)} soak ${tells} (${traffic}); target ${p.threshold}×: ${verdict}${partial(p)}`;
    })
    .join('\n');
}

/** A warning (`comparison-power`) for every comparison check whose soak cannot tell its threshold, or that Prometheus could not say about. */
export function powerProblems(power: RegionPower[]): PlanProblem[] {
  return power
    .filter((p) => !p.enough)
    .map((p): PlanProblem => ({
      id: 'comparison-power',
      severity: 'warning',
      path: p.path,
      message: p.problem
        ? `${p.region} ${p.check}: cannot say whether its ${spanText(p.soakMs)} soak can tell ${p.threshold}×: ${p.problem}`
        : `${p.region} ${p.check}: its ${spanText(p.soakMs)} soak ${p.detectableRatio ? `can tell ${times(p.detectableRatio)}` : 'can tell no ratio up to 1000×'}, not the target ${p.threshold}×: ${shortfall(p)}${partial(p)}`,
    }));
}
