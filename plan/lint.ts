// Policy lints: rules across fields that a schema cannot say, and the practices a rollout
// should follow unless it says why not. Each has an id and a severity; docs/plan-reference.md
// ("Lints") gives the reason for each.
//
// Lints read the document defensively rather than the schema's output, so they run even when
// the schema refuses part of it: a user sees every problem in one pass, not the lints only
// after the schema errors are fixed. A field the schema refused is skipped here (validate.ts
// also drops a lint at a path the schema already reported).
import { DEFAULT_CHECK_INTERVAL, DEFAULT_DEPLOY_TIMEOUT, DEFAULT_POLL_INTERVAL, DEFAULT_SOAK, windowSchema } from './schema';
import { formatDuration, parseDuration } from '../domain/duration';
import { describeWindow } from './windows';
import type { PlanProblem, PlanSeverity } from './problem';

/** Every lint: id → severity. The ids are stable: CI scripts and `--json` readers match on them. */
export const LINTS = {
  'region-name-unique': 'error',
  'region-order': 'error',
  'region-gate': 'error',
  'soak-length': 'warning',
  'max-soak-below-soak': 'error',
  'check-interval-over-soak': 'error',
  'check-name-unique': 'error',
  'prometheus-url': 'error',
  'comparison-control': 'error',
  'soak-auto': 'error',
  'window-empty-period': 'error',
  'window-shorter-than-soak': 'error',
  'poll-interval-over-timeout': 'error',
  'deployer-region': 'error',
  'region-count': 'warning',
  runbook: 'error',
  'reminder-target': 'warning',
  'migration-name-unique': 'error',
  'migration-revert': 'error',
  'migration-revert-and-irreversible': 'error',
} as const satisfies Record<string, PlanSeverity>;

export type LintId = keyof typeof LINTS;

/** The soak a rollout should hold each region for, unless it says why not (lint `soak-length`). */
export const SOAK_PRACTICE = { minMs: 30 * 60_000, maxMs: 60 * 60_000 } as const;
/** Regions a plan starts with before it needs a `growthReason` (lint `region-count`). */
export const REGIONS_TO_START_WITH = 2;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** A reason counts when it says something. */
const hasReason = (v: unknown): boolean => typeof v === 'string' && v.trim().length > 0;
/** A duration as written, or the default when absent; undefined when present but not a valid duration. */
function durationOf(v: unknown, fallback?: string): { text: string; ms: number } | undefined {
  const text = v === undefined ? fallback : str(v);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  return ms === undefined ? undefined : { text, ms };
}

/**
 * The longest allowed period of a window as its wall clock reads it, and the window in words.
 * A fall-back night lengthens a period across it by an hour once a year; a window that holds
 * the soak only then is no window, so that hour is not counted. Undefined for a window the
 * schema refuses (it says why).
 */
function longestPeriod(raw: unknown): { ms: number; window: string } | undefined {
  const w = windowSchema.safeParse(raw);
  if (!w.success) return undefined;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  // An end before the start runs overnight; an equal one is empty (lint window-empty-period).
  const lengths = w.data.allow.map((a) => (((minutes(a.end) - minutes(a.start)) % 1440) + 1440) % 1440);
  return { ms: Math.max(...lengths) * 60_000, window: describeWindow({ ...w.data, blackout: [] }) };
}

/** Lints a plan document (as written, or the schema's output). Never throws, whatever the document. */
/**
 * Why a comparison's control cannot work for region `i`, or undefined. A control must still
 * run the old version while the region soaks: a region the rollout deploys before (or the
 * region itself) never does, and a name outside the plan is a typo.
 */
function controlProblem(control: unknown, i: number, regions: unknown[]): string | undefined {
  const names = regions.map((r) => str(obj(r)?.name));
  if (control === 'auto') {
    return i === regions.length - 1
      ? 'control auto needs a region after this one in the plan, still on the old version while it soaks; the last region has none: name a control outside the plan, or use a gate without a comparison'
      : undefined;
  }
  for (const c of typeof control === 'string' ? [control] : list(control)) {
    if (typeof c !== 'string') continue;
    const at = names.indexOf(c);
    if (at === i) return `the control ${c} is the region itself`;
    if (at >= 0 && at < i) return `the control ${c} is deployed before this region in the plan, so it runs the new version while this one soaks`;
  }
  return undefined;
}

