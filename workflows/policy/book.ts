// The policy's state and every change to it, as plain deterministic code (the workflow
// passes the time in): freezes created, lifted and expired, slots granted in arrival order
// and given back, and which rollouts must hear that what holds them changed.
import {
  concurrencyBlocker,
  emptyPolicy,
  freezeActive,
  freezeBlockers,
  overriddenFreezes,
  DEFAULT_OVERRIDE_MS,
  MAX_ENDED_FREEZES,
  MAX_POLICY_LOG,
  type AlertRequest,
  type ApplyRequest,
  type Blocker,
  type ConsultAnswer,
  type ConsultRequest,
  type Freeze,
  type FreezeOverride,
  type OverrideRequest,
  type FreezeRequest,
  type LiftRequest,
  type PolicyLogEntry,
  type PolicyState,
} from '../../domain/policy';
import type { PolicyNotice } from '../../domain/policy-definitions';

/** What a rollout was last told, so that it hears each change once. */
type Told = Record<string, string>;

export class PolicyBook {
  readonly state: PolicyState;
  private readonly told: Told;

  constructor(state?: PolicyState & { told?: Told }) {
    const { told, ...rest } = state ?? { ...emptyPolicy() };
    this.state = rest as PolicyState;
    // A policy carried from before overrides has none.
    this.state.overrides ??= [];
    this.state.nextOverride ??= 1;
    this.told = told ?? {};
  }

  /** What continue-as-new carries. */
  carried(): PolicyState & { told: Told } {
    return { ...this.state, told: this.told };
  }

  createFreeze(req: FreezeRequest, now: number, source: Freeze['source'] = 'command'): Freeze {
    const f: Freeze = {
      id: `F-${this.state.nextFreeze++}`,
      scope: req.scope ?? {},
      reason: req.reason,
      by: req.by,
      createdAt: now,
      source,
      ...(req.from !== undefined ? { from: req.from } : {}),
      ...(req.until !== undefined ? { until: req.until } : {}),
    };
    this.state.freezes.push(f);
    this.log({ at: now, action: 'freeze', by: req.by, reason: req.reason, detail: f.id });
    return f;
  }

  /** Lifts a freeze; an ended one is answered as it ended. Undefined: no such freeze. */
  liftFreeze(req: LiftRequest, now: number): Freeze | undefined {
    const i = this.state.freezes.findIndex((f) => f.id === req.id);
    if (i < 0) return this.state.ended.find((f) => f.id === req.id);
    const [f] = this.state.freezes.splice(i, 1);
    f!.lifted = { by: req.by, reason: req.reason, at: now };
    this.end(f!);
    this.log({ at: now, action: 'lift', by: req.by, reason: req.reason, detail: f!.id });
    return f;
  }

  /** Who may override, if the policy file restricts it: the refusal, or undefined. */
  overrideRefusal(by: string): string | undefined {
    const allowed = this.state.overriders;
    if (!allowed || allowed.includes(by)) return undefined;
    return `${by} may not override a freeze: the policy file names who may (${allowed.join(', ')})`;
  }

  /** An override: the service (or one rollout) goes past freezes until it expires. */
  createOverride(req: OverrideRequest, now: number): FreezeOverride {
    const o: FreezeOverride = {
      id: `O-${this.state.nextOverride!++}`,
      service: req.service,
      ...(req.rolloutId !== undefined ? { rolloutId: req.rolloutId } : {}),
      ...(req.freezes ? { freezes: req.freezes } : {}),
      reason: req.reason,
      by: req.by,
      createdAt: now,
      until: req.until ?? now + DEFAULT_OVERRIDE_MS,
    };
    this.state.overrides!.push(o);
    const what = o.freezes ? o.freezes.join(', ') : 'every freeze';
    this.log({ at: now, action: 'override', by: req.by, reason: req.reason, detail: `${o.id}: ${o.rolloutId ?? o.service} past ${what}` });
    return o;
  }

  /** Whether the calendars' periods must be made again (none yet, or less than half the horizon left). */
  calendarsDue(now: number, horizonMs: number): boolean {
    if (!this.state.calendars?.length) return false;
    return this.state.calendarHorizon === undefined || now >= this.state.calendarHorizon - horizonMs / 2;
  }

  /** When the calendars must be made again, if there are any. */
  calendarsDueAt(horizonMs: number): number | undefined {
    if (!this.state.calendars?.length) return undefined;
    return this.state.calendarHorizon === undefined ? 0 : this.state.calendarHorizon - horizonMs / 2;
  }

