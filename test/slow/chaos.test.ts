// The chaos run, bounded (issue 13 item 1): a dozen rollouts (good, bad, aborted; pause,
// resume, approve, skip-soak, retry, abort by the operator) on the dev server with a SQLite
// file and two worker processes, while workers are killed with SIGKILL dozens of times and
// replaced, the server is killed and restarted on its file, and the simulator injects 5xx,
// hangs and dropped connections. Every invariant of test/chaos/invariants.ts must hold:
// verdicts as the truth and the operator's actions say, each region deployed once per
// attempt, nothing after a failed region, no rollback lost, no workflow task failure, no
// process left. The full run is `npm run chaos`; MRCD_CHAOS_SEED replays a seed here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../chaos/engine';
import { figuresTable } from '../chaos/figures';
import { BOUNDED, chaosSeed, makeSchedule } from '../chaos/schedule';

test('rollouts survive worker kills, a server restart and endpoint faults with every invariant held', { timeout: 420_000 }, async (t) => {
  const seed = chaosSeed();
  t.diagnostic(`seed ${seed} (replay: MRCD_CHAOS_SEED=${seed} node --import tsx --test test/slow/chaos.test.ts)`);
  const schedule = makeSchedule(seed, BOUNDED);
  const f = await runChaos(schedule, { tailMs: 150_000, say: (l) => t.diagnostic(l) });
  for (const line of figuresTable(f).split('\n')) t.diagnostic(line);

  assert.equal(f.rollouts.ended, f.rollouts.total, 'every rollout ended');
  assert.deepEqual(f.violationList, [], 'no invariant violated');
  assert.equal(f.verdicts.wrong, 0);
  assert.equal(f.duplicateDeploys, 0);
  assert.equal(f.lostRollbacks, 0);
  assert.equal(f.workflowTaskFailures, 0);
  assert.equal(f.orphans, 0, 'no process left');
  // The faults the run promises actually happened.
  assert.ok(f.workerKills.total >= 30, `at least 30 worker kills (${f.workerKills.total})`);
  assert.equal(f.serverRestarts.total, BOUNDED.serverRestarts, 'the server was killed and restarted');
  assert.ok(Object.values(f.faultsInjected).reduce((a, b) => a + b, 0) > 0, 'endpoint faults were injected');
  assert.ok(f.rollouts.bad > 0 && f.rollouts.good > 0, 'both good and bad versions');
  assert.ok(f.ledger.rollbacks > 0, 'rollbacks happened');
});
