// The watch loop in a mocked activity context, with scripted gate verdicts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import type { GateInput, GateResult, SloContext, Verdict, WatchInput, WatchOutcome } from '../../domain/activity-contract';
import {
  createCheckRegion,
  createWatchRegion,
  NEXT_CHECK,
  resumeProgress,
  type FinalGateEvaluator,
  type GateEvaluator,
  type WatchProgress,
} from '../../activities/slo/watch';

const input = (over: Partial<WatchInput> = {}): WatchInput => ({
  rolloutId: 'r-1',
  service: 'checkout',
  version: '2.0.0',
  region: 'eu-west-1',
  gate: { checks: [], maxInconclusive: 2 },
  since: 0,
  intervalMs: 5,
  maxInconclusive: 2,
  ...over,
});

/** Runs the watch in `env` (run()'s generics do not infer the result type on their own). */
function watch(env: MockActivityEnvironment, evaluate: GateEvaluator, args: WatchInput): Promise<WatchOutcome> {
  type Fn = (i: WatchInput) => Promise<WatchOutcome>;
  return env.run<[WatchInput], WatchOutcome, Fn>(createWatchRegion(evaluate), args);
}

function result(verdict: Verdict, at = Date.now()): GateResult {
  return {
    verdict,
    at,
    checks: [{ name: 'c', verdict, comparator: '<', threshold: 1, detail: `scripted ${verdict}` }],
  };
}

/** An evaluator that plays `script` and then repeats `then`, recording each call. */
function scripted(script: Verdict[], then: Verdict = 'pass') {
  const calls: { ctx: SloContext; signal: AbortSignal }[] = [];
  const evaluate: GateEvaluator = async (ctx, opts) => {
    calls.push({ ctx, signal: opts.signal });
    // Ends a watch that failed to stop, so a regression fails its test instead of
    // keeping the test process alive.
    if (calls.length > 200) return result('fail');
    return result(script[calls.length - 1] ?? then);
  };
  return { evaluate, calls };
}

function heartbeats(env: MockActivityEnvironment): WatchProgress[] {
  const seen: WatchProgress[] = [];
  env.on('heartbeat', (d: WatchProgress) => seen.push(d));
  return seen;
}

// A watch that misses its exit runs forever: bound every test so a regression fails instead.
const T = { timeout: 5000 };