  /** The calendars' periods up to `horizon`, as freezes; a period made before (or lifted by hand) is not made again. */
  addCalendarPeriods(periods: { calendar: string; key: string; from: number; until: number }[], horizon: number, now: number): void {
    const known = new Set([...this.state.freezes, ...this.state.ended].map((f) => f.calendar?.key).filter(Boolean));
    for (const p of periods) {
      const cal = this.state.calendars?.find((c) => c.name === p.calendar);
      if (!cal || known.has(p.key) || p.until <= now) continue;
      const f = this.createFreeze(
        { scope: cal.scope ?? {}, reason: `${cal.reason} (calendar ${cal.name})`, by: 'policy-file', from: p.from, until: p.until },
        now,
        'calendar',
      );
      f.calendar = { name: cal.name, key: p.key };
    }
    this.state.calendarHorizon = horizon;
  }

  /** A firing alert raises (or keeps) its blocker; a resolved one ends it a cool-down later. */
  alert(req: AlertRequest, now: number): Freeze | null {
    const f = this.state.freezes.find((x) => x.alert?.fingerprint === req.fingerprint);
    if (req.status === 'firing') {
      if (f) {
        // Firing again within the cool-down: the blocker stays until it resolves again.
        if (f.alert!.resolvedAt !== undefined) {
          delete f.alert!.resolvedAt;
          delete f.until;
          this.log({ at: now, action: 'freeze', by: req.by, reason: `firing again: ${req.reason}`, detail: f.id });
        }
        return f;
      }
      const created = this.createFreeze({ scope: req.scope, reason: req.reason, by: req.by }, now, 'alert');
      created.alert = { fingerprint: req.fingerprint };
      return created;
    }
    if (!f) return null;
    if (f.alert!.resolvedAt === undefined) {
      f.alert!.resolvedAt = now;
      f.until = now + req.cooldownMs;
      this.log({ at: now, action: 'lift', by: req.by, reason: `resolved; ends after its cool-down: ${req.reason}`, detail: f.id });
    }
    return f;
  }

  /** Freezes whose `until` has passed end by themselves, and so do overrides. */
  expire(now: number): void {
    for (const o of this.state.overrides!.filter((x) => x.until <= now))
      this.log({ at: now, action: 'expire', by: 'policy', reason: `${o.id} reached its end`, detail: o.id });
    this.state.overrides = this.state.overrides!.filter((x) => x.until > now);
    for (const f of [...this.state.freezes]) {
      if (f.until === undefined || f.until > now) continue;
      this.state.freezes.splice(this.state.freezes.indexOf(f), 1);
      this.end(f);
      this.log({ at: now, action: 'expire', by: 'policy', reason: `${f.id} reached its end`, detail: f.id });
    }
  }

  /** The policy file's part replaced: region concurrency, and its freezes (lifted and created anew). */
  apply(req: ApplyRequest, now: number): void {
    this.state.concurrency = { ...req.concurrency };
    // Calendars are made into periods anew (the loop asks an activity at once): the old ones go.
    for (const f of this.state.freezes.filter((x) => x.source === 'calendar'))
      this.liftFreeze({ id: f.id, by: req.by, reason: `calendar replaced by the policy file: ${req.reason}` }, now);
    if (req.calendars?.length) this.state.calendars = req.calendars.map((c) => ({ ...c }));
    else delete this.state.calendars;
    delete this.state.calendarHorizon;
    if (req.overriders) this.state.overriders = [...req.overriders];
    else delete this.state.overriders;
    for (const f of this.state.freezes.filter((x) => x.source === 'policy-file'))
      this.liftFreeze({ id: f.id, by: req.by, reason: `replaced by the policy file: ${req.reason}` }, now);
    for (const f of req.freezes) this.createFreeze({ ...f, by: req.by }, now, 'policy-file');
    this.state.appliedBy = { by: req.by, reason: req.reason, at: now };
    this.log({
      at: now,
      action: 'apply',
      by: req.by,
      reason: req.reason,
      detail: `${Object.keys(req.concurrency).length} region limit(s), ${req.freezes.length} freeze(s)`,
    });
  }

