// The verdict arithmetic every provider and the gate share: comparisons against a
// threshold or a baseline, and how a gate's verdicts aggregate. Pure, and imported by the
// providers and the gate alike, so neither depends on the other.
import type { Baseline, Check } from '../../plan';
import type { Verdict } from '../../domain/activity-contract';

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
