// Property-based fuzzing of operator payloads (issue 13 item 4) against a real rollout on
// the dev server: arbitrary JSON as the payload of every action's signal and update, and
// signals of names the rollout does not know. An update with a bad payload is rejected by
// its validator with a message naming each bad field; a signal with one is recorded in
// status.actions as rejected (never dropped); no workflow task fails; and the rollout, held
// for approval meanwhile, still finishes as it should once a valid approval arrives.
// What "bad" means is stated here on its own (badFields), not borrowed from payloadProblem.
//
// Reproducing a failure: fast-check prints the seed and the shrunk payload;
//   FC_SEED=<seed> FC_PATH=<path> node --import tsx --test test/integration/payload-fuzz.test.ts
// (FC_RUNS=<n> sends more per property.) A real bug's shrunk payload goes, once fixed, into
// test/fixtures/fuzz-corpus/ as {"kind": "payload", ...}, replayed by test/unit/plan-fuzz.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { clip } from '../../domain/action-log';
import { actionSignals, actionUpdates } from '../../domain/definitions';
import { MAX_NAME_CHARS, MAX_REASON_CHARS, OPERATOR_ACTIONS, payloadProblem, type OperatorActionName, type RolloutStatus } from '../../domain/state';
import { planDoc, regionsOf, runRollout, useTestServer } from '../support/rollout-harness';

const env = useTestServer();

function params(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : numRuns,
    includeErrorInReport: true,
    // One payload is one signal or update; a run that hangs is a failure, not a wait.
    timeout: 20_000,
    ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
  };
}

/**
 * What is wrong with a payload, field by field, as docs/rollout-states.md states the rule:
 * an object with a non-blank `reason` (at most 1024 characters) and `by` (at most 200), an
 * optional non-blank string `region` (at most 200), and nothing else. `payload` when it is no object.
 */
function badFields(p: unknown): string[] {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return ['payload'];
  const o = p as Record<string, unknown>;
  const bad: string[] = [];
  // Blank is bad whether the field is required or not: an empty region is not "the current one".
  const text = (k: string, max: number, required: boolean) => {
    const v = o[k];
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || v.trim() === '' || v.length > max) bad.push(k);
  };
  text('reason', MAX_REASON_CHARS, true);
  text('by', MAX_NAME_CHARS, true);
  text('region', MAX_NAME_CHARS, false);
  for (const k of Object.keys(o)) if (!['reason', 'by', 'region'].includes(k)) bad.push(k);
  return bad;
}

/** The message names every bad field: `field: …`, the unknown ones in a list, or the whole payload. */
function assertNamesFields(message: string, fields: string[]): void {
  for (const f of fields) {
    if (f === 'payload') assert.match(message, /payload must be a JSON object/);
    else if (['reason', 'by', 'region'].includes(f)) assert.ok(message.includes(`${f}: `), `"${message}" does not name ${f}`);
    else assert.ok(message.includes(f), `"${message}" does not name the unknown field ${JSON.stringify(f)}`);
  }
}

const fieldValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('', ' ', '\t\n', '\u00a0', 'x'.repeat(MAX_NAME_CHARS + 1), 'y'.repeat(MAX_REASON_CHARS + 1), '😀'.repeat(101)),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
/** Payloads near the valid shape (a field missing, mistyped, blank, too long, an extra key), and any JSON at all. */
const payload: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.record(
          { reason: fc.oneof(fc.constant('because'), fieldValue), by: fc.oneof(fc.constant('fuzzer'), fieldValue), region: fieldValue },
          { requiredKeys: [] },
        ),
        fc.dictionary(
          fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('force', 'Reason', 'BY', 'regions', 'constructor', '__proto__', 'toString')),
          fc.jsonValue({ maxDepth: 1 }),
          { maxKeys: 2 },
        ),
      )
      .map(([known, extra]) => ({ ...extra, ...known })),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
/** What arrives in the workflow: the payload after Temporal's JSON converter. */
const afterJson = (p: unknown): unknown => (p === undefined ? undefined : JSON.parse(JSON.stringify(p)));
const badPayload = payload.filter((p) => badFields(afterJson(p)).length > 0);
const action = fc.constantFrom(...OPERATOR_ACTIONS);
/** Signal names the rollout does not know: typos, other cases, anything (not Temporal's reserved `__` prefix). */
const unknownName = fc
  .oneof(
    fc.constantFrom('Pause', 'ABORT', 'approve ', 'skip_soak', 'skipSoak', 'resume\n', 'rollback', 'status', 'frobnicate'),
    fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
  )
  .filter((n) => !(OPERATOR_ACTIONS as readonly string[]).includes(n) && !n.startsWith('__') && n.trim() !== '');