describe('watchRegion', () => {
  test('stops with ended at its horizon (until) while healthy, without sleeping past it', T, async () => {
    const { evaluate, calls } = scripted([], 'pass');
    const started = Date.now();
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ intervalMs: 10_000, until: started + 120 }));
    assert.equal(out.kind, 'ended');
    // One check at the start; the 10 s interval is cut at the horizon.
    assert.equal(calls.length, 1);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  test('a watch given a horizon already past ends before checking', T, async () => {
    const { evaluate, calls } = scripted([], 'fail');
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ until: Date.now() - 1 }));
    assert.equal(out.kind, 'ended');
    assert.equal(calls.length, 0);
  });

  test('after promotion checks look back over lookbackMs, not the days since the deploy', T, async () => {
    const { evaluate, calls } = scripted(['fail']);
    const since = Date.now() - 3 * 86_400_000;
    await watch(new MockActivityEnvironment(), evaluate, input({ since, phase: 'promoted', lookbackMs: 60_000 }));
    const start = calls[0]!.ctx.windowStart!;
    assert.ok(Date.now() - start >= 60_000 && Date.now() - start < 62_000, `window starts ${Date.now() - start} ms ago`);
    assert.equal(calls[0]!.ctx.since, since, 'the baseline stays at the deploy');
  });

  test('after promotion a fail on too little traffic is not a regression; one on enough traffic is', T, async () => {
    const gate = {
      checks: [
        { name: 'c', source: { type: 'prometheus' as const, query: 'q' }, comparator: '<' as const, threshold: 1, minTraffic: { query: 't', min: 100 } },
      ],
      maxInconclusive: 2,
    };
    const verdicts: { traffic: number }[] = [{ traffic: 10 }, { traffic: 5 }, { traffic: 500 }];
    let n = 0;
    const evaluate: GateEvaluator = async () => {
      const v = verdicts[Math.min(n++, verdicts.length - 1)]!;
      return {
        verdict: 'fail',
        at: Date.now(),
        checks: [{ name: 'c', verdict: 'fail', comparator: '<', threshold: 1, value: 2, traffic: v.traffic, detail: 'scripted fail' }],
      };
    };
    const promoted = await watch(new MockActivityEnvironment(), evaluate, input({ gate, phase: 'promoted' }));
    assert.equal(promoted.kind, 'breach');
    assert.equal(promoted.checksRun, 3);
    // While soaking, any fail fails: a broken version often gets little traffic.
    n = 0;
    const soaking = await watch(new MockActivityEnvironment(), evaluate, input({ gate, phase: 'soak' }));
    assert.equal(soaking.kind, 'breach');
    assert.equal(soaking.checksRun, 1);
  });

  test('after promotion only a breach ends the watch: a long inconclusive streak does not', T, async () => {
    const { evaluate, calls } = scripted(['inconclusive', 'error', 'inconclusive', 'error', 'inconclusive', 'inconclusive', 'fail']);
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ maxInconclusive: 2, phase: 'promoted' }));
    assert.equal(out.kind, 'breach');
    assert.equal(calls.length, 7);
  });

  test('returns breach on the first fail', T, async () => {
    const { evaluate, calls } = scripted(['pass', 'pass', 'fail']);
    const env = new MockActivityEnvironment();
    const out = await watch(env, evaluate, input());
    assert.equal(out.kind, 'breach');
    assert.equal(out.checksRun, 3);
    assert.equal(out.result.verdict, 'fail');
    assert.equal(calls.length, 3);
    assert.equal(calls[0]!.ctx.region, 'eu-west-1');
  });

  test('a fail in the middle of an inconclusive streak is still a breach', T, async () => {
    const { evaluate } = scripted(['inconclusive', 'error', 'fail']);
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ maxInconclusive: 5 }));
    assert.equal(out.kind, 'breach');
    assert.equal(out.checksRun, 3);
  });

  test('returns inconclusive-limit after maxInconclusive + 1 consecutive non-pass results', T, async () => {
    const { evaluate, calls } = scripted([], 'inconclusive');
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ maxInconclusive: 2 }));
    assert.equal(out.kind, 'inconclusive-limit');
    assert.equal(out.checksRun, 3);
    assert.equal(calls.length, 3);
    assert.equal(out.result.verdict, 'inconclusive');
  });

  test('errors and inconclusives count in the same streak', T, async () => {
    const { evaluate } = scripted(['error', 'inconclusive', 'error'], 'pass');
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ maxInconclusive: 2 }));
    assert.equal(out.kind, 'inconclusive-limit');
    assert.equal(out.checksRun, 3);
    assert.equal(out.result.verdict, 'error');
  });

  test('maxInconclusive 0 stops at the first non-pass', T, async () => {
    const { evaluate } = scripted(['pass', 'error']);
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ maxInconclusive: 0 }));
    assert.equal(out.kind, 'inconclusive-limit');
    assert.equal(out.checksRun, 2);
  });

  test('a pass resets the streak', T, async () => {
    const { evaluate } = scripted(['inconclusive', 'inconclusive', 'pass', 'inconclusive', 'error', 'inconclusive']);
    const out = await watch(new MockActivityEnvironment(), evaluate, input({ maxInconclusive: 2 }));
    assert.equal(out.kind, 'inconclusive-limit');
    // Without the reset it would have stopped at check 4 (four non-pass results in six).
    assert.equal(out.checksRun, 6);
  });

  test('heartbeats carry the progress after every evaluation', T, async () => {
    const { evaluate } = scripted(['pass', 'inconclusive', 'fail']);
    const env = new MockActivityEnvironment();
    const seen = heartbeats(env);
    await watch(env, evaluate, input());
    assert.deepEqual(
      seen.map((h) => [h.checksRun, h.lastVerdict, h.consecutiveNonPass]),
      [
        [1, 'pass', 0],
        [2, 'inconclusive', 1],
        [3, 'fail', 2],
      ],
    );
    assert.ok(seen.every((h) => typeof h.at === 'number'));
  });

  test('with a heartbeat timeout shorter than the interval it heartbeats while it sleeps', T, async () => {
    const { evaluate } = scripted(['pass', 'fail']);
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 60 });
    const seen = heartbeats(env);
    await watch(env, evaluate, input({ intervalMs: 200 }));
    // 1 after check 1, several during the 200 ms sleep (every 20 ms), 1 after check 2.
    assert.ok(seen.length >= 6, `only ${seen.length} heartbeats`);
    assert.deepEqual(seen.at(-1), { ...seen.at(-1), checksRun: 2, lastVerdict: 'fail' });
    assert.ok(
      seen.slice(1, -1).every((h) => h.checksRun === 1),
      'sleep heartbeats repeat the last progress',
    );
  });

  test('cancellation while sleeping rejects with CancelledFailure promptly', T, async () => {
    const { evaluate, calls } = scripted([], 'pass');
    const env = new MockActivityEnvironment();
    env.once('heartbeat', () => setTimeout(() => env.cancel(), 20));
    const started = Date.now();
    await assert.rejects(watch(env, evaluate, input({ intervalMs: 60_000 })), CancelledFailure);
    assert.ok(Date.now() - started < 1000, 'did not wait for the interval');
    assert.equal(calls.length, 1);
  });

  test('cancellation during an evaluation aborts its signal and wins over the verdict it returns', T, async () => {
    const calls: AbortSignal[] = [];
    // Like a provider that turns an aborted request into an `error` verdict.
    const evaluate: GateEvaluator = async (_ctx, { signal }) => {
      calls.push(signal);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return result('error');
    };
    const env = new MockActivityEnvironment();
    setTimeout(() => env.cancel(), 30);
    await assert.rejects(watch(env, evaluate, input({ maxInconclusive: 0 })), CancelledFailure);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.aborted, true);
    assert.equal(calls[0], env.context.cancellationSignal);
  });

  test('an evaluator that rejects with the cancellation propagates it', T, async () => {
    const evaluate: GateEvaluator = (_ctx, { signal }) =>
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects as an aborted request does, with the signal's reason
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const env = new MockActivityEnvironment();
    setTimeout(() => env.cancel(), 30);
    await assert.rejects(watch(env, evaluate, input()), CancelledFailure);
  });

  test('an evaluator that throws counts as an error result instead of hiding in retries', T, async () => {
    let n = 0;
    const evaluate: GateEvaluator = async () => {
      n += 1;
      throw new Error('provider bug');
    };
    const warnings: string[] = [];
    const quiet = () => undefined;
    const logger = {
      log: quiet,
      trace: quiet,
      debug: quiet,
      info: quiet,
      error: quiet,
      warn: (message: string) => void warnings.push(message),
    };
    const env = new MockActivityEnvironment(undefined, { logger });
    const gate = {
      checks: [{ name: 'ratio', source: { type: 'prometheus' as const, query: 'x' }, comparator: '<' as const, threshold: 1 }],
      maxInconclusive: 1,
    };
    const out = await watch(env, evaluate, input({ maxInconclusive: 1, gate }));
    assert.equal(out.kind, 'inconclusive-limit');
    assert.equal(out.result.verdict, 'error');
    assert.equal(n, 2);
    assert.deepEqual(
      out.result.checks.map((c) => [c.name, c.verdict, c.detail]),
      [['ratio', 'error', 'the gate could not be evaluated: provider bug']],
    );
    assert.equal(warnings.length, 2);
  });

  test("resumes the counters from the previous attempt's heartbeat", T, async () => {
    const { evaluate } = scripted(['inconclusive']);
    const previous: WatchProgress = { checksRun: 41, lastVerdict: 'inconclusive', consecutiveNonPass: 2, at: 1 };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: previous });
    const seen = heartbeats(env);
    const out = await watch(env, evaluate, input({ maxInconclusive: 2 }));
    // The third non-pass in a row: the first two happened before the retry.
    assert.equal(out.kind, 'inconclusive-limit');
    assert.equal(out.checksRun, 42);
    assert.equal(seen[0]!.checksRun, 42);
    assert.equal(seen[0]!.consecutiveNonPass, 3);
  });

  test('a resumed pass streak still resets', T, async () => {
    const { evaluate } = scripted(['pass', 'inconclusive', 'inconclusive', 'fail']);
    const env = new MockActivityEnvironment({ heartbeatDetails: { checksRun: 7, consecutiveNonPass: 2 } });
    const out = await watch(env, evaluate, input({ maxInconclusive: 2 }));
    assert.equal(out.kind, 'breach');
    assert.equal(out.checksRun, 11);
  });

  test('unreadable heartbeat details start from zero', T, () => {
    assert.deepEqual(resumeProgress(undefined), { checksRun: 0, consecutiveNonPass: 0 });
    assert.deepEqual(resumeProgress('garbage'), { checksRun: 0, consecutiveNonPass: 0 });
    assert.deepEqual(resumeProgress({ checksRun: -3, consecutiveNonPass: 1.5, lastVerdict: 'great' }), {
      checksRun: 0,
      consecutiveNonPass: 0,
    });
    assert.deepEqual(resumeProgress({ checksRun: 3, consecutiveNonPass: 1, lastVerdict: 'error', at: 5 }), {
      checksRun: 3,
      consecutiveNonPass: 1,
      lastVerdict: 'error',
      at: 5,
    });
  });

  test('keeps watching a healthy region until cancelled', T, async () => {
    const { evaluate, calls } = scripted([], 'pass');
    const env = new MockActivityEnvironment();
    const run = watch(env, evaluate, input({ intervalMs: 5 }));
    await delay(150);
    env.cancel();
    await assert.rejects(run, CancelledFailure);
    assert.ok(calls.length >= 5, `only ${calls.length} evaluations in 150 ms`);
  });
});

