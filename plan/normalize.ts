import type { Check, DeployWindow, Gate, Migration, MigrationStep, Notification, Owner, ParsedPlan } from './schema';
import { parseDuration } from '../domain/duration';
import { DEFAULT_MIN_SOAK } from './schema-primitives';

export interface NormalizedRegion {
  name: string;
  size: number;
  soakMs: number;
  maxSoakMs: number;
  /** `soak: auto`: soakMs is the minimum; the soak ends when the gate decides, by maxSoakMs. */
  soakAuto?: boolean;
  checkIntervalMs: number;
  approval: 'none' | 'required';
  gate: Gate;
  window?: DeployWindow;
  /** The region-local worker's task queue, when the region has one. */
  taskQueue?: string;
}

export type NormalizedDeployer =
  | { type: 'http'; baseUrl: string; tokenEnv?: string; timeoutMs: number; pollIntervalMs: number }
  | { type: 'command'; deploy: string[]; rollback: string[]; status?: string[]; passEnv: string[]; timeoutMs: number }
  | NormalizedKubernetesDeployer;

export interface NormalizedKubernetesDeployer {
  type: 'kubernetes';
  kubeconfigEnv?: string;
  /** Templates of {{service}} {{region}} (and {{version}} in image). */
  context: string;
  namespace: string;
  deployment: string;
  container: string;
  image: string;
  regions: Record<string, { context?: string; namespace?: string }>;
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface NormalizedMigration {
  name: string;
  phase: 'expand' | 'contract';
  apply: MigrationStep;
  revert?: MigrationStep;
  irreversible?: { reason: string };
  passEnv: string[];
  /** Per step and attempt. */
  timeoutMs: number;
}

/**
 * The plan the workflow runs: every default resolved, every duration in milliseconds,
 * every region with its own gate. Plain JSON, so it can travel in workflow history.
 */
export interface NormalizedPlan {
  apiVersion: 'mrcd/v1';
  service: string;
  version: string;
  owner: Owner;
  deployer: NormalizedDeployer;
  /**
   * Only in plans normalized before provider settings were folded into each check
   * (recorded by rollouts still running): `normalizePlan` now folds `prometheus` into every
   * `prometheus` check and leaves this out.
   */
  prometheus?: { url: string; tokenEnv?: string };
  failurePolicy: 'halt' | 'rollback-all';
  regions: NormalizedRegion[];
  migrations: NormalizedMigration[];
  notifications: Notification[];
  /** Why the plan has more than two regions, as declared (lint `region-count`). */
  growthReason?: string;
  /** Stale-hold reminders (absent in plans prepared before they existed: defaults then). */
  reminders?: NormalizedReminders;
}

export interface NormalizedReminders {
  remindEveryMs: number;
  escalateAfterMs: number;
  escalateTo: Notification[];
}

export type { Check, Gate, DeployWindow, Migration, MigrationStep, Notification, Owner };

function ms(text: string): number {
  const v = parseDuration(text);
  // The schema already refused bad durations; reaching this is a programming error.
  if (v === undefined) throw new Error(`unvalidated duration ${JSON.stringify(text)}`);
  return v;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * The gate with the plan-level provider settings folded into each check, so a check carries
 * all a provider needs. The plan's token goes only to a check of the plan's Prometheus
 * origin: a typo in a check's URL must not hand the token to another host.
 */
function withProviderSettings(gate: Gate, p: ParsedPlan, regionIndex: number, checkInterval: string): Gate {
  const prom = p.prometheus;
  // lint refuses a gate that is not an object; it is passed on as written for it to report.
  if (!gate || !Array.isArray(gate.checks)) return gate;
  const withPrometheus = <S extends { url?: string; tokenEnv?: string }>(source: S): S => {
    if (!prom) return source;
    const url = source.url ?? prom.url;
    const tokenEnv = source.tokenEnv ?? (prom.tokenEnv && sameOrigin(url, prom.url) ? prom.tokenEnv : undefined);
    return { ...source, url, ...(tokenEnv ? { tokenEnv } : {}) };
  };
  return {
    ...gate,
    checks: gate.checks.map((c) => {
      if (c.source.type === 'prometheus') return prom ? { ...c, source: withPrometheus(c.source) } : c;
      if (c.source.type !== 'comparison') return c;
      // The controls resolved here, once, so the plan in history says which regions a
      // comparison may use: `auto` is every region after this one, in plan order.
      const control = c.source.control === 'auto' ? p.regions.slice(regionIndex + 1).map((r) => r.name) : [c.source.control].flat();
      return { ...c, source: { ...withPrometheus(c.source), control, step: c.source.step ?? checkInterval } };
    }),
  };
}

/** The deployer with its durations in milliseconds and trailing slashes gone. */
function normalizeDeployer(d: ParsedPlan['deployer']): NormalizedDeployer {
  switch (d.type) {
    case 'http':
      return {
        type: 'http',
        baseUrl: d.baseUrl.replace(/\/+$/, ''),
        ...(d.tokenEnv ? { tokenEnv: d.tokenEnv } : {}),
        timeoutMs: ms(d.timeout),
        pollIntervalMs: ms(d.pollInterval),
      };
    case 'command':
      return {
        type: 'command',
        deploy: d.deploy,
        rollback: d.rollback,
        ...(d.status ? { status: d.status } : {}),
        passEnv: d.passEnv,
        timeoutMs: ms(d.timeout),
      };
    case 'kubernetes': {
      const { timeout, pollInterval, kubeconfigEnv, ...rest } = d;
      return { ...rest, ...(kubeconfigEnv ? { kubeconfigEnv } : {}), timeoutMs: ms(timeout), pollIntervalMs: ms(pollInterval) };
    }
  }
}

/** Resolves defaults of an already schema-valid plan. Returns undefined gates as-is for lint to report. */
export function normalizePlan(p: ParsedPlan): NormalizedPlan {
  const deployer = normalizeDeployer(p.deployer);
  return {
    apiVersion: p.apiVersion,
    service: p.service,
    version: p.version,
    owner: p.owner,
    deployer,
    failurePolicy: p.failurePolicy,
    regions: p.regions.map((r, i) => {
      // soak auto: the minimum, then the gate's extensions (a check interval at a time while a
      // comparison is undecided) up to maxSoak, which the schema requires with it.
      const auto = r.soak === 'auto';
      const soakMs = auto ? ms(r.minSoak ?? DEFAULT_MIN_SOAK) : ms(r.soak ?? p.defaults.soak);
      return {
        name: r.name,
        size: r.size,
        soakMs,
        maxSoakMs: r.maxSoak ? ms(r.maxSoak) : soakMs * 2,
        ...(auto ? { soakAuto: true } : {}),
        checkIntervalMs: ms(r.checkInterval ?? p.defaults.checkInterval),
        approval: r.approval,
        // lint guarantees one of the two exists before a plan is accepted
        gate: withProviderSettings((r.gate ?? p.defaults.gate)!, p, i, r.checkInterval ?? p.defaults.checkInterval),
        ...(r.window ? { window: r.window } : {}),
        ...(r.taskQueue ? { taskQueue: r.taskQueue } : {}),
      };
    }),
    migrations: p.migrations.map((m) => ({
      name: m.name,
      phase: m.phase,
      apply: m.apply,
      ...(m.revert ? { revert: m.revert } : {}),
      ...(m.irreversible ? { irreversible: m.irreversible } : {}),
      passEnv: m.passEnv,
      timeoutMs: ms(m.timeout),
    })),
    notifications: p.notifications,
    ...(p.growthReason ? { growthReason: p.growthReason } : {}),
    reminders: { remindEveryMs: ms(p.reminders.remindEvery), escalateAfterMs: ms(p.reminders.escalateAfter), escalateTo: p.reminders.escalateTo },
  };
}
