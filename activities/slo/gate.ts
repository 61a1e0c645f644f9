// A gate is the conjunction of its checks. Only `pass` promotes, so aggregation is
// worst-first: one failing check fails the gate even if another could not be measured.
import { activitySignal, cancellationOf } from '../activity-context';
import type { CheckResult, GateResult, SloContext } from '../../domain/activity-contract';
import type { SloProviderOptions } from './provider';
import { evaluateWithProvider } from './registry';
import { aggregate } from './verdict';

export type GateOptions = SloProviderOptions;

/**
 * Evaluates every check of the gate in parallel. Usable as an activity on its own (the
 * final gate at the end of a soak) and as the watch's evaluator. Rejects only with the
 * activity's cancellation; everything else becomes a verdict.
 */
export async function evaluateGate(ctx: SloContext, opts: GateOptions = {}): Promise<GateResult> {
  const now = opts.now ?? Date.now;
  const signal = opts.signal ?? activitySignal();
  const checks = ctx.gate?.checks ?? [];
  const settled = await Promise.allSettled(checks.map((c) => evaluateWithProvider(c, ctx, { ...opts, signal })));
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
      ...(check.shadow ? { shadow: true } : {}),
    };
  });
  // Shadow checks are evaluated and recorded beside the others, never counted.
  return { verdict: aggregate(results.filter((r) => !r.shadow).map((r) => r.verdict)), checks: results, at: now() };
}