const recordedCount = (s: RolloutStatus) => s.actions.length + (s.earlierActions?.count ?? 0);

describe('operator payload fuzzing', { timeout: 240_000 }, () => {
  test('the rule stated here and payloadProblem agree on any JSON (pure; the live test below relies on it only for choosing payloads)', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const bad = badFields(p);
        const problem = payloadProblem(p);
        assert.equal(problem === undefined, bad.length === 0, `${JSON.stringify(p)}: ${problem ?? 'accepted'} vs ${bad.join(', ') || 'nothing bad'}`);
        if (problem) assertNamesFields(problem, bad);
      }),
      params(3000),
    );
  });

  test('bad payloads for every action (signal and update) and unknown signal names, against a rollout held for approval: refused, recorded, no workflow task failure, then it succeeds', async () => {
    const doc = planDoc({ defaults: { ...(planDoc().defaults as object), soak: '1s', checkInterval: '250ms' } }, [
      { name: 'small', size: 1, approval: 'required' },
      { name: 'medium', size: 10 },
    ]);
    const tally = { updates: 0, signals: 0, unknown: 0 };
    const calls = await runRollout(env, doc, {}, async (h) => {
      await h.waitUntil((s) => s.regions[0]!.status === 'awaiting-approval');
      let expected = 0;
      const sendOne = fc.oneof(
        fc.record({ kind: fc.constant('update' as const), action, payload: badPayload }),
        fc.record({ kind: fc.constant('signal' as const), action, payload: badPayload }),
        fc.record({ kind: fc.constant('unknown' as const), name: unknownName, payload: fc.oneof(payload, fc.constant({ reason: 'valid', by: 'fuzzer' })) }),
      );
      await fc.assert(
        fc.asyncProperty(sendOne, async (c) => {
          if (c.kind === 'update') {
            tally.updates++;
            const fields = badFields(afterJson(c.payload));
            await assert.rejects(h.handle.executeUpdate(actionUpdates[c.action], { args: [c.payload as never] }), (e: unknown) => {
              assert.ok(e instanceof WorkflowUpdateFailedError, `not a rejected update: ${String(e)}`);
              const message = String(e.cause?.message);
              assert.ok(message.startsWith(`invalid ${c.action} payload: `), message);
              assertNamesFields(message, fields);
              return true;
            });
            return;
          }
          const name = c.kind === 'signal' ? c.action : c.name;
          if (c.kind === 'signal') {
            tally.signals++;
            await h.handle.signal(actionSignals[c.action as OperatorActionName], c.payload as never);
          } else {
            tally.unknown++;
            await h.handle.signal(c.name, c.payload);
          }
          expected++;
          const s = await h.waitUntil((x) => recordedCount(x) >= expected, 10_000);
          assert.equal(recordedCount(s), expected, 'one signal, one record');
          const last = s.actions.at(-1)!;
          assert.equal(last.action, clip(name, 100));
          assert.equal(last.via, 'signal');
          assert.equal(last.accepted, false, `${name} with ${JSON.stringify(c.payload)} was accepted`);
          if (c.kind === 'signal') {
            assert.match(last.note!, /^invalid payload: /);
            assertNamesFields(last.note!, badFields(afterJson(c.payload)));
          } else assert.ok(last.note!.startsWith('unknown signal "'), last.note);
          assert.equal(s.state, 'running', 'nothing was applied');
          assert.equal(s.regions[0]!.status, 'awaiting-approval');
        }),
        params(60),
      );
      const before = await h.status();
      const ok = await h.handle.executeUpdate(actionUpdates.approve, { args: [{ reason: 'checked by hand', by: 'fuzzer', region: 'small' }] });
      assert.equal(ok.note, 'approved small');
      const { status, failureType } = await h.finish();
      assert.equal(failureType, undefined, status.summary);
      assert.equal(status.state, 'succeeded');
      assert.equal(recordedCount(status), recordedCount(before) + 1, 'every signal recorded, and the approval');
      assert.ok(
        status.actions.every((a) => a.accepted === (a.action === 'approve' && a.by === 'fuzzer' && a.reason === 'checked by hand')),
        'only the valid approval was accepted',
      );
      const history = await h.handle.fetchHistory();
      const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
      assert.deepEqual(
        failed.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message),
        [],
        'no workflow task failed',
      );
    });
    assert.deepEqual(regionsOf(calls, 'deploy'), ['small', 'medium']);
    assert.deepEqual(regionsOf(calls, 'rollback'), []);
    // Each kind was sent, or the property proved less than it says.
    assert.ok(tally.updates > 0 && tally.signals > 0 && tally.unknown > 0, JSON.stringify(tally));
  });
});