/** Runs one checkRegion attempt the way Temporal would: heartbeat details of the last attempt in, outcome or failure out. */
const noFinalGate: FinalGateEvaluator = async () => {
  throw new Error('the final gate was evaluated where no soak ended');
};

async function attempt(
  evaluate: GateEvaluator,
  args: WatchInput,
  details: WatchProgress | undefined,
  n: number,
  evaluateFinal: FinalGateEvaluator = noFinalGate,
): Promise<{ out?: WatchOutcome; err?: ApplicationFailure; details?: WatchProgress }> {
  const env = new MockActivityEnvironment({ attempt: n, ...(details ? { heartbeatDetails: details } : {}) });
  const beats = heartbeats(env);
  type Fn = (i: WatchInput) => Promise<WatchOutcome>;
  try {
    const out = await env.run<[WatchInput], WatchOutcome, Fn>(createCheckRegion(evaluate, evaluateFinal), args);
    return { out, details: beats.at(-1) ?? details };
  } catch (e) {
    return { err: e as ApplicationFailure, details: beats.at(-1) ?? details };
  }
}

describe('checkRegion (server-retried checks)', () => {
  test('one check per attempt: healthy is a benign retryable failure asking for the next check after the interval', T, async () => {
    const { evaluate, calls } = scripted([], 'pass');
    const r = await attempt(evaluate, input({ intervalMs: 15_000 }), undefined, 1);
    assert.equal(calls.length, 1);
    assert.ok(r.err instanceof ApplicationFailure);
    assert.equal(r.err.type, NEXT_CHECK);
    assert.equal(r.err.nonRetryable, false);
    assert.equal(r.err.nextRetryDelay, 15_000);
    // No stack frames: the Web UI shows them under "Last Failure" of a healthy soak.
    assert.equal(r.err.stack, `${NEXT_CHECK}: ${r.err.message}`);
    assert.equal(r.err.category, ApplicationFailureCategory.BENIGN);
    assert.deepEqual({ ...r.details, at: 0 }, { checksRun: 1, consecutiveNonPass: 0, lastVerdict: 'pass', at: 0 });
  });

  test('the next check never waits past the horizon, and an attempt at the horizon ends without checking', T, async () => {
    const { evaluate, calls } = scripted([], 'pass');
    const r = await attempt(evaluate, input({ intervalMs: 60_000, until: Date.now() + 5_000 }), undefined, 1);
    assert.ok((r.err!.nextRetryDelay as number) <= 5_000);
    const end = await attempt(evaluate, input({ until: Date.now() - 1 }), r.details, 2);
    assert.equal(end.out?.kind, 'ended');
    assert.equal(calls.length, 1);
  });

  test("with finalGate, the attempt at the soak's end is the final gate (with the deployer asked for), not one more check", T, async () => {
    const { evaluate, calls } = scripted([], 'pass');
    const finals: GateInput[] = [];
    const evaluateFinal: FinalGateEvaluator = async (g) => {
      finals.push(g);
      return { ...result('inconclusive'), deployment: { verdict: 'pass', detail: 'runs 2.0.0' } };
    };
    const deployer = { type: 'http', baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 } as unknown as NonNullable<WatchInput['finalGate']>['deployer'];
    const before = await attempt(evaluate, input({ intervalMs: 60_000, until: Date.now() + 5_000, finalGate: { deployer } }), undefined, 1, evaluateFinal);
    assert.equal(before.err?.type, NEXT_CHECK, 'a check before the end is an ordinary check');
    assert.ok((before.err!.nextRetryDelay as number) <= 5_000, 'the next attempt is at the end at the latest');
    const end = await attempt(evaluate, input({ until: Date.now() - 1, finalGate: { deployer } }), before.details, 2, evaluateFinal);
    assert.equal(end.out?.kind, 'gated');
    assert.equal(end.out.kind === 'gated' && end.out.result.deployment?.detail, 'runs 2.0.0');
    assert.equal(calls.length, 1, 'the final attempt runs no ordinary check');
    assert.equal(finals.length, 1);
    assert.equal(finals[0]!.deployer, deployer);
    assert.equal(finals[0]!.region, 'eu-west-1');
    assert.ok(!('until' in finals[0]!) && !('finalGate' in finals[0]!), 'the gate gets the SLO context, not the watch options');
    // Without a deployer the gate is the SLO checks alone.
    const plain = await attempt(evaluate, input({ until: Date.now() - 1, finalGate: {} }), undefined, 1, evaluateFinal);
    assert.equal(plain.out?.kind, 'gated');
    assert.equal(finals[1]!.deployer, undefined);
  });

  test('consecutive non-passes are carried from attempt to attempt in the heartbeat details; a pass resets them', T, async () => {
    const { evaluate } = scripted(['inconclusive', 'pass', 'error', 'inconclusive', 'inconclusive']);
    let details: WatchProgress | undefined;
    const outcomes: string[] = [];
    for (let n = 1; n <= 5; n++) {
      const r = await attempt(evaluate, input({ maxInconclusive: 2 }), details, n);
      details = r.details;
      outcomes.push(r.out?.kind ?? r.err!.type!);
      if (r.out) break;
    }
    assert.deepEqual(outcomes, [NEXT_CHECK, NEXT_CHECK, NEXT_CHECK, NEXT_CHECK, 'inconclusive-limit']);
    assert.equal(details!.checksRun, 5);
    assert.equal(details!.consecutiveNonPass, 3);
  });

  test('a breach returns at once; after promotion only an evidenced breach does', T, async () => {
    const { evaluate } = scripted(['fail']);
    const r = await attempt(evaluate, input(), undefined, 1);
    assert.equal(r.out?.kind, 'breach');
    const quiet = scripted(['inconclusive', 'error', 'inconclusive', 'inconclusive']);
    let details: WatchProgress | undefined;
    for (let n = 1; n <= 4; n++) {
      const x = await attempt(quiet.evaluate, input({ phase: 'promoted', maxInconclusive: 1 }), details, n);
      assert.equal(x.err?.type, NEXT_CHECK, 'an evidence gap after promotion is no verdict');
      details = x.details;
    }
  });

  test('with a heartbeat timeout, a slow check heartbeats the progress so far while it runs, and stops when it ends', T, async () => {
    const before: WatchProgress = { checksRun: 3, consecutiveNonPass: 1, lastVerdict: 'inconclusive', at: 1 };
    const env = new MockActivityEnvironment({ attempt: 4, heartbeatDetails: before, heartbeatTimeoutMs: 300 });
    const beats = heartbeats(env);
    const evaluate: GateEvaluator = async () => {
      await new Promise((r) => setTimeout(r, 450));
      return result('pass');
    };
    type Fn = (i: WatchInput) => Promise<WatchOutcome>;
    await assert.rejects(
      env.run<[WatchInput], WatchOutcome, Fn>(createCheckRegion(evaluate, noFinalGate), input()),
      (e: ApplicationFailure) => e.type === NEXT_CHECK,
    );
    const during = beats.slice(0, -1);
    assert.ok(during.length >= 3, `beats while the check ran: ${during.length}`);
    for (const d of during) assert.deepEqual(d, before);
    assert.equal(beats.at(-1)!.checksRun, 4);
    const after = beats.length;
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(beats.length, after, 'no beat after the attempt ended');
  });
});
