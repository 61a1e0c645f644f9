// Three operators at once: freezes created, lifted (twice, or an id that never existed) and
// overrides given from three connections of their own, racing. The policy must end in a
// legal state with every accepted change recorded once, every refusal answered, and
// nothing lost: ids without gaps, each freeze either active or ended by exactly one lift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActivities } from '../../activities';
import { connectClient, type MrcdClient } from '../../client/rollouts';
import { PolicyRefusedError } from '../../client/errors';
import { createFreeze, liftFreeze, overrideFreeze, showPolicy } from '../../client/policy';
import type { Freeze } from '../../domain/policy';
import { prng } from '../chaos/schedule';
import { useTestServer } from '../support/rollout-harness';

const TASK_QUEUE = `policy-race-${process.pid}`;
const REGIONS = ['ap-southeast-2', 'eu-west-1', 'us-east-1'];
const OPS_PER_CLIENT = 40;
const server = useTestServer({}, async (s) => {
  await s.serve(TASK_QUEUE, createActivities());
});

type Outcome =
  | { op: 'create'; by: string; freeze: Freeze }
  | { op: 'lift'; by: string; id: string; freeze: Freeze }
  | { op: 'lift-refused'; by: string; id: string; why: string }
  | { op: 'override'; by: string; id: string };

test('freeze, lift and override racing from three clients: a legal state, every change recorded once', { timeout: 120_000 }, async () => {
  const seed = Number(process.env.MRCD_RACE_SEED ?? Date.now() % 1_000_000);
  const clients: MrcdClient[] = [];
  try {
    for (let i = 0; i < 3; i++) clients.push(await connectClient({ address: server.address, namespace: 'default', taskQueue: TASK_QUEUE }));
    const outcomes: Outcome[] = [];
    await Promise.all(
      clients.map(async (m, c) => {
        const rand = prng(seed + c);
        const by = `operator-${c + 1}`;
        for (let n = 0; n < OPS_PER_CLIENT; n++) {
          const r = rand();
          if (r < 0.45) {
            const region = REGIONS[Math.floor(rand() * REGIONS.length)]!;
            const freeze = await createFreeze(m, { scope: { regions: [region] }, reason: `race ${c}.${n}`, by });
            outcomes.push({ op: 'create', by, freeze });
          } else if (r < 0.85) {
            // Mostly ids that exist (some lifted already by someone else), sometimes one that never will.
            const created = outcomes.filter((o) => o.op === 'create').length;
            const id = rand() < 0.15 || created === 0 ? 'F-9999' : `F-${1 + Math.floor(rand() * created)}`;
            try {
              outcomes.push({ op: 'lift', by, id, freeze: await liftFreeze(m, { id, reason: `lift ${c}.${n}`, by }) });
            } catch (e) {
              assert.ok(e instanceof PolicyRefusedError, `a refusal, not ${String(e)}`);
              outcomes.push({ op: 'lift-refused', by, id, why: e.message });
            }
          } else {
            const o = await overrideFreeze(m, { service: `svc-${c}`, reason: `override ${c}.${n}`, by, until: Date.now() + 600_000 });
            outcomes.push({ op: 'override', by, id: o.id });
          }
        }
      }),
    );
    const p = await showPolicy(clients[0]!);
    const creates = outcomes.filter((o): o is Extract<Outcome, { op: 'create' }> => o.op === 'create');
    const lifts = outcomes.filter((o): o is Extract<Outcome, { op: 'lift' }> => o.op === 'lift');
    const refused = outcomes.filter((o): o is Extract<Outcome, { op: 'lift-refused' }> => o.op === 'lift-refused');
    const overrides = outcomes.filter((o) => o.op === 'override');
    assert.equal(outcomes.length, 3 * OPS_PER_CLIENT, 'every call was answered');

    // Ids: one per accepted create, F-1..F-n without a gap or a repeat.
    const ids = creates.map((o) => o.freeze.id).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
    assert.deepEqual(
      ids,
      creates.map((_, i) => `F-${i + 1}`),
      `seed ${seed}`,
    );
    // Every freeze is in exactly one place: active (never lifted) or ended (lifted).
    const active = new Set(p.freezes.map((f) => f.id));
    const ended = new Map(p.ended.map((f) => [f.id, f]));
    for (const id of ids) assert.ok(active.has(id) !== ended.has(id), `${id} is active xor ended (seed ${seed})`);
    for (const f of p.freezes) assert.equal(f.lifted, undefined, `${f.id} active but lifted`);
    // A freeze lifted by several operators at once was lifted once: the first; the others were told how it ended.
    const liftLog = p.log.filter((e) => e.action === 'lift');
    assert.equal(liftLog.length, ended.size, `one lift record per ended freeze (seed ${seed})`);
    for (const l of lifts) {
      const e = ended.get(l.id);
      assert.ok(e, `${l.id} answered as lifted but is not ended (seed ${seed})`);
      assert.deepEqual(l.freeze.lifted, e.lifted, `${l.id}: every answer tells the one lift that happened`);
    }
    for (const [id, f] of ended) {
      const record = liftLog.filter((e) => e.detail === id);
      assert.equal(record.length, 1, `${id} lifted once in the log`);
      assert.equal(record[0]!.by, f.lifted!.by);
    }
    // Refusals: only for an id that never existed, and they say so.
    for (const r of refused) {
      assert.ok(!ids.includes(r.id), `${r.id} exists but its lift was refused (seed ${seed})`);
      assert.match(r.why, new RegExp(`no freeze ${r.id}`));
    }
    // Creates and overrides: one log record each, with who.
    assert.equal(p.log.filter((e) => e.action === 'freeze').length, creates.length);
    assert.equal(p.log.filter((e) => e.action === 'override').length, overrides.length);
    assert.equal(p.overrides?.length, overrides.length, 'no override has expired yet');
    for (const c of creates) assert.ok(p.log.some((e) => e.action === 'freeze' && e.detail === c.freeze.id && e.by === c.by));
  } finally {
    await Promise.all(clients.map((m) => m.close()));
  }
});
