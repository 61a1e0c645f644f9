// The SLO watch: one activity execution per soaking (or promoted) region instead of one per
// check, because a check costs ~11 history events and a fleet-wide soak would pass
// Temporal's 51,200-event history limit (M1 in docs/benchmarks.md). It returns only on a
// breach or on too much missing evidence; a healthy region is watched until the workflow
// cancels it at the end of the soak, or until `until`, when the workflow renews it (a
// promoted region is watched that way).
// Two shapes: `checkRegion` (one check per attempt, Temporal retries at the interval: the
// current design) and `watchRegion` (one attempt that loops, for older rollouts).
import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { GateInput, GateResult, SloContext, Verdict, WatchInput, WatchOutcome } from '../../domain/activity-contract';
import { evaluateGate } from './gate';
import { evaluateFinalGate } from '../final-gate';

export type GateEvaluator = (ctx: SloContext, opts: { signal: AbortSignal }) => Promise<GateResult>;

/** Heartbeat details: what a retried attempt needs to carry on where the last one stopped. */
export interface WatchProgress {
  checksRun: number;
  lastVerdict?: Verdict;
  /** Consecutive inconclusive/error results up to now; a pass resets it. */
  consecutiveNonPass: number;
  /** Epoch ms of the last evaluation. */
  at?: number;
}

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'inconclusive', 'error'];

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** Progress from a previous attempt's heartbeat; anything unreadable starts from zero. */
export function resumeProgress(details: unknown): WatchProgress {
  if (typeof details !== 'object' || details === null) return { checksRun: 0, consecutiveNonPass: 0 };
  const d = details as Record<string, unknown>;
  const lastVerdict = VERDICTS.find((v) => v === d.lastVerdict);
  const at = count(d.at);
  return {
    checksRun: count(d.checksRun) ?? 0,
    consecutiveNonPass: count(d.consecutiveNonPass) ?? 0,
    ...(lastVerdict ? { lastVerdict } : {}),
    ...(at !== undefined ? { at } : {}),
  };
}

function throwIfCancelled(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an abort reason is an Error or a string, which String() renders
  throw reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason ?? 'cancelled'));
}

/**
 * After promotion a rollback (and a quarantine) must rest on enough traffic: a short
 * look-back at night can show 1 error in 10 requests. A failing check whose minTraffic
 * guard was not met is not evidence there; before promotion any fail still fails.
 */
function evidencedFail(input: WatchInput, result: GateResult): boolean {
  return result.checks.some((c) => {
    if (c.verdict !== 'fail' || c.shadow) return false;
    const min = input.gate.checks.find((g) => g.name === c.name)?.minTraffic?.min;
    return min === undefined || (c.traffic !== undefined && c.traffic >= min);
  });
}

/**
 * An inconclusive gate whose every non-passing check is a sequential comparison still
 * collecting evidence: that is the soak working, not evidence going missing, so it does not
 * count toward maxInconclusive (at the soak's end it is inconclusive like any other).
 */
function undecided(result: GateResult): boolean {
  const open = result.checks.filter((c) => !c.shadow && c.verdict !== 'pass');
  return result.verdict === 'inconclusive' && open.length > 0 && open.every((c) => c.pending === true);
}

/**
 * One check: evaluates the gate once, counts it into `progress`, and says whether the
 * watch is over (a breach, or too long without evidence while soaking).
 */
async function checkOnce(input: WatchInput, progress: WatchProgress, evaluate: GateEvaluator, ctx: Context): Promise<WatchOutcome | undefined> {
  const signal = ctx.cancellationSignal;
  let result: GateResult;
  try {
    const windowStart = input.phase === 'promoted' && input.lookbackMs ? Math.max(input.since, Date.now() - input.lookbackMs) : undefined;
    result = await evaluate(windowStart !== undefined ? { ...input, windowStart } : input, { signal });
  } catch (err) {
    throwIfCancelled(signal);
    if (err instanceof CancelledFailure) throw err;
    // An evaluator bug must count against the region, not disappear into retries
    // while the soak timer runs out and promotes it unchecked.
    const why = err instanceof Error ? err.message : String(err);
    result = {
      verdict: 'error',
      checks: input.gate.checks.map((c) => ({
        name: c.name,
        verdict: 'error',
        comparator: c.comparator,
        threshold: c.threshold,
        detail: `the gate could not be evaluated: ${why}`,
        retryable: true,
      })),
      at: Date.now(),
    };
    ctx.log.warn('SLO gate evaluation threw; counted as an error result', { error: why });
  }
  // A provider may turn an aborted request into an `error` verdict; it is a cancellation.
  throwIfCancelled(signal);

  progress.checksRun += 1;
  progress.lastVerdict = result.verdict;
  progress.at = result.at;
  if (result.verdict === 'pass') progress.consecutiveNonPass = 0;
  else if (!undecided(result)) progress.consecutiveNonPass += 1;
  ctx.heartbeat({ ...progress });

  if (result.verdict === 'fail' && (input.phase !== 'promoted' || evidencedFail(input, result)))
    return { kind: 'breach', result, checksRun: progress.checksRun };
  // After promotion only a breach counts: the gate has passed on evidence, and a
  // monitoring gap later is not evidence of a regression.
  if (input.phase !== 'promoted' && progress.consecutiveNonPass > input.maxInconclusive) {
    return { kind: 'inconclusive-limit', result, checksRun: progress.checksRun };
  }
  return undefined;
}

/**
 * The long-running watch (rollouts started before checks became server-retried): one
 * activity that checks every interval until a verdict or `until`, holding a worker slot
 * all along. Kept for the rollouts still in flight on it.
 */
