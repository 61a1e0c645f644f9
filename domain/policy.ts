// The fleet policy: the rules above any one plan that every rollout consults before it
// deploys a region and before it promotes one. Freezes ("stop the line"), and at most N
// rollouts deploying or soaking in a region at once. Pure data and rules: the policy
// workflow (workflows/policy/) holds them durably, the CLI previews and validates with the
// same functions. docs/policy.md says it for operators.

export const POLICY_WORKFLOW_TYPE = 'fleetPolicyWorkflow';

/**
 * One policy per fleet: a long-lived workflow, `mrcd-policy` for the default task queue.
 * The policy runs on the workers of the rollouts it governs, so a fleet on a task queue of
 * its own (a second installation in the namespace, a test) has a policy of its own.
 */
export function policyWorkflowId(taskQueue: string): string {
  return taskQueue === 'mrcd-rollouts' ? 'mrcd-policy' : `mrcd-policy-${taskQueue}`;
}

/** What a freeze covers: each dimension given must match (AND); a dimension left out matches everything. */
export interface FreezeScope {
  regions?: string[];
  services?: string[];
  /** Owner teams (the plan's owner.team). */
  teams?: string[];
}

export interface Freeze {
  /** F-1, F-2, … in the order they were created (ids are never reused). */
  id: string;
  scope: FreezeScope;
  reason: string;
  by: string;
  createdAt: number;
  /** When it starts holding (epoch ms); absent: at once. */
  from?: number;
  /** When it ends by itself (epoch ms); absent: until lifted. */
  until?: number;
  /** Where it came from: an operator's command, the policy file (`mrcd policy apply`), one of its calendars, or a firing alert. */
  source: 'command' | 'policy-file' | 'calendar' | 'alert';
  /** For a calendar's period: the calendar, and the key of this period (never created twice). */
  calendar?: { name: string; key: string };
  lifted?: { by: string; reason: string; at: number };
  /** For a blocker raised by an alert: its fingerprint, and when it resolved (the freeze ends a cool-down later). */
  alert?: { fingerprint: string; resolvedAt?: number };
}

/** Whose step the policy decides on. */
export interface PolicySubject {
  rolloutId: string;
  service: string;
  team: string;
  region: string;
}

export type PolicyStep = 'deploy' | 'promote';

/** What holds a step: a freeze, a full region, or a policy that could not be read (which is never permission). */
export interface Blocker {
  kind: 'freeze' | 'concurrency' | 'unreadable';
  /** The freeze id, for freezes. */
  id?: string;
  reason: string;
  by?: string;
  /** When the blocker ends by itself, if it does. */
  until?: number;
}

export interface ConsultRequest extends PolicySubject {
  step: PolicyStep;
}

export interface ConsultAnswer {
  allowed: boolean;
  blockers: Blocker[];
  /** Freezes this step went past by an override (absent in answers of policies from before overrides). */
  overridden?: { override: string; freeze: string; by: string; reason: string; until: number }[];
}

/**
 * A governed override: a service (or one rollout of it) goes past freezes (all, or the ones
 * named) until it expires. Never past a full region or an unreadable policy.
 */
export interface FreezeOverride {
  /** O-1, O-2, … */
  id: string;
  service: string;
  /** One rollout (its workflow id); absent: any rollout of the service while it lasts. */
  rolloutId?: string;
  /** The freezes it goes past; absent: every freeze. */
  freezes?: string[];
  reason: string;
  by: string;
  createdAt: number;
  /** Every override expires. */
  until: number;
}

/** What `mrcd freeze override` and `mrcd deploy --override-freeze` ask for. */
export interface OverrideRequest {
  service: string;
  rolloutId?: string;
  freezes?: string[];
  reason: string;
  by: string;
  /** Default DEFAULT_OVERRIDE_MS from now; at most MAX_OVERRIDE_MS. */
  until?: number;
}

export const DEFAULT_OVERRIDE_MS = 3_600_000;
export const MAX_OVERRIDE_MS = 24 * 3_600_000;

