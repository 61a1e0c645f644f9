// Calendar freezes of the fleet policy file: recurring weekly periods ("fri 16:00" to
// "mon 08:00") and whole dates (a holiday list), in a timezone of their own. The policy
// workflow cannot do timezone arithmetic deterministically, so an activity turns calendars
// into plain occurrences (from, until) a fortnight ahead, and the policy holds those as
// ordinary freezes; it asks again before the horizon runs out.
import { IANAZone } from 'luxon';
import { WEEKLY_TIME, type FreezeCalendar } from '../domain/policy';
import { DAY_MS, instantOf, localDay, weekdayIndex } from './wall-clock';

export type { FreezeCalendar } from '../domain/policy';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** One period a calendar freezes, as instants; `key` names it, so the same period is never created twice. */
export interface CalendarOccurrence {
  calendar: string;
  key: string;
  from: number;
  until: number;
}

/** How far ahead occurrences are made; the policy asks again when less than half is left. */
export const CALENDAR_HORIZON_MS = 14 * DAY_MS;

/** "fri 16:00" → day index (Monday 0) and minute of the day, or undefined if it is not that. */
export function parseWeeklyTime(text: string): { day: number; minute: number } | undefined {
  const m = WEEKLY_TIME.exec(text.trim());
  if (!m) return undefined;
  return { day: DAYS.indexOf(m[1]!.toLowerCase() as (typeof DAYS)[number]), minute: Number(m[2]) * 60 + Number(m[3]) };
}

/** Every period of the calendars that overlaps [from, to), oldest first. */
export function calendarOccurrences(calendars: FreezeCalendar[], from: number, to: number): CalendarOccurrence[] {
  const out: CalendarOccurrence[] = [];
  for (const cal of calendars) {
    const zone = IANAZone.create(cal.timezone);
    if (!zone.isValid) throw new Error(`calendar ${cal.name}: timezone ${JSON.stringify(cal.timezone)} is not an IANA timezone`);
    const add = (start: number, end: number) => {
      if (end > from && start < to && end > start) out.push({ calendar: cal.name, key: `${cal.name}@${start}`, from: start, until: end });
    };
    // A weekly period can start up to a week before `from` and still be running.
    const first = localDay(zone, from) - 7 * DAY_MS;
    const last = localDay(zone, to);
    for (const w of cal.weekly) {
      const a = parseWeeklyTime(w.from);
      const b = parseWeeklyTime(w.to);
      if (!a || !b) throw new Error(`calendar ${cal.name}: weekly ${w.from} → ${w.to} is not "ddd HH:MM"`);
      // The same day and time is a whole week.
      const days = (b.day - a.day + 7) % 7 || (b.minute <= a.minute ? 7 : 0);
      for (let d = first; d <= last; d += DAY_MS) {
        if (weekdayIndex(d) !== a.day) continue;
        add(instantOf(zone, d, a.minute), instantOf(zone, d + days * DAY_MS, b.minute));
      }
    }
    for (const date of cal.dates) {
      const day = Date.parse(`${date}T00:00:00Z`);
      add(instantOf(zone, day, 0), instantOf(zone, day + DAY_MS, 0));
    }
  }
  return out.sort((x, y) => x.from - y.from || x.calendar.localeCompare(y.calendar));
}
