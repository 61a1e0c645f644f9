// Deploy windows: when may a region start, judged by the region's own wall clock.
//
// A start at t is allowed only when the whole soak [t, t + soak] fits inside ONE allowed
// period that touches no blackout date: a region that would still be soaking when its
// window closes (or when a holiday begins) must not start, because nobody is there to
// watch the end of the soak or to roll it back.
//
// Wall-clock times become instants with the "compatible" rule (the same as TC39
// Temporal's default and RFC 5545), chosen so the answer never depends on the date the
// worker happens to run on:
//   - a time skipped by spring-forward (02:30 on a day that jumps 02:00 → 03:00) is moved
//     forward by the length of the gap, to 03:30. This is also what luxon's own
//     DateTime.fromObject does.
//   - a time that happens twice at fall-back (01:30 on a day that goes 02:00 → 01:00)
//     means its first occurrence. luxon's fromObject picks whichever offset is in force
//     *today*, which would make the same plan answer differently in July and in January,
//     so it is not used here.
// Period lengths are real elapsed milliseconds, so a 00:00-04:00 period lasts 3h on a
// spring-forward day and 5h on a fall-back day, and a soak is held against that.
//
// Pure and here in plan/ so that `mrcd plan` previews starts with the same code the
// workflow's nextDeployWindow activity (activities/windows.ts) runs.
import { DateTime, IANAZone } from 'luxon';
import type { DeployWindow } from './schema';
import { formatDuration } from '../domain/duration';
import { DAY_MS, instantOf, isoDate, localDay, weekdayIndex, type CalendarDay } from './wall-clock';

/** When may a region start: its window, the instant asked about, and the soak that must fit. */
export interface WindowQuery {
  window: DeployWindow;
  /** Epoch ms. */
  now: number;
  soakMs: number;
}

/** The earliest allowed start (epoch ms) and, when it is later than asked, why. */
export interface WindowAnswer {
  startAt: number;
  reason?: string;
}

/** No start exists within the horizon (or the window cannot be read): waiting cannot change that. */
export class NoDeployWindowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoDeployWindowError';
  }
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** How far ahead a window is searched, in local calendar days after today. */
export const WINDOW_HORIZON_DAYS = 366;
/** Blackout lists can be long; a status line must stay readable. */
const MAX_LISTED_BLACKOUTS = 5;

interface Rule {
  /** 0 = Monday … 6 = Sunday. */
  days: ReadonlySet<number>;
  startMin: number;
  endMin: number;
  overnight: boolean;
}

interface Period {
  start: number;
  end: number;
  /** Local dates the period touches, YYYY-MM-DD. */
  dates: string[];
}

function noWindow(message: string): NoDeployWindowError {
  return new NoDeployWindowError(message);
}

