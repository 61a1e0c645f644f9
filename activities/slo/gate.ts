// A gate is the conjunction of its checks. Only `pass` promotes, so aggregation is
// worst-first: one failing check fails the gate even if another could not be measured.
//
// The providers import `compare` from here while this module imports them: the cycle is
// only used at call time, never while the modules load.
import { activitySignal } from '../activity-context';
import type { Baseline, Check } from '../../plan';
import type { CheckResult, GateResult, SloContext, Verdict } from '../types';
import { cancellationOf } from '../http-errors';
import { evaluateHttpCheck, type ProviderOptions } from './http';
import { evaluatePrometheusCheck, type PrometheusOptions } from './prometheus';

export type GateOptions = ProviderOptions & PrometheusOptions;

/** True when `value` satisfies `value <comparator> threshold`, i.e. is within the SLO. */
export function compare(value: number, comparator: Check['comparator'], threshold: number): boolean {
  // NaN compares false with everything, which would read as a breach; callers must
  // classify NaN as "no data" before they get here, so refuse it loudly.
  if (Number.isNaN(value)) throw new RangeError('compare() needs a number, got NaN');
  switch (comparator) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/** Whether a larger value is worse: `<`/`<=` checks bound an error ratio or a latency from above. */
export function lowerIsBetter(comparator: Check['comparator']): boolean {
  return comparator === '<' || comparator === '<=';
}

/**
 * The worst value a check's baseline rule still accepts: a regression is worse than the
 * baseline by more than `maxRatio` AND by more than `minDelta`, so the limit is the more
 * lenient of the two. For a negative baseline the ratio would tighten instead of loosen,
 * so there only minDelta applies (the limit is never stricter than the baseline itself).
 */
export function baselineLimit(baseline: number, comparator: Check['comparator'], rule: Baseline): number {
  if (!Number.isFinite(baseline)) throw new RangeError(`baselineLimit() needs a finite baseline, got ${baseline}`);
  return lowerIsBetter(comparator)
    ? Math.max(baseline * rule.maxRatio, baseline + rule.minDelta)
    : Math.min(baseline / rule.maxRatio, baseline - rule.minDelta);
}

/**
 * True when `value` is worse than `baseline` by more than the rule allows. Like compare(),
 * it refuses NaN and infinities: those are "no usable measurement", never a verdict.
 */
export function regressedFromBaseline(value: number, baseline: number, comparator: Check['comparator'], rule: Baseline): boolean {
  if (!Number.isFinite(value)) throw new RangeError(`regressedFromBaseline() needs a finite value, got ${value}`);
  const limit = baselineLimit(baseline, comparator, rule);
  return lowerIsBetter(comparator) ? value > limit : value < limit;
}

/** Worst verdict wins: fail > error > inconclusive > pass; no verdicts is no evidence. */
export function aggregate(verdicts: Verdict[]): Verdict {
  if (verdicts.length === 0) return 'inconclusive';
  if (verdicts.includes('fail')) return 'fail';
  if (verdicts.includes('error')) return 'error';
  if (verdicts.includes('inconclusive')) return 'inconclusive';
  return 'pass';
}

/** Runs one check with the provider its source names. */
export function evaluateCheck(check: Check, ctx: SloContext, opts: GateOptions = {}): Promise<CheckResult> {
  const source = check.source;
  switch (source.type) {
    case 'prometheus':
      return evaluatePrometheusCheck({ ...check, source }, ctx, opts);
    case 'http':
      return evaluateHttpCheck({ ...check, source }, ctx, opts);
  }
}

/**
 * Evaluates every check of the gate in parallel. Usable as an activity on its own (the
 * final gate at the end of a soak) and as the watch's evaluator. Rejects only with the
 * activity's cancellation; everything else becomes a verdict.
 */
export async function evaluateGate(ctx: SloContext, opts: GateOptions = {}): Promise<GateResult> {
  const now = opts.now ?? Date.now;
  const signal = opts.signal ?? activitySignal();
  const checks = ctx.gate?.checks ?? [];
  const settled = await Promise.allSettled(checks.map((c) => evaluateCheck(c, ctx, { ...opts, signal })));
  const cancelled = cancellationOf(signal);
  if (cancelled) throw cancelled;
  const results = settled.map((s, i): CheckResult => {
    if (s.status === 'fulfilled') return s.value;
    const check = checks[i]!;
    const why = s.reason instanceof Error ? s.reason.message : String(s.reason);
    // A provider bug must not look like health: report it as an error, never drop it.
    return {
      name: check.name,
      verdict: 'error',
      comparator: check.comparator,
      threshold: check.threshold,
      detail: `the check could not be evaluated: ${why}`,
      retryable: true,
    };
  });
  return { verdict: aggregate(results.map((r) => r.verdict)), checks: results, at: now() };
}