export function overrideActive(o: FreezeOverride, now: number): boolean {
  return o.createdAt <= now && now < o.until;
}

/** The active override that lets the subject go past freeze f, if any. */
export function overrideFor(p: PolicyState, f: Freeze, s: Pick<PolicySubject, 'service' | 'rolloutId'>, now: number): FreezeOverride | undefined {
  return (p.overrides ?? []).find(
    (o) =>
      overrideActive(o, now) &&
      o.service === s.service &&
      (o.rolloutId === undefined || o.rolloutId === s.rolloutId) &&
      (!o.freezes || o.freezes.includes(f.id)),
  );
}

/** A rollout deploying or soaking in a region: the unit of region concurrency. */
export interface Lease extends PolicySubject {
  since: number;
}

/** A rollout whose step the policy held, in arrival order. */
export interface Waiter extends ConsultRequest {
  since: number;
}

export interface PolicyLogEntry {
  at: number;
  action: 'freeze' | 'lift' | 'expire' | 'apply' | 'grant' | 'release' | 'reclaim' | 'rejected' | 'override';
  by: string;
  reason: string;
  detail?: string;
}

/** What the policy workflow holds and carries across continue-as-new. */
export interface PolicyState {
  /** Freezes not yet ended (active or scheduled). */
  freezes: Freeze[];
  /** The newest ended freezes (lifted or expired), newest last. */
  ended: Freeze[];
  /** Region name → at most this many rollouts deploying or soaking there at once. */
  concurrency: Record<string, number>;
  leases: Lease[];
  waiting: Waiter[];
  /** The newest changes, newest last. */
  log: PolicyLogEntry[];
  nextFreeze: number;
  /** Who applied the policy file last, and when. */
  appliedBy?: { by: string; reason: string; at: number };
  /** Overrides not yet expired (absent in policies from before overrides). */
  overrides?: FreezeOverride[];
  nextOverride?: number;
  /** Who may override a freeze (the `by` names; from the policy file): absent, anyone who gives a reason. */
  overriders?: string[];
  /** Recurring freezes of the policy file; their periods are made into freezes up to `calendarHorizon`. */
  calendars?: FreezeCalendar[];
  calendarHorizon?: number;
}

/** A recurring freeze in a timezone of its own: weekly periods ("fri 16:00" → "mon 08:00") and whole dates. */
export interface FreezeCalendar {
  name: string;
  reason: string;
  timezone: string;
  scope?: FreezeScope;
  weekly: { from: string; to: string }[];
  /** Whole local days, YYYY-MM-DD. */
  dates: string[];
}

/** "fri 16:00": a day of the week and a time. */
export const WEEKLY_TIME = /^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$/i;

/**
 * Until a calendar's periods are made (right after the policy file is applied, and
 * whenever its horizon runs low), nothing in its scope may go: a calendar not read is no
 * permission.
 */
export function calendarPendingBlockers(p: PolicyState, s: Pick<PolicySubject, 'service' | 'team' | 'region'>, now: number): Blocker[] {
  if (!p.calendars?.length || (p.calendarHorizon !== undefined && now < p.calendarHorizon)) return [];
  return p.calendars
    .filter((c) => freezeCovers({ scope: c.scope ?? {} } as Freeze, s))
    .map((c) => ({ kind: 'unreadable', reason: `the periods of calendar ${c.name} are not computed yet (the policy asks its workers)` }));
}

export const MAX_POLICY_LOG = 500;
export const MAX_ENDED_FREEZES = 100;

export function emptyPolicy(): PolicyState {
  return { freezes: [], ended: [], concurrency: {}, leases: [], waiting: [], log: [], nextFreeze: 1, overrides: [], nextOverride: 1 };
}

/** Whether the freeze holds at `now`. */
export function freezeActive(f: Freeze, now: number): boolean {
  return !f.lifted && (f.from ?? f.createdAt) <= now && (f.until === undefined || now < f.until);
}