  /**
   * A rollout's question before a step. A deploy allowed takes the region's slot (kept until
   * the promotion, a release or the rollout's end); a promotion allowed gives it back.
   */
  consult(req: ConsultRequest, now: number): ConsultAnswer {
    const freezes = freezeBlockers(this.state, req, now);
    const slot = req.step === 'deploy' && freezes.length === 0 ? concurrencyBlocker(this.state, req, now) : undefined;
    const blockers = slot ? [...freezes, slot] : freezes;
    const key = (w: { rolloutId: string; region: string; step: string }) => w.rolloutId === req.rolloutId && w.region === req.region && w.step === req.step;
    if (blockers.length > 0) {
      if (!this.state.waiting.some(key)) this.state.waiting.push({ ...req, since: now });
      this.told[req.rolloutId] = JSON.stringify(blockers);
      return { allowed: false, blockers };
    }
    this.state.waiting = this.state.waiting.filter((w) => !key(w));
    const holds = this.state.leases.some((l) => l.rolloutId === req.rolloutId && l.region === req.region);
    if (req.step === 'deploy' && !holds) {
      this.state.leases.push({ rolloutId: req.rolloutId, service: req.service, team: req.team, region: req.region, since: now });
      if (this.state.concurrency[req.region] !== undefined)
        this.log({ at: now, action: 'grant', by: 'policy', reason: `a slot in ${req.region}`, detail: `${req.rolloutId} (${req.service})` });
    }
    if (req.step === 'promote') this.release(req.rolloutId, req.region, 'promoted', now);
    this.told[req.rolloutId] = '[]';
    const overridden = overriddenFreezes(this.state, req, now).map(({ freeze, override }) => ({
      override: override.id,
      freeze: freeze.id,
      by: override.by,
      reason: override.reason,
      until: override.until,
    }));
    return { allowed: true, blockers: [], ...(overridden.length ? { overridden } : {}) };
  }

  /** A rollout gives back its slots (one region's, or all) and stops waiting. */
  release(rolloutId: string, region: string | undefined, reason: string, now: number, action: PolicyLogEntry['action'] = 'release'): void {
    const mine = (x: { rolloutId: string; region: string }) => x.rolloutId === rolloutId && (region === undefined || x.region === region);
    const had = this.state.leases.filter(mine);
    this.state.leases = this.state.leases.filter((l) => !mine(l));
    this.state.waiting = this.state.waiting.filter((w) => !mine(w));
    if (region === undefined) delete this.told[rolloutId];
    const limited = had.filter((l) => this.state.concurrency[l.region] !== undefined);
    if (limited.length > 0 || action === 'reclaim')
      this.log({ at: now, action, by: 'policy', reason, detail: `${rolloutId}${limited.length ? ` (${limited.map((l) => l.region).join(', ')})` : ''}` });
  }

  /** A refused request sent as a signal (which cannot answer): recorded, never silently dropped. */
  reject(what: string, by: unknown, problems: string[], now: number): void {
    this.log({ at: now, action: 'rejected', by: typeof by === 'string' && by ? by : 'unknown', reason: problems.join('; '), detail: what });
  }

  /** Rollouts holding a slot while others wait for one: the ones whose end must be checked if they never said. */
  slotHoldersWithQueue(): string[] {
    const regions = new Set(this.state.waiting.filter((w) => w.step === 'deploy' && this.state.concurrency[w.region] !== undefined).map((w) => w.region));
    return [...new Set(this.state.leases.filter((l) => regions.has(l.region)).map((l) => l.rolloutId))];
  }

  /**
   * What each known rollout must hear now: those deploying or soaking see the freezes that
   * would hold their promotion; those waiting see what holds them, and a waiter whose
   * blockers are gone hears an empty list (it asks again and goes on). Each hears a change once.
   */
  notices(now: number): { rolloutId: string; notice: PolicyNotice }[] {
    const out: { rolloutId: string; notice: PolicyNotice }[] = [];
    const seen = new Set<string>();
    const tell = (rolloutId: string, region: string, blockers: Blocker[]) => {
      if (seen.has(rolloutId)) return;
      seen.add(rolloutId);
      const text = JSON.stringify(blockers);
      if (this.told[rolloutId] === text) return;
      this.told[rolloutId] = text;
      out.push({ rolloutId, notice: { region, blockers, at: now } });
    };
    // Waiters first, in arrival order: a slot freed goes to the first who may take it.
    for (const w of [...this.state.waiting].sort((a, b) => a.since - b.since)) {
      const freezes = freezeBlockers(this.state, w, now);
      const slot = w.step === 'deploy' && freezes.length === 0 ? concurrencyBlocker(this.state, w, now) : undefined;
      tell(w.rolloutId, w.region, slot ? [...freezes, slot] : freezes);
    }
    for (const l of this.state.leases) tell(l.rolloutId, l.region, freezeBlockers(this.state, l, now));
    return out;
  }

  /** Whether any freeze holds at `now` (for the log and the view). */
  activeFreezes(now: number): Freeze[] {
    return this.state.freezes.filter((f) => freezeActive(f, now));
  }

  private end(f: Freeze): void {
    this.state.ended.push(f);
    if (this.state.ended.length > MAX_ENDED_FREEZES) this.state.ended.splice(0, this.state.ended.length - MAX_ENDED_FREEZES);
  }

  private log(e: PolicyLogEntry): void {
    this.state.log.push(e);
    if (this.state.log.length > MAX_POLICY_LOG) this.state.log.splice(0, this.state.log.length - MAX_POLICY_LOG);
  }
}
