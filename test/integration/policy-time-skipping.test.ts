// The fleet policy over real lengths on the time-skipping server. A calendar freeze: a
// "fri 16:00 → mon 08:00" weekend in Europe/Dublin, with the policy file applied to the
// fleet of the rollout's own task queue; a region whose soak ends on Friday evening waits,
// blocked, until Monday 08:00 local time, and the next region is deployed only then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { applyPolicy, showPolicy } from '../../client/policy';
import { planDoc, regionsOf, runRollout, TEST_GATE } from '../support/rollout-harness';
import { useTimeSkipping } from '../support/temporal';

const env = useTimeSkipping();
const ZONE = 'Europe/Dublin';

test('a weekend calendar freeze holds the promotion from Friday 16:00 to Monday 08:00, local time', { timeout: 300_000 }, async () => {
  // Skip the server's clock to the coming Friday 15:50 in Dublin.
  const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: ZONE });
  let friday = now.set({ weekday: 5, hour: 15, minute: 50, second: 0, millisecond: 0 });
  if (friday <= now) friday = friday.plus({ weeks: 1 });
  const monday = friday.plus({ days: 3 }).set({ hour: 8, minute: 0 });
  let applied = 0;
  const doc = planDoc({ defaults: { soak: '30m', checkInterval: '1m', gate: TEST_GATE } }, [
    { name: 'small', size: 1 },
    { name: 'large', size: 2 },
  ]);
  const calls = await runRollout(
    env,
    doc,
    {},
    async (h) => {
      const { status, failureType } = await h.finish(240_000);
      assert.equal(failureType, undefined, status?.summary);
      assert.equal(status.state, 'succeeded');
      const first = status.regions[0]!;
      assert.ok(first.promotedAt! >= monday.toMillis(), `small promoted at ${new Date(first.promotedAt!).toISOString()}, before Monday 08:00 Dublin`);
      const blocked = status.holds?.find((x) => x.kind === 'blocked');
      assert.ok(blocked, `a blocked hold is recorded: ${JSON.stringify(status.holds)}`);
      assert.equal(blocked.region, 'small');
      assert.ok(
        blocked.since >= friday.plus({ minutes: 10 }).toMillis() && blocked.since < friday.plus({ minutes: 45 }).toMillis(),
        'held from the end of its soak',
      );
      assert.ok(blocked.until >= monday.toMillis(), 'until Monday 08:00');
    },
    {
      instantWatch: true,
      beforeStart: async (m) => {
        await env.sleep(friday.toMillis() - (await env.currentTimeMs()));
        const p = await applyPolicy(m, {
          concurrency: {},
          freezes: [],
          calendars: [{ name: 'weekend', reason: 'no weekend deploys', timezone: ZONE, weekly: [{ from: 'fri 16:00', to: 'mon 08:00' }], dates: [] }],
          reason: 'weekend freeze',
          by: 'sre',
        });
        assert.deepEqual(
          p.calendars?.map((c) => c.name),
          ['weekend'],
        );
        applied = (await env.currentTimeMs()) - friday.toMillis();
        // The periods are made by an activity of the policy, right after the apply.
        for (let i = 0; i < 100 && !(await showPolicy(m)).freezes.some((f) => f.source === 'calendar'); i++) await new Promise((r) => setTimeout(r, 50));
        const periods = (await showPolicy(m)).freezes.filter((f) => f.source === 'calendar');
        assert.ok(periods.length >= 2, 'two weekends within the horizon');
        assert.equal(periods[0]!.from, friday.plus({ minutes: 10 }).toMillis());
        assert.equal(periods[0]!.until, monday.toMillis());
      },
    },
  );
  assert.ok(applied < 60_000, 'the policy was in place before the rollout started');
  assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'large']);
  const large = calls.find((c) => c.kind === 'deploy' && c.region === 'large')!;
  assert.ok(large.at >= monday.toMillis(), `large deployed at ${new Date(large.at).toISOString()}: inside the weekend`);
  assert.ok(large.at < monday.plus({ hours: 1 }).toMillis(), 'and soon after it ended');
});