function parseHhmm(text: string, where: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw noWindow(`${where}: "${text}" is not a time HH:MM (24h)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function parseRules(window: DeployWindow): Rule[] {
  const rules: Rule[] = [];
  window.allow.forEach((a, i) => {
    const startMin = parseHhmm(a.start, `allow[${i}].start`);
    const endMin = parseHhmm(a.end, `allow[${i}].end`);
    // Plan lint already refuses start == end; reading it as "never" rather than "all day"
    // is the safe side if such a window reaches us anyway.
    if (startMin === endMin) return;
    const days = new Set<number>();
    for (const d of a.days) {
      const idx = (DAY_NAMES as readonly string[]).indexOf(d);
      if (idx < 0) throw noWindow(`allow[${i}].days: "${d}" is not one of ${DAY_NAMES.join(', ')}`);
      days.add(idx);
    }
    rules.push({ days, startMin, endMin, overnight: endMin < startMin });
  });
  return rules;
}

function periodOn(zone: IANAZone, day: CalendarDay, rule: Rule): Period {
  const start = instantOf(zone, day, rule.startMin);
  const end = instantOf(zone, rule.overnight ? day + DAY_MS : day, rule.endMin);
  const dates: string[] = [];
  // Half-open [start, end): a period ending at 00:00 does not touch the next date.
  if (end > start) {
    for (let d = localDay(zone, start), last = localDay(zone, end - 1); d <= last; d += DAY_MS) dates.push(isoDate(d));
  }
  return { start, end, dates };
}

function describeDays(days: readonly string[]): string {
  const idx = [...new Set(days.map((d) => (DAY_NAMES as readonly string[]).indexOf(d)).filter((i) => i >= 0))].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    // Ranges only from three days on: "sat,sun" reads better than "sat-sun".
    if (j - i >= 2) parts.push(`${DAY_NAMES[idx[i]!]}-${DAY_NAMES[idx[j]!]}`);
    else for (let k = i; k <= j; k++) parts.push(DAY_NAMES[idx[k]!]!);
    i = j + 1;
  }
  return parts.join(',');
}

/** The allowed periods and the zone, e.g. "mon-fri 09:00-17:00 Europe/Dublin". */
function describeAllowed(window: DeployWindow): string {
  const periods = window.allow.map((a) => `${describeDays(a.days)} ${a.start}-${a.end}${a.end < a.start ? '(+1d)' : ''}`);
  return `${periods.join(', ')} ${window.timezone}`;
}

function listDates(dates: Iterable<string>): string {
  const sorted = [...new Set(dates)].sort();
  const shown = sorted.slice(0, MAX_LISTED_BLACKOUTS).join(', ');
  return sorted.length > MAX_LISTED_BLACKOUTS ? `${shown} (+${sorted.length - MAX_LISTED_BLACKOUTS} more)` : shown;
}

/**
 * A one-line description of a deploy window for status output and messages, e.g.
 * "mon-fri 09:00-17:00, fri 22:00-02:00(+1d) Europe/Dublin; blackout 2026-12-24, 2026-12-25".
 * "(+1d)" marks a period that ends on the day after it starts.
 */
export function describeWindow(window: DeployWindow): string {
  const blackout = window.blackout ?? [];
  return blackout.length > 0 ? `${describeAllowed(window)}; blackout ${listDates(blackout)}` : describeAllowed(window);
}

function soakText(ms: number): string {
  return ms > 0 ? formatDuration(ms) : '0s';
}

/**
 * The earliest instant >= now at which a region may start under its deploy window.
 * Pure and deterministic: it depends on its input only, never on the machine's TZ,
 * locale or clock. Throws NoDeployWindowError when no start exists within
 * WINDOW_HORIZON_DAYS local days, since waiting and retrying cannot change that.
 */
export function computeDeployWindow(input: WindowQuery): WindowAnswer {
  const { window, now, soakMs } = input;
  if (!Number.isFinite(now)) throw noWindow(`now must be epoch milliseconds, got ${String(now)}`);
  if (!Number.isFinite(soakMs) || soakMs < 0) throw noWindow(`soak must be a non-negative duration in ms, got ${String(soakMs)}`);
  if (!IANAZone.isValidZone(window.timezone)) throw noWindow(`"${window.timezone}" is not an IANA timezone`);
  const zone = IANAZone.create(window.timezone);
  const rules = parseRules(window);
  const blackout = new Set(window.blackout ?? []);
  const soak = soakText(soakMs);
  const where = describeAllowed(window);
  if (rules.length === 0) throw noWindow(`window ${where} has no non-empty allowed period`);

  let best: number | undefined;
  let longest = 0;
  /** Starts that fit the soak but were refused for a blackout, to explain the wait. */
  const blocked: { at: number; dates: string[] }[] = [];
  /** Why `now` itself cannot start, when it lies inside a period. */
  let insideBlackout: string | undefined;
  let insideEndsAt: number | undefined;

  const today = localDay(zone, now);
  // From yesterday: an overnight period that began yesterday may still be open now.
  for (let i = -1; i <= WINDOW_HORIZON_DAYS; i++) {
    const day = today + i * DAY_MS;
    // Every period of this day and later starts after `best`: nothing earlier remains.
    if (best !== undefined && instantOf(zone, day, 0) > best) break;
    const weekday = weekdayIndex(day);
    for (const rule of rules) {
      if (!rule.days.has(weekday)) continue;
      const p = periodOn(zone, day, rule);
      if (p.end <= p.start) continue;
      longest = Math.max(longest, p.end - p.start);
      const hit = p.dates.filter((d) => blackout.has(d));
      if (p.start <= now && now < p.end) {
        if (hit.length > 0) insideBlackout ??= hit[0];
        else insideEndsAt ??= p.end;
      }
      const at = Math.max(now, p.start);
      // Closed interval: a soak ending exactly when the period closes still fits.
      if (at + soakMs > p.end) continue;
      if (hit.length > 0) {
        blocked.push({ at, dates: hit });
        continue;
      }
      if (best === undefined || at < best) best = at;
    }
  }

  if (best === undefined) {
    if (longest < soakMs) {
      throw noWindow(
        `soak ${soak} is longer than the longest allowed period ${soakText(longest)} (window ${where}): no region can start and finish its soak inside it`,
      );
    }
    if (blocked.length > 0) {
      throw noWindow(
        `every period within ${WINDOW_HORIZON_DAYS} days long enough for soak ${soak} touches a blackout date (window ${where}; blackout ${listDates(blocked.flatMap((b) => b.dates))})`,
      );
    }
    throw noWindow(`no period within ${WINDOW_HORIZON_DAYS} days can hold soak ${soak} (window ${where})`);
  }
  if (best === now) return { startAt: now };

  const todayIso = isoDate(today);
  let why: string;
  if (blackout.has(todayIso)) why = `blackout ${todayIso} (${window.timezone})`;
  else if (insideBlackout !== undefined) why = `blackout ${insideBlackout} (${window.timezone})`;
  else if (insideEndsAt !== undefined) {
    const closes = DateTime.fromMillis(insideEndsAt, { zone }).toFormat('HH:mm');
    why = `soak ${soak} would run past ${closes}, when the current period closes (window ${where})`;
  } else why = `outside window ${where}`;
  const opening = DateTime.fromMillis(best, { zone }).setLocale('en-US').toFormat('ccc yyyy-LL-dd HH:mm');
  let reason = `${why}; next opening ${opening} (soak ${soak} must fit)`;
  const skipped = blocked
    .filter((b) => b.at < best!)
    .flatMap((b) => b.dates)
    .filter((d) => d !== todayIso && d !== insideBlackout);
  if (skipped.length > 0) reason += `; skipping blackout ${listDates(skipped)}`;
  return { startAt: best, reason };
}