export function createWatchRegion(evaluate: GateEvaluator): (input: WatchInput) => Promise<WatchOutcome> {
  return async function watchRegion(input: WatchInput): Promise<WatchOutcome> {
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    const progress = resumeProgress(ctx.info.heartbeatDetails);
    // Cancellation reaches an activity only through a heartbeat; with a heartbeat
    // timeout shorter than the check interval, the sleep is cut into heartbeating slices.
    const hbTimeout = ctx.info.heartbeatTimeoutMs;
    const slice = hbTimeout ? Math.max(1, Math.floor(hbTimeout / 3)) : input.intervalMs;

    for (;;) {
      throwIfCancelled(signal);
      if (input.until !== undefined && Date.now() >= input.until) return { kind: 'ended', checksRun: progress.checksRun };
      const outcome = await checkOnce(input, progress, evaluate, ctx);
      if (outcome) return outcome;
      const untilLeft = input.until === undefined ? Infinity : input.until - Date.now();
      for (let left = Math.min(input.intervalMs, Math.max(0, untilLeft)); left > 0; left -= slice) {
        await ctx.sleep(Math.min(slice, left));
        if (left > slice) ctx.heartbeat({ ...progress });
      }
    }
  };
}

/** The failure type that means "healthy, check again": a retry the server schedules, not an error. */
export const NEXT_CHECK = 'SloWatchNextCheck';

/** Evaluates the gate before a promotion: the SLO checks over the soak, and the deployer's view when asked. */
export type FinalGateEvaluator = (input: GateInput) => Promise<GateResult>;

/**
 * The watch as server-retried checks: each attempt runs one check and returns only with a
 * verdict (breach, too little evidence, or `until` reached); otherwise it fails, benign and
 * retryable, with `nextRetryDelay` = the interval, and Temporal schedules the next check.
 * A watch then holds a worker slot for the milliseconds of a check, never for its soak, so
 * soaking and promoted regions cannot starve deploys, gates and rollbacks. Retries add no
 * history events, and the count of consecutive non-passes travels in the heartbeat
 * details, which Temporal hands to the next attempt. With `finalGate`, the attempt at
 * `until` is the region's final gate instead of one more check.
 */
export function createCheckRegion(evaluate: GateEvaluator, evaluateFinal: FinalGateEvaluator): (input: WatchInput) => Promise<WatchOutcome> {
  return async function checkRegion(input: WatchInput): Promise<WatchOutcome> {
    const ctx = Context.current();
    const progress = resumeProgress(ctx.info.heartbeatDetails);
    throwIfCancelled(ctx.cancellationSignal);
    const atEnd = input.until !== undefined && Date.now() >= input.until;
    if (atEnd && !input.finalGate) return { kind: 'ended', checksRun: progress.checksRun };
    // With a heartbeat timeout, a worker that dies mid-check (kill -9, a lost node) is
    // noticed within that timeout instead of the check's start-to-close; the beats carry
    // the progress so far, so nothing is lost to a retry.
    const hbMs = ctx.info.heartbeatTimeoutMs;
    const beat = hbMs ? setInterval(() => ctx.heartbeat({ ...progress }), Math.max(100, Math.floor(hbMs / 3))) : undefined;
    let outcome: WatchOutcome | undefined;
    try {
      outcome = atEnd ? await finalGate(input, progress, evaluateFinal, ctx) : await checkOnce(input, progress, evaluate, ctx);
    } finally {
      if (beat) clearInterval(beat);
    }
    if (outcome) return outcome;
    const untilLeft = input.until === undefined ? Infinity : input.until - Date.now();
    const next = ApplicationFailure.create({
      type: NEXT_CHECK,
      message: `${input.region}: ${progress.lastVerdict} (check ${progress.checksRun}); next check in ${Math.round(input.intervalMs / 1000)}s`,
      nonRetryable: false,
      // The soak's end is a check of its own (the final gate), so the last wait is cut to it.
      nextRetryDelay: Math.max(1, Math.min(input.intervalMs, untilLeft)),
      // Benign: a healthy check is no error, so the SDK logs it at debug, not as a failure.
      category: ApplicationFailureCategory.BENIGN,
    });
    // The Web UI shows an attempt's failure under "Last Failure" with its stack: a healthy
    // check's frames made a soak look broken to the people watching it. It has none to show.
    next.stack = `${NEXT_CHECK}: ${next.message}`;
    throw next;
  };
}

/**
 * The final gate at the soak's end. Whatever it says goes back to the workflow, which
 * decides (promote, fail, or soak longer); an evaluator that throws fails the attempt, and
 * the server retries it at the interval like any check.
 */
async function finalGate(input: WatchInput, progress: WatchProgress, evaluate: FinalGateEvaluator, ctx: Context): Promise<WatchOutcome> {
  const { intervalMs: _i, maxInconclusive: _m, until: _u, phase: _p, lookbackMs: _l, finalGate: wanted, ...slo } = input;
  const result = await evaluate(wanted?.deployer ? { ...slo, deployer: wanted.deployer } : slo);
  throwIfCancelled(ctx.cancellationSignal);
  progress.checksRun += 1;
  progress.lastVerdict = result.verdict;
  progress.at = result.at;
  return { kind: 'gated', result, checksRun: progress.checksRun };
}

/** The activities the worker registers. */
export const watchRegion = createWatchRegion(evaluateGate);
export const checkRegion = createCheckRegion(evaluateGate, evaluateFinalGate);