/** Whether the freeze's scope covers the subject (every dimension it names matches). */
export function freezeCovers(f: Freeze, s: Pick<PolicySubject, 'service' | 'team' | 'region'>): boolean {
  const { regions, services, teams } = f.scope;
  return (!regions || regions.includes(s.region)) && (!services || services.includes(s.service)) && (!teams || teams.includes(s.team));
}

export function freezeBlocker(f: Freeze): Blocker {
  return { kind: 'freeze', id: f.id, reason: f.reason, by: f.by, ...(f.until !== undefined ? { until: f.until } : {}) };
}

/** The freezes that hold the subject's steps at `now` (those an override lets it past are not among them when it names its rollout). */
export function freezeBlockers(p: PolicyState, s: Pick<PolicySubject, 'service' | 'team' | 'region'> & { rolloutId?: string }, now: number): Blocker[] {
  return p.freezes
    .filter(
      (f) =>
        freezeActive(f, now) && freezeCovers(f, s) && (s.rolloutId === undefined || !overrideFor(p, f, { service: s.service, rolloutId: s.rolloutId }, now)),
    )
    .map(freezeBlocker)
    .concat(calendarPendingBlockers(p, s, now));
}

/** The active freezes over the subject that an override lets it past, with the override. */
export function overriddenFreezes(p: PolicyState, s: PolicySubject, now: number): { freeze: Freeze; override: FreezeOverride }[] {
  return p.freezes.flatMap((f) => {
    if (!freezeActive(f, now) || !freezeCovers(f, s)) return [];
    const o = overrideFor(p, f, s, now);
    return o ? [{ freeze: f, override: o }] : [];
  });
}

/** The freezes that will hold the subject later (scheduled, not started yet). */
export function scheduledFreezes(p: PolicyState, s: Pick<PolicySubject, 'service' | 'team' | 'region'>, now: number): Freeze[] {
  return p.freezes.filter((f) => !f.lifted && (f.from ?? f.createdAt) > now && freezeCovers(f, s));
}

/**
 * Whether the subject may take a slot in its region now: it holds one already, the region has
 * no limit, or fewer than the limit hold one and nobody who came earlier waits for a slot.
 */
export function concurrencyBlocker(p: PolicyState, s: PolicySubject, now: number): Blocker | undefined {
  const limit = p.concurrency[s.region];
  if (limit === undefined) return undefined;
  if (p.leases.some((l) => l.rolloutId === s.rolloutId && l.region === s.region)) return undefined;
  const holders = p.leases.filter((l) => l.region === s.region);
  const me = p.waiting.find((w) => w.rolloutId === s.rolloutId && w.region === s.region && w.step === 'deploy');
  // Arrival order among those waiting only for a slot (a frozen one does not keep others out).
  const ahead = p.waiting.filter(
    (w) => w.region === s.region && w.step === 'deploy' && w.rolloutId !== s.rolloutId && (!me || w.since < me.since) && freezeBlockers(p, w, now).length === 0,
  );
  if (holders.length < limit && ahead.length === 0) return undefined;
  const names = holders.map((l) => l.service).join(', ');
  return {
    kind: 'concurrency',
    reason: `${s.region} allows ${limit} rollout${limit === 1 ? '' : 's'} deploying or soaking at once (now: ${names || 'none'}${ahead.length ? `; ${ahead.length} waiting ahead` : ''})`,
  };
}

/** The earliest moment something in the policy changes by itself (a freeze starts or ends). */
export function nextPolicyChange(p: PolicyState, now: number): number | undefined {
  let next: number | undefined;
  const times = [...p.freezes.flatMap((f) => [f.from, f.until]), ...(p.overrides ?? []).map((o) => o.until)];
  for (const t of times) if (t !== undefined && t > now && (next === undefined || t < next)) next = t;
  return next;
}

