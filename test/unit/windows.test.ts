// Deploy windows. Every case uses fixed instants and asserts exact ISO instants, so the
// suite must pass unchanged under any machine TZ (run it with TZ=Pacific/Auckland too).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { computeDeployWindow, describeWindow, nextDeployWindow } from '../../activities/windows';
import type { DeployWindow } from '../../plan';
import { ACTIVITY_FAILURE } from '../../domain/failures';

const MIN = 60_000;
const HOUR = 60 * MIN;

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  assert.ok(Number.isFinite(ms), `bad test instant ${iso}`);
  return ms;
};
const iso = (ms: number): string => new Date(ms).toISOString();

function win(timezone: string, allow: DeployWindow['allow'], blackout: string[] = []): DeployWindow {
  return { timezone, allow, blackout };
}

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const dublinOffice = win('Europe/Dublin', [{ days: [...weekdays], start: '09:00', end: '17:00' }]);

/** The start as an ISO instant, plus the reason, so one assertion shows both on failure. */
function decide(window: DeployWindow, now: string, soakMs: number): { startAt: string; reason?: string } {
  const d = computeDeployWindow({ window, now: at(now), soakMs });
  return { startAt: iso(d.startAt), ...(d.reason !== undefined ? { reason: d.reason } : {}) };
}

function assertNoWindow(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, ACTIVITY_FAILURE.noDeployWindow);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, message);
    return true;
  });
}

describe('deploy windows: office hours in Europe/Dublin (GMT in November)', () => {
  test('inside the window with room for the soak: start now, no reason', () => {
    assert.deepEqual(decide(dublinOffice, '2026-11-25T10:00:00.000Z', 30 * MIN), { startAt: '2026-11-25T10:00:00.000Z' });
  });

  test('a soak ending exactly at closing time still fits', () => {
    assert.deepEqual(decide(dublinOffice, '2026-11-25T16:30:00.000Z', 30 * MIN), { startAt: '2026-11-25T16:30:00.000Z' });
  });

  test('inside the window but the soak would outlast it: the next period start', () => {
    assert.deepEqual(decide(dublinOffice, '2026-11-25T16:45:00.000Z', 30 * MIN), {
      startAt: '2026-11-26T09:00:00.000Z',
      reason:
        'soak 30m would run past 17:00, when the current period closes (window mon-fri 09:00-17:00 Europe/Dublin); ' +
        'next opening Thu 2026-11-26 09:00 (soak 30m must fit)',
    });
  });

  test('before the window opens: today at opening time', () => {
    assert.deepEqual(decide(dublinOffice, '2026-11-25T07:15:00.000Z', 30 * MIN), {
      startAt: '2026-11-25T09:00:00.000Z',
      reason: 'outside window mon-fri 09:00-17:00 Europe/Dublin; next opening Wed 2026-11-25 09:00 (soak 30m must fit)',
    });
  });

  test('weekend: Monday at opening time', () => {
    assert.deepEqual(decide(dublinOffice, '2026-11-28T12:00:00.000Z', 30 * MIN), {
      startAt: '2026-11-30T09:00:00.000Z',
      reason: 'outside window mon-fri 09:00-17:00 Europe/Dublin; next opening Mon 2026-11-30 09:00 (soak 30m must fit)',
    });
  });

  test('Friday at closing time exactly: the period is over, Monday', () => {
    assert.equal(decide(dublinOffice, '2026-11-27T17:00:00.000Z', 30 * MIN).startAt, '2026-11-30T09:00:00.000Z');
  });

  test('nextDeployWindow (the activity) answers what computeDeployWindow does', async () => {
    // A now ahead of this machine's clock (a time-skipping server's) is taken as given.
    const input = { window: dublinOffice, now: Date.now() + 400 * 24 * 3_600_000, soakMs: 30 * MIN };
    assert.deepEqual(await nextDeployWindow(input), computeDeployWindow(input));
  });

  test("nextDeployWindow never judges by a time older than its worker's clock (a workflow task run with a dead worker's last time)", async () => {
    const stale = { window: dublinOffice, now: at('2026-11-28T12:00:00.000Z'), soakMs: 30 * MIN };
    const before = Date.now();
    const decision = await nextDeployWindow(stale);
    assert.ok(decision.startAt >= before, `startAt ${new Date(decision.startAt).toISOString()} is before this machine's now`);
    assert.notEqual(decision.startAt, computeDeployWindow(stale).startAt);
  });
});