export function lintPlan(doc: unknown): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const reported = new Set<string>();
  const add = (id: LintId, path: string, message: string) => {
    // Regions sharing defaults.gate would report its problems once per region.
    if (reported.has(`${id} ${path}`)) return;
    reported.add(`${id} ${path}`);
    problems.push({ id, severity: LINTS[id], path, message });
  };
  const p = obj(doc);
  if (!p) return problems;
  const defaults = obj(p.defaults) ?? (p.defaults === undefined ? {} : undefined);
  const defaultSoak = defaults ? durationOf(defaults.soak, DEFAULT_SOAK) : undefined;
  const defaultInterval = defaults ? durationOf(defaults.checkInterval, DEFAULT_CHECK_INTERVAL) : undefined;
  const defaultGate = defaults ? obj(defaults.gate) : undefined;
  const soakExcusedEverywhere = hasReason(defaults?.soakReason);

  const owner = obj(p.owner);
  if (owner && owner.runbook === undefined)
    add('runbook', 'owner.runbook', 'every pipeline has a runbook: set owner.runbook to the URL on-call follows when this rollout halts');

  const deployer = obj(p.deployer);
  // A cluster named for a region the plan does not have is a typo: that region would fall
  // back to the templates and be deployed to the wrong place.
  if (deployer?.type === 'kubernetes') {
    const names = new Set(list(p.regions).map((r) => str(obj(r)?.name)));
    for (const key of Object.keys(obj(deployer.regions) ?? {}))
      if (!names.has(key)) add('deployer-region', `deployer.regions.${key}`, `no region "${key}" in the plan (regions: ${[...names].join(', ')})`);
  }
  if (deployer?.type === 'http' || deployer?.type === 'kubernetes') {
    const poll = durationOf(deployer.pollInterval, DEFAULT_POLL_INTERVAL);
    const timeout = durationOf(deployer.timeout, DEFAULT_DEPLOY_TIMEOUT);
    // The deployer sleeps the rest of its budget when a poll is longer, then times out.
    if (poll && timeout && poll.ms > timeout.ms)
      add(
        'poll-interval-over-timeout',
        deployer.pollInterval !== undefined ? 'deployer.pollInterval' : 'deployer.timeout',
        `${poll.text} is longer than the deployer's timeout (${timeout.text}): a deploy not done at its first poll would time out before the second`,
      );
  }

  const reminders = obj(p.reminders);
  if (list(p.notifications).length === 0 && list(reminders?.escalateTo).length === 0)
    add(
      'reminder-target',
      'notifications',
      'no notifications: a rollout left paused, halted or awaiting approval would remind nobody (add notifications[] or reminders.escalateTo)',
    );

  const regions = list(p.regions);
  if (regions.length > REGIONS_TO_START_WITH && !hasReason(p.growthReason))
    add('region-count', 'regions', `${regions.length} regions: start with two, add regions as demand grows (or say why in growthReason)`);

  const seen = new Map<string, number>();
  /** Regions that soak for the default soak outside the practice, reported once at defaults.soak. */
  const onDefaultSoak: string[] = [];
  regions.forEach((raw, i) => {
    const r = obj(raw);
    if (!r) return;
    const name = str(r.name);
    if (name !== undefined) {
      const prev = seen.get(name);
      if (prev !== undefined) add('region-name-unique', `regions[${i}].name`, `duplicate region "${name}" (also regions[${prev}])`);
      else seen.set(name, i);
    }
    const before = i > 0 ? obj(regions[i - 1]) : undefined;
    const size = num(r.size);
    const prevSize = num(before?.size);
    if (before && size !== undefined && prevSize !== undefined && size < prevSize && !hasReason(r.orderReason) && !hasReason(before.orderReason)) {
      add(
        'region-order',
        `regions[${i}].size`,
        `${size} is smaller than regions[${i - 1}] (${str(before.name) ?? '?'}, ${prevSize}): order regions smallest first, largest last (or say why in orderReason)`,
      );
    }

    const ownGate = obj(r.gate);
    const gate = r.gate === undefined ? defaultGate : ownGate;
    if (r.gate === undefined && !defaultGate && defaults?.gate === undefined)
      add('region-gate', `regions[${i}].gate`, 'no gate: set regions[].gate or defaults.gate (a region without SLO evidence never promotes)');

    const soak = r.soak === undefined ? defaultSoak : durationOf(r.soak);
    const interval = r.checkInterval === undefined ? defaultInterval : durationOf(r.checkInterval);
    if (soak && (soak.ms < SOAK_PRACTICE.minMs || soak.ms > SOAK_PRACTICE.maxMs) && !soakExcusedEverywhere && !hasReason(r.soakReason)) {
      if (r.soak !== undefined)
        add(
          'soak-length',
          `regions[${i}].soak`,
          `${soak.text} is outside 30m–60m: a shorter soak misses slow regressions, a longer one holds the rollout for little more evidence (or say why in soakReason)`,
        );
      else onDefaultSoak.push(name ?? `regions[${i}]`);
    }
    if (soak && r.maxSoak !== undefined) {
      const maxSoak = durationOf(r.maxSoak);
      if (maxSoak && maxSoak.ms < soak.ms) add('max-soak-below-soak', `regions[${i}].maxSoak`, `must be at least the soak (${soak.text})`);
    }
    if (soak && interval && interval.ms > soak.ms)
      add('check-interval-over-soak', `regions[${i}].checkInterval`, `${interval.text} is longer than the soak (${soak.text}): the soak would see no check`);

    if (gate) {
      const gatePath = r.gate !== undefined ? `regions[${i}].gate` : 'defaults.gate';
      const names = new Set<string>();
      list(gate.checks).forEach((rawCheck, j) => {
        const c = obj(rawCheck);
        if (!c) return;
        const checkName = str(c.name);
        if (checkName !== undefined) {
          if (names.has(checkName)) add('check-name-unique', `${gatePath}.checks[${j}].name`, `duplicate check "${checkName}"`);
          names.add(checkName);
        }
        const source = obj(c.source);
        if ((source?.type === 'prometheus' || source?.type === 'comparison') && source.url === undefined && p.prometheus === undefined)
          add('prometheus-url', `${gatePath}.checks[${j}].source.url`, "no Prometheus URL: set source.url or the plan's prometheus.url");
        if (source?.type === 'comparison') {
          const why = controlProblem(source.control ?? 'auto', i, regions);
          if (why) add('comparison-control', `${gatePath}.checks[${j}].source.control`, `${name ?? `regions[${i}]`}: ${why}`);
        }
      });
    }
    if (r.soak === 'auto') {
      const gating = list(gate?.checks).some((c) => obj(obj(c)?.source)?.type === 'comparison' && obj(c)?.shadow !== true);
      if (!gating)
        add(
          'soak-auto',
          `regions[${i}].soak`,
          'soak auto ends the soak when a comparison check decides; this gate has none that is not shadow, so every soak would end at minSoak on no more evidence than a fixed one',
        );
    }
    const longest = r.window === undefined ? undefined : longestPeriod(r.window);
    if (soak && longest && longest.ms > 0 && soak.ms > longest.ms)
      add(
        'window-shorter-than-soak',
        `regions[${i}].window`,
        `soak ${soak.text} is longer than the longest allowed period ${formatDuration(longest.ms)} (window ${longest.window}): the region could never start, since its soak must fit inside one period; lengthen a period or shorten the soak`,
      );
    list(obj(r.window)?.allow).forEach((rawAllow, j) => {
      const a = obj(rawAllow);
      if (a && typeof a.start === 'string' && a.start === a.end)
        add('window-empty-period', `regions[${i}].window.allow[${j}]`, 'start and end are equal: the window is empty');
    });
  });
  if (onDefaultSoak.length > 0 && defaultSoak)
    add(
      'soak-length',
      'defaults.soak',
      `${defaultSoak.text}${defaults?.soak === undefined ? ' (the default)' : ''} is outside 30m–60m (regions ${onDefaultSoak.join(', ')}): a shorter soak misses slow regressions, a longer one holds the rollout for little more evidence (or say why in defaults.soakReason)`,
    );

  const migrationNames = new Set<string>();
  list(p.migrations).forEach((raw, i) => {
    const m = obj(raw);
    if (!m) return;
    const name = str(m.name);
    if (name !== undefined) {
      if (migrationNames.has(name)) add('migration-name-unique', `migrations[${i}].name`, `duplicate migration "${name}"`);
      migrationNames.add(name);
    }
    if (m.revert === undefined && m.irreversible === undefined)
      add('migration-revert', `migrations[${i}]`, `"${name ?? `migrations[${i}]`}" has no revert step: add revert, or mark it irreversible with a reason`);
    if (m.revert !== undefined && m.irreversible !== undefined)
      add('migration-revert-and-irreversible', `migrations[${i}].irreversible`, 'a migration with a revert step is not irreversible: remove one of the two');
  });
  return problems;
}
