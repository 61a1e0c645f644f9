// Turns two successive statuses into what changed: lines an operator reads in a log, and
// events (NDJSON) a CI job parses. Both see the same changes, so neither misses one.
import type { CheckResult, GateResult } from '../domain/activity-contract';
import type { HaltInfo, HoldInfo, RecordedAction, RegionState, RolloutStatus } from '../domain/state';
import { checkText, failingChecks } from '../domain/gate-text';

function time(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().slice(11, 19) + 'Z' : '?';
}

function regionLine(r: RegionState): string {
  switch (r.status) {
    case 'soaking':
      return `soaking until ${time(r.soakEndsAt)}${r.waitingFor ? ` (${r.waitingFor})` : ''}`;
    case 'waiting-window':
      return `waiting for ${r.waitingFor ?? 'its deploy window'} until ${time(r.waitingUntil)}`;
    case 'promoted': {
      const checks = r.lastGate?.checks.map((c) => `${c.name}=${c.value ?? '?'} ${c.comparator} ${c.threshold}`).join(', ');
      return `promoted${checks ? ` (gate pass: ${checks})` : ''}`;
    }
    case 'failed':
    case 'inconclusive':
      return `${r.status}: ${r.lastGate ? failingChecks(r.lastGate).map(checkText).join('; ') : ''}`;
    default:
      return r.waitingFor ? `${r.status}: waiting for ${r.waitingFor}` : r.status;
  }
}

/**
 * The actions recorded since prev. Counted with the ones folded into `earlierActions`: once
 * 100 are kept, a new one leaves the length of `actions` as it was.
 */
function newActions(s: RolloutStatus, prev?: RolloutStatus): RecordedAction[] {
  if (!prev) return s.actions;
  const total = (x: RolloutStatus) => (x.earlierActions?.count ?? 0) + x.actions.length;
  const fresh = Math.min(s.actions.length, Math.max(0, total(s) - total(prev)));
  return fresh ? s.actions.slice(-fresh) : [];
}

/** Lines describing what changed from prev to s (everything, when prev is undefined). */
export function progressLines(s: RolloutStatus, prev?: RolloutStatus): string[] {
  const lines: string[] = [];
  if (!prev || prev.state !== s.state)
    lines.push(`rollout ${s.service} ${s.version}: ${s.state}${s.halt && s.state !== 'running' ? ` — ${s.halt.reason}` : ''}`);
  s.regions.forEach((r, i) => {
    const p = prev?.regions[i];
    if (!p || p.status !== r.status || p.waitingFor !== r.waitingFor) {
      if (!prev && r.status === 'pending') return;
      lines.push(`  [${r.name}] ${regionLine(r)}`);
    }
  });
  for (const a of newActions(s, prev)) {
    lines.push(`  operator ${a.action} by ${a.by} (${a.via}): ${a.accepted ? (a.note ?? 'accepted') : `REJECTED — ${a.note}`}`);
  }
  return lines;
}

// ---- events for CI (`--json` with deploy --follow and watch): one JSON object per line ----

/** A gate evaluation as CI reads it: each check with what it measured against what. */
export interface GateReadings {
  verdict: GateResult['verdict'];
  at: string;
  checks: Pick<CheckResult, 'name' | 'value' | 'comparator' | 'threshold' | 'verdict' | 'detail'>[];
}

interface EventBase {
  /** When mrcd saw it (ISO 8601). */
  at: string;
  rolloutId: string;
}

/** The first status mrcd read of the rollout (right after `deploy` started it, or when `watch` began). */
export interface RolloutEvent extends EventBase {
  type: 'rollout';
  service: string;
  version: string;
  state: RolloutStatus['state'];
  /** This command started the rollout (deploy), rather than found it running (watch). */
  started: boolean;
  startedBy?: string;
  startedAt: string;
  regions: { name: string; size: number; status: RegionState['status'] }[];
  summary: string;
}

export interface StateEvent extends EventBase {
  type: 'state';
  state: RolloutStatus['state'];
  previous: RolloutStatus['state'];
  summary: string;
  pausedBy?: string;
  halt?: HaltInfo;
  /** The hold a person is asked to end (paused, halted, awaiting approval): since when, reminders sent. */
  hold?: HoldInfo;
}