describe('deploy windows: blackout dates', () => {
  const christmas = win('Europe/Dublin', [{ days: [...weekdays], start: '09:00', end: '17:00' }], ['2026-12-24']);

  test('on a blackout day: the next day that is not one', () => {
    assert.deepEqual(decide(christmas, '2026-12-24T10:00:00.000Z', 30 * MIN), {
      startAt: '2026-12-25T09:00:00.000Z',
      reason: 'blackout 2026-12-24 (Europe/Dublin); next opening Fri 2026-12-25 09:00 (soak 30m must fit)',
    });
  });

  test('the day before a blackout, after hours: the blackout day is skipped and named', () => {
    assert.deepEqual(decide(christmas, '2026-12-23T17:30:00.000Z', 30 * MIN), {
      startAt: '2026-12-25T09:00:00.000Z',
      reason: 'outside window mon-fri 09:00-17:00 Europe/Dublin; next opening Fri 2026-12-25 09:00 (soak 30m must fit); ' + 'skipping blackout 2026-12-24',
    });
  });

  test('blackout dates are local: 23:30 UTC on the 23rd is already the 24th in Auckland', () => {
    // Auckland is UTC+13 in December, so this instant is 12:30 on Thursday the 24th there.
    const auckland = win('Pacific/Auckland', [{ days: [...weekdays], start: '09:00', end: '17:00' }], ['2026-12-24']);
    assert.deepEqual(decide(auckland, '2026-12-23T23:30:00.000Z', 30 * MIN), {
      startAt: '2026-12-24T20:00:00.000Z',
      reason: 'blackout 2026-12-24 (Pacific/Auckland); next opening Fri 2026-12-25 09:00 (soak 30m must fit)',
    });
  });

  test('4-day weekend (Good Friday and Easter Monday blacked out): Tuesday', () => {
    const easter = win('Europe/Dublin', [{ days: [...weekdays], start: '09:00', end: '17:00' }], ['2026-04-03', '2026-04-06']);
    // Dublin is on IST (UTC+1) in April: 09:00 local is 08:00Z.
    assert.deepEqual(decide(easter, '2026-04-02T15:45:00.000Z', 30 * MIN), {
      startAt: '2026-04-07T08:00:00.000Z',
      reason:
        'soak 30m would run past 17:00, when the current period closes (window mon-fri 09:00-17:00 Europe/Dublin); ' +
        'next opening Tue 2026-04-07 09:00 (soak 30m must fit); skipping blackout 2026-04-03, 2026-04-06',
    });
  });
});

describe('deploy windows: period shapes', () => {
  const fridayNight = win('Europe/Dublin', [{ days: ['fri'], start: '22:00', end: '02:00' }]);

  test('overnight period: open before midnight on its own day', () => {
    assert.equal(decide(fridayNight, '2026-11-27T21:00:00.000Z', 30 * MIN).startAt, '2026-11-27T22:00:00.000Z');
  });

  test('overnight period: still open after midnight, the period belongs to Friday', () => {
    assert.deepEqual(decide(fridayNight, '2026-11-28T01:00:00.000Z', 30 * MIN), { startAt: '2026-11-28T01:00:00.000Z' });
  });

  test('overnight period: too late after midnight for the soak, next Friday', () => {
    assert.equal(decide(fridayNight, '2026-11-28T01:45:00.000Z', 30 * MIN).startAt, '2026-12-04T22:00:00.000Z');
  });

  test('overnight period: a soak as long as the period fits exactly', () => {
    assert.deepEqual(decide(fridayNight, '2026-11-27T22:00:00.000Z', 4 * HOUR), { startAt: '2026-11-27T22:00:00.000Z' });
  });

  test('overnight period that runs into a blackout Saturday is not usable at all', () => {
    const w = win('Europe/Dublin', [{ days: ['fri'], start: '22:00', end: '02:00' }], ['2026-11-28']);
    assert.deepEqual(decide(w, '2026-11-27T21:00:00.000Z', 30 * MIN), {
      startAt: '2026-12-04T22:00:00.000Z',
      reason: 'outside window fri 22:00-02:00(+1d) Europe/Dublin; next opening Fri 2026-12-04 22:00 (soak 30m must fit); ' + 'skipping blackout 2026-11-28',
    });
  });

  test('a period ending at midnight does not touch the next date', () => {
    const w = win('Europe/Dublin', [{ days: ['fri'], start: '20:00', end: '00:00' }], ['2026-11-28']);
    assert.deepEqual(decide(w, '2026-11-27T20:00:00.000Z', 4 * HOUR), { startAt: '2026-11-27T20:00:00.000Z' });
  });

  describe('two periods per day', () => {
    const split = win('Europe/Dublin', [
      { days: [...weekdays], start: '06:00', end: '08:00' },
      { days: [...weekdays], start: '14:00', end: '16:00' },
    ]);

    test('in the morning period with room: now', () => {
      assert.deepEqual(decide(split, '2026-11-25T07:00:00.000Z', 30 * MIN), { startAt: '2026-11-25T07:00:00.000Z' });
    });

    test('morning period too short for the rest of the soak: the afternoon period', () => {
      assert.equal(decide(split, '2026-11-25T07:45:00.000Z', 30 * MIN).startAt, '2026-11-25T14:00:00.000Z');
    });

    test('between the periods: the afternoon period', () => {
      assert.deepEqual(decide(split, '2026-11-25T10:00:00.000Z', 30 * MIN), {
        startAt: '2026-11-25T14:00:00.000Z',
        reason: 'outside window mon-fri 06:00-08:00, mon-fri 14:00-16:00 Europe/Dublin; next opening Wed 2026-11-25 14:00 (soak 30m must fit)',
      });
    });

    test('the soak must fit in ONE period, even when both lie on the same day', () => {
      // 3h fits neither 2h period; with nothing longer anywhere there is no window at all.
      assertNoWindow(
        () => decide(split, '2026-11-25T05:00:00.000Z', 3 * HOUR),
        /^soak 3h is longer than the longest allowed period 2h \(window mon-fri 06:00-08:00, mon-fri 14:00-16:00 Europe\/Dublin\)/,
      );
    });
  });
});