/** A blocker in one line: what holds, who and why, until when (left out with `withUntil: false`, where the end is shown apart). */
export function describeBlocker(b: Blocker, { withUntil = true } = {}): string {
  const until = withUntil && b.until !== undefined ? ` until ${new Date(b.until).toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
  if (b.kind === 'freeze') return `freeze ${b.id} (${b.reason}, by ${b.by})${until}`;
  if (b.kind === 'concurrency') return `a slot: ${b.reason}`;
  return `a readable fleet policy: ${b.reason}`;
}

/** The scope of a freeze in words. */
export function describeScope(s: FreezeScope): string {
  const parts = [
    s.regions && `regions ${s.regions.join(', ')}`,
    s.services && `services ${s.services.join(', ')}`,
    s.teams && `teams ${s.teams.join(', ')}`,
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'everything';
}

/** What `freeze create` asks for. Plain JSON, so the Web UI and `temporal workflow update` can send it. */
export interface FreezeRequest {
  scope?: FreezeScope;
  reason: string;
  by: string;
  from?: number;
  until?: number;
}

export interface LiftRequest {
  id: string;
  reason: string;
  by: string;
}

/** What `mrcd policy apply` sends: the policy file, already validated by the client. */
export interface ApplyRequest {
  concurrency: Record<string, number>;
  /** Recurring freezes; absent: none. */
  calendars?: FreezeCalendar[];
  /** Who may override a freeze; absent: anyone who gives a reason. */
  overriders?: string[];
  freezes: Omit<FreezeRequest, 'by'>[];
  reason: string;
  by: string;
}

const MAX_TEXT = 1024;
const MAX_NAME = 200;

function textProblem(path: string, v: unknown, max: number): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return `${path}: must be a non-empty string`;
  if (v.length > max) return `${path}: at most ${max} characters (got ${v.length})`;
  return undefined;
}

/**
 * A firing or resolved alert that carries mrcd labels (Alertmanager's webhook, through the
 * receiver of client/alert-receiver.ts): firing raises a blocker over its scope, resolved
 * ends it `cooldownMs` later, and firing again meanwhile keeps it.
 */
export interface AlertRequest {
  /** Alertmanager's fingerprint of the alert: the same alert is the same blocker. */
  fingerprint: string;
  status: 'firing' | 'resolved';
  scope: FreezeScope;
  reason: string;
  by: string;
  cooldownMs: number;
}

/** Every problem of an alert request, each with its path. */
export function alertRequestProblems(req: unknown): string[] {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return ['payload: must be a JSON object'];
  const r = req as Record<string, unknown>;
  const problems = [textProblem('fingerprint', r.fingerprint, MAX_NAME), textProblem('reason', r.reason, MAX_TEXT), textProblem('by', r.by, MAX_NAME)].filter(
    (p): p is string => p !== undefined,
  );
  if (r.status !== 'firing' && r.status !== 'resolved') problems.push('status: must be firing or resolved');
  if (typeof r.cooldownMs !== 'number' || !Number.isFinite(r.cooldownMs) || r.cooldownMs < 0)
    problems.push('cooldownMs: must be a duration in milliseconds, 0 or more');
  const scope = freezeRequestProblems({ scope: r.scope, reason: 'x', by: 'x' }, 0);
  problems.push(...scope);
  if (r.scope === undefined || (typeof r.scope === 'object' && r.scope !== null && Object.keys(r.scope).length === 0))
    problems.push('scope: an alert must name at least one of regions, services, teams (its mrcd_region, mrcd_service or mrcd_team label)');
  return problems;
}

/** Every problem of a freeze request, each with its path; hand-written so the workflow can run it (zod stays out of its bundle). */
export function freezeRequestProblems(req: unknown, now: number, path = ''): string[] {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof req !== 'object' || req === null || Array.isArray(req))
    return [`${path || 'payload'}: must be a JSON object like {"reason": "...", "by": "...", "scope": {"regions": ["eu-west-1"]}}`];
  const r = req as Record<string, unknown>;
  const problems: string[] = [];
  for (const [k, max] of [
    ['reason', MAX_TEXT],
    ['by', MAX_NAME],
  ] as const) {
    const p = textProblem(at(k), r[k], max);
    if (p) problems.push(p);
  }
  if (r.scope !== undefined) {
    if (typeof r.scope !== 'object' || r.scope === null || Array.isArray(r.scope)) problems.push(`${at('scope')}: must be an object`);
    else {
      const scope = r.scope as Record<string, unknown>;
      for (const [k, v] of Object.entries(scope)) {
        if (!['regions', 'services', 'teams'].includes(k)) problems.push(`${at(`scope.${k}`)}: unknown (allowed: regions, services, teams)`);
        else if (!Array.isArray(v) || v.length === 0) problems.push(`${at(`scope.${k}`)}: must be a non-empty list of names`);
        else
          v.forEach((x, i) => {
            const p = textProblem(`${at(`scope.${k}`)}[${i}]`, x, MAX_NAME);
            if (p) problems.push(p);
          });
      }
    }
  }
  for (const k of ['from', 'until'] as const)
    if (r[k] !== undefined && (typeof r[k] !== 'number' || !Number.isFinite(r[k]))) problems.push(`${at(k)}: must be a time (epoch milliseconds)`);
  if (typeof r.until === 'number' && r.until <= now) problems.push(`${at('until')}: must be in the future`);
  if (typeof r.until === 'number' && typeof r.from === 'number' && r.from >= r.until) problems.push(`${at('from')}: must be before until`);
  const unknown = Object.keys(r).filter((k) => !['scope', 'reason', 'by', 'from', 'until'].includes(k));
  if (unknown.length)
    problems.push(`${path || 'payload'}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (allowed: scope, reason, by, from, until)`);
  return problems;
}

/** Every problem of an override request, each with its path. */
export function overrideRequestProblems(req: unknown, now: number): string[] {
  if (typeof req !== 'object' || req === null || Array.isArray(req))
    return ['payload: must be a JSON object like {"service": "checkout", "reason": "...", "by": "...", "until": <epoch ms>}'];
  const r = req as Record<string, unknown>;
  const problems = [textProblem('service', r.service, MAX_NAME), textProblem('reason', r.reason, MAX_TEXT), textProblem('by', r.by, MAX_NAME)].filter(
    (p): p is string => p !== undefined,
  );
  if (r.rolloutId !== undefined) {
    const p = textProblem('rolloutId', r.rolloutId, MAX_NAME);
    if (p) problems.push(p);
  }
  if (r.freezes !== undefined) {
    if (!Array.isArray(r.freezes) || r.freezes.length === 0) problems.push('freezes: must be a non-empty list of freeze ids (leave it out for every freeze)');
    else
      r.freezes.forEach((x, i) => {
        const p = textProblem(`freezes[${i}]`, x, MAX_NAME);
        if (p) problems.push(p);
      });
  }
  if (r.until !== undefined) {
    if (typeof r.until !== 'number' || !Number.isFinite(r.until)) problems.push('until: must be a time (epoch milliseconds)');
    else if (r.until <= now) problems.push('until: must be in the future');
    else if (r.until > now + MAX_OVERRIDE_MS) problems.push(`until: an override lasts at most ${MAX_OVERRIDE_MS / 3_600_000}h; ask again when it ends`);
  }
  const unknown = Object.keys(r).filter((k) => !['service', 'rolloutId', 'freezes', 'reason', 'by', 'until'].includes(k));
  if (unknown.length)
    problems.push(`payload: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (allowed: service, rolloutId, freezes, reason, by, until)`);
  return problems;
}

function calendarProblems(c: unknown, at: string): string[] {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return [`${at}: must be an object`];
  const r = c as Record<string, unknown>;
  const problems = [
    textProblem(`${at}.name`, r.name, MAX_NAME),
    textProblem(`${at}.reason`, r.reason, MAX_TEXT),
    textProblem(`${at}.timezone`, r.timezone, MAX_NAME),
  ].filter((p): p is string => p !== undefined);
  if (typeof r.timezone === 'string' && r.timezone) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: r.timezone });
    } catch {
      problems.push(`${at}.timezone: must be an IANA timezone such as "Europe/Dublin"`);
    }
  }
  if (!Array.isArray(r.weekly)) problems.push(`${at}.weekly: must be a list`);
  else
    r.weekly.forEach((w: unknown, j) => {
      const x = (w ?? {}) as Record<string, unknown>;
      for (const k of ['from', 'to'])
        if (typeof x[k] !== 'string' || !WEEKLY_TIME.test(x[k])) problems.push(`${at}.weekly[${j}].${k}: must be a day and a time such as "fri 16:00"`);
    });
  if (!Array.isArray(r.dates)) problems.push(`${at}.dates: must be a list`);
  else
    r.dates.forEach((d: unknown, j) => {
      if (typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d)) problems.push(`${at}.dates[${j}]: must be a date YYYY-MM-DD`);
    });
  if (Array.isArray(r.weekly) && Array.isArray(r.dates) && r.weekly.length + r.dates.length === 0) problems.push(`${at}: needs weekly periods or dates`);
  if (r.scope !== undefined) problems.push(...freezeRequestProblems({ scope: r.scope, reason: 'x', by: 'x' }, 0, at));
  return problems;
}

/** Every problem of a lift request, each with its path. */
export function liftRequestProblems(req: unknown): string[] {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return ['payload: must be a JSON object like {"id": "F-3", "reason": "...", "by": "..."}'];
  const r = req as Record<string, unknown>;
  const problems = [textProblem('id', r.id, MAX_NAME), textProblem('reason', r.reason, MAX_TEXT), textProblem('by', r.by, MAX_NAME)].filter(
    (p): p is string => p !== undefined,
  );
  const unknown = Object.keys(r).filter((k) => !['id', 'reason', 'by'].includes(k));
  if (unknown.length) problems.push(`payload: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (allowed: id, reason, by)`);
  return problems;
}

/** Every problem of an apply request, each with its path. */
export function applyRequestProblems(req: unknown, now: number): string[] {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return ['payload: must be a JSON object'];
  const r = req as Record<string, unknown>;
  const problems = [textProblem('reason', r.reason, MAX_TEXT), textProblem('by', r.by, MAX_NAME)].filter((p): p is string => p !== undefined);
  if (typeof r.concurrency !== 'object' || r.concurrency === null || Array.isArray(r.concurrency))
    problems.push('concurrency: must be an object of region: limit');
  else
    for (const [region, n] of Object.entries(r.concurrency as Record<string, unknown>))
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) problems.push(`concurrency.${region}: must be a whole number of at least 1`);
  if (r.overriders !== undefined && (!Array.isArray(r.overriders) || r.overriders.some((x) => typeof x !== 'string' || x.trim() === '')))
    problems.push('overriders: must be a list of names');
  if (r.calendars !== undefined) {
    if (!Array.isArray(r.calendars)) problems.push('calendars: must be a list');
    else r.calendars.forEach((c, i) => problems.push(...calendarProblems(c, `calendars[${i}]`)));
  }
  if (!Array.isArray(r.freezes)) problems.push('freezes: must be a list');
  else r.freezes.forEach((f, i) => problems.push(...freezeRequestProblems({ ...(f as object), by: r.by }, now, `freezes[${i}]`)));
  return problems;
}

/** One region's view for people: how many hold a slot, how many wait. */
export function regionLoad(p: PolicyState, region: string): { limit?: number; holders: Lease[]; waiting: Waiter[] } {
  return {
    ...(p.concurrency[region] !== undefined ? { limit: p.concurrency[region] } : {}),
    holders: p.leases.filter((l) => l.region === region),
    waiting: p.waiting.filter((w) => w.region === region),
  };
}