export interface RegionEvent extends EventBase {
  type: 'region';
  region: string;
  status: RegionState['status'];
  /** Absent when mrcd had not seen the region before. */
  previous?: RegionState['status'];
  attempts: number;
  waitingFor?: string;
  deployedAt?: string;
  soakEndsAt?: string;
  promotedAt?: string;
  /** The region's last gate evaluation (or the breach that failed it). */
  gate?: GateReadings;
}

export interface ActionEvent extends EventBase {
  type: 'action';
  action: string;
  by: string;
  reason: string;
  region?: string;
  via: RecordedAction['via'];
  accepted: boolean;
  note?: string;
  /** When the rollout recorded it. */
  actedAt: string;
}

/** The last event: where following stopped and the exit code mrcd exits with. */
export interface VerdictEvent extends EventBase {
  type: 'verdict';
  outcome: 'ended' | 'halted' | 'timed-out';
  state: RolloutStatus['state'];
  succeeded: boolean;
  exitCode: number;
  summary: string;
  halt?: HaltInfo;
  /** The whole status at the end (what `mrcd --json status` prints). */
  status: RolloutStatus;
}

/** The last event when following failed (no such rollout, Temporal unreachable, refused start). */
export interface ErrorEvent extends EventBase {
  type: 'error';
  exitCode: number;
  message: string;
}

export type FollowEvent = RolloutEvent | StateEvent | RegionEvent | ActionEvent | VerdictEvent | ErrorEvent;

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function gateReadings(g: GateResult): GateReadings {
  return {
    verdict: g.verdict,
    at: iso(g.at)!,
    checks: g.checks.map((c) => ({
      name: c.name,
      ...(c.value !== undefined ? { value: c.value } : {}),
      comparator: c.comparator,
      threshold: c.threshold,
      verdict: c.verdict,
      detail: c.detail,
    })),
  };
}

function regionEvent(base: EventBase, r: RegionState, previous?: RegionState): RegionEvent {
  const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
  return {
    type: 'region',
    ...base,
    region: r.name,
    status: r.status,
    ...opt('previous', previous?.status),
    attempts: r.attempts,
    ...opt('waitingFor', r.waitingFor),
    ...opt('deployedAt', iso(r.deployedAt)),
    ...opt('soakEndsAt', iso(r.soakEndsAt)),
    ...opt('promotedAt', iso(r.promotedAt)),
    ...opt('gate', r.lastGate && gateReadings(r.lastGate)),
  };
}

/**
 * The events from prev to s, seen at `atMs`: the rollout (when prev is undefined), a state
 * change, each region whose status changed (with its gate readings), each new operator action.
 */
export function progressEvents(s: RolloutStatus, prev: RolloutStatus | undefined, atMs: number, opts: { started?: boolean } = {}): FollowEvent[] {
  const base: EventBase = { at: iso(atMs)!, rolloutId: s.rolloutId };
  const events: FollowEvent[] = [];
  if (!prev)
    events.push({
      type: 'rollout',
      ...base,
      service: s.service,
      version: s.version,
      state: s.state,
      started: Boolean(opts.started),
      ...(s.startedBy !== undefined ? { startedBy: s.startedBy } : {}),
      startedAt: iso(s.startedAt)!,
      regions: s.regions.map((r) => ({ name: r.name, size: r.size, status: r.status })),
      summary: s.summary,
    });
  else if (prev.state !== s.state)
    events.push({
      type: 'state',
      ...base,
      state: s.state,
      previous: prev.state,
      summary: s.summary,
      ...(s.pausedBy !== undefined ? { pausedBy: s.pausedBy } : {}),
      ...(s.halt && s.state !== 'running' ? { halt: s.halt } : {}),
      ...(s.hold ? { hold: s.hold } : {}),
    });
  s.regions.forEach((r, i) => {
    const p = prev?.regions[i];
    if (!prev && r.status === 'pending') return; // listed in the rollout event
    if (!p || p.status !== r.status || p.waitingFor !== r.waitingFor) events.push(regionEvent(base, r, p));
  });
  for (const a of newActions(s, prev))
    events.push({
      type: 'action',
      ...base,
      action: a.action,
      by: a.by,
      reason: a.reason,
      ...(a.region !== undefined ? { region: a.region } : {}),
      via: a.via,
      accepted: a.accepted,
      ...(a.note !== undefined ? { note: a.note } : {}),
      actedAt: iso(a.at)!,
    });
  return events;
}