describe('deploy windows: timezones', () => {
  const office = (tz: string) => win(tz, [{ days: [...weekdays], start: '09:00', end: '17:00' }]);
  const instant = '2026-11-25T13:00:00.000Z'; // Wednesday

  test('the same instant and the same hours give different answers per zone', () => {
    // 13:00 in Dublin (GMT): open.
    assert.deepEqual(decide(office('Europe/Dublin'), instant, 30 * MIN), { startAt: instant });
    // 08:00 in New York (EST, UTC-5): opens at 09:00 EST.
    assert.equal(decide(office('America/New_York'), instant, 30 * MIN).startAt, '2026-11-25T14:00:00.000Z');
    // 22:00 in Tokyo (UTC+9): closed until Thursday 09:00 JST.
    assert.deepEqual(decide(office('Asia/Tokyo'), instant, 30 * MIN), {
      startAt: '2026-11-26T00:00:00.000Z',
      reason: 'outside window mon-fri 09:00-17:00 Asia/Tokyo; next opening Thu 2026-11-26 09:00 (soak 30m must fit)',
    });
  });

  test('an unknown timezone is a NoDeployWindow failure, not a crash', () => {
    assertNoWindow(() => decide(office('Mars/Olympus_Mons'), instant, 30 * MIN), /not an IANA timezone/);
  });
});

