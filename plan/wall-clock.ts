// Wall-clock arithmetic in a region's own timezone, shared by deploy windows (windows.ts)
// and the fleet policy's calendar freezes (calendars.ts). Wall-clock times become instants
// with the "compatible" rule: see windows.ts's header for why.
import type { IANAZone } from 'luxon';

export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/** A calendar date with no timezone, held as the epoch ms of its UTC midnight. */
export type CalendarDay = number;

/** Monday is 0. */
export function isoDate(day: CalendarDay): string {
  return new Date(day).toISOString().slice(0, 10);
}

export function weekdayIndex(day: CalendarDay): number {
  return (new Date(day).getUTCDay() + 6) % 7;
}

/** The local calendar date of an instant in the zone. */
export function localDay(zone: IANAZone, at: number): CalendarDay {
  const wall = at + zone.offset(at) * MINUTE_MS;
  return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
}

/** The instant of a local wall-clock time; see the file header for gaps and overlaps. */
export function instantOf(zone: IANAZone, day: CalendarDay, minuteOfDay: number): number {
  const wall = day + minuteOfDay * MINUTE_MS;
  // Offsets a day either side bracket any single transition near this wall time.
  const offsets = new Set([zone.offset(wall - DAY_MS), zone.offset(wall), zone.offset(wall + DAY_MS)]);
  let earliest: number | undefined;
  for (const o of offsets) {
    const at = wall - o * MINUTE_MS;
    if (zone.offset(at) === o && (earliest === undefined || at < earliest)) earliest = at;
  }
  if (earliest !== undefined) return earliest;
  // In a gap the clock reads the wall time only under the offset before the jump; zones
  // spring forward by raising their offset, so that is the smaller one.
  return wall - Math.min(...offsets) * MINUTE_MS;
}