describe('deploy windows: daylight saving time', () => {
  test('Europe/Dublin: a weekend across spring-forward lands on 09:00 IST, 08:00Z', () => {
    // Friday 18:00 GMT; the clocks go 01:00 GMT → 02:00 IST on Sunday 2026-03-29.
    assert.deepEqual(decide(dublinOffice, '2026-03-27T18:00:00.000Z', 30 * MIN), {
      startAt: '2026-03-30T08:00:00.000Z',
      reason: 'outside window mon-fri 09:00-17:00 Europe/Dublin; next opening Mon 2026-03-30 09:00 (soak 30m must fit)',
    });
  });

  test('Europe/Dublin: a weekend across fall-back lands on 09:00 GMT, 09:00Z', () => {
    // Friday 18:00 IST; the clocks go 02:00 IST → 01:00 GMT on Sunday 2026-10-25.
    assert.equal(decide(dublinOffice, '2026-10-23T17:00:00.000Z', 30 * MIN).startAt, '2026-10-26T09:00:00.000Z');
  });

  describe('America/New_York, spring-forward on Sunday 2026-03-08 (02:00 EST → 03:00 EDT)', () => {
    const sundayNight = win('America/New_York', [{ days: ['sun'], start: '00:00', end: '04:00' }]);

    test('00:00-04:00 lasts 3h of real time that day, so a 3.5h soak waits a week', () => {
      assert.deepEqual(decide(sundayNight, '2026-03-08T05:00:00.000Z', 3.5 * HOUR), {
        startAt: '2026-03-15T04:00:00.000Z',
        reason:
          'soak 210m would run past 04:00, when the current period closes (window sun 00:00-04:00 America/New_York); ' +
          'next opening Sun 2026-03-15 00:00 (soak 210m must fit)',
      });
    });

    test('a 3h soak fits exactly that day', () => {
      assert.deepEqual(decide(sundayNight, '2026-03-08T05:00:00.000Z', 3 * HOUR), { startAt: '2026-03-08T05:00:00.000Z' });
    });

    test('a start at 02:30, which does not exist that day, moves forward by the gap to 03:30 EDT', () => {
      const w = win('America/New_York', [{ days: ['sun'], start: '02:30', end: '05:00' }]);
      assert.deepEqual(decide(w, '2026-03-07T17:00:00.000Z', 1 * HOUR), {
        startAt: '2026-03-08T07:30:00.000Z',
        reason: 'outside window sun 02:30-05:00 America/New_York; next opening Sun 2026-03-08 03:30 (soak 1h must fit)',
      });
    });
  });

  describe('America/New_York, fall-back on Sunday 2026-11-01 (02:00 EDT → 01:00 EST)', () => {
    test('00:00-04:00 lasts 5h of real time that day, so a 4.5h soak fits', () => {
      const w = win('America/New_York', [{ days: ['sun'], start: '00:00', end: '04:00' }]);
      assert.deepEqual(decide(w, '2026-11-01T04:00:00.000Z', 4.5 * HOUR), { startAt: '2026-11-01T04:00:00.000Z' });
    });

    test('a start at 01:30, which happens twice, means the first one (EDT); only that day fits a 2h soak', () => {
      // 01:30-03:00 is 1.5h on most Sundays but 2.5h on fall-back day; searching from
      // mid-October must find exactly that Sunday and its first 01:30 (05:30Z, not 06:30Z).
      const w = win('America/New_York', [{ days: ['sun'], start: '01:30', end: '03:00' }]);
      assert.deepEqual(decide(w, '2026-10-14T12:00:00.000Z', 2 * HOUR), {
        startAt: '2026-11-01T05:30:00.000Z',
        reason: 'outside window sun 01:30-03:00 America/New_York; next opening Sun 2026-11-01 01:30 (soak 2h must fit)',
      });
    });
  });
});

describe('deploy windows: no window at all', () => {
  test('a soak longer than every period fails fast with NoDeployWindow', () => {
    const w = win('Europe/Dublin', [{ days: ['sat', 'sun'], start: '10:00', end: '12:00' }]);
    const started = performance.now();
    assertNoWindow(
      () => decide(w, '2026-11-25T10:00:00.000Z', 3 * HOUR),
      /^soak 3h is longer than the longest allowed period 2h \(window sat,sun 10:00-12:00 Europe\/Dublin\)/,
    );
    assert.ok(performance.now() - started < 2000, 'searching a year of days must not take seconds');
  });

  test('every usable period blacked out for a year fails with NoDeployWindow', () => {
    const mondays: string[] = [];
    for (let d = at('2026-11-30T00:00:00.000Z'); d < at('2028-01-01T00:00:00.000Z'); d += 7 * 24 * HOUR) mondays.push(iso(d).slice(0, 10));
    const w = win('Europe/Dublin', [{ days: ['mon'], start: '09:00', end: '17:00' }], mondays);
    assertNoWindow(() => decide(w, '2026-11-25T10:00:00.000Z', 30 * MIN), /^every period within 366 days long enough for soak 30m touches a blackout date/);
  });

  test('the activity rejects rather than resolving', async () => {
    const w = win('Europe/Dublin', [{ days: ['mon'], start: '09:00', end: '10:00' }]);
    await assert.rejects(nextDeployWindow({ window: w, now: at('2026-11-25T10:00:00.000Z'), soakMs: 2 * HOUR }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, ACTIVITY_FAILURE.noDeployWindow);
      return true;
    });
  });
});

describe('describeWindow', () => {
  test('groups runs of days and marks periods that cross midnight', () => {
    assert.equal(
      describeWindow(
        win(
          'Europe/Dublin',
          [
            { days: ['fri', 'mon', 'tue', 'wed', 'thu'], start: '09:00', end: '17:00' },
            { days: ['sat', 'sun'], start: '10:00', end: '12:00' },
            { days: ['mon', 'wed', 'fri'], start: '22:00', end: '02:00' },
          ],
          ['2026-12-25', '2026-12-24'],
        ),
      ),
      'mon-fri 09:00-17:00, sat,sun 10:00-12:00, mon,wed,fri 22:00-02:00(+1d) Europe/Dublin; blackout 2026-12-24, 2026-12-25',
    );
  });

  test('without blackouts, just the periods and the zone', () => {
    assert.equal(describeWindow(dublinOffice), 'mon-fri 09:00-17:00 Europe/Dublin');
  });
});
