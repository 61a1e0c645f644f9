// The SLO provider of each check `source.type`. The mapped type makes a source type the plan
// schema knows but this registry lacks a compile error.
import type { Check } from '../../plan';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import { evaluateHttpCheck } from './http';
import { evaluatePrometheusCheck } from './prometheus';
import { evaluateComparisonCheck } from './comparison';
import type { SloCheck, SloProvider, SloProviderOptions, SloProviderRegistry, SloSourceType } from './provider';

export const SLO_PROVIDERS: SloProviderRegistry = {
  prometheus: { evaluate: evaluatePrometheusCheck },
  http: { evaluate: evaluateHttpCheck },
  comparison: { evaluate: evaluateComparisonCheck },
};

/** Runs one check with the provider its source names. */
export function evaluateWithProvider(check: Check, ctx: SloContext, opts: SloProviderOptions): Promise<CheckResult> {
  // The registry pairs each type with its provider; TypeScript cannot follow that pairing
  // through an indexed access on a union, hence the one cast.
  const provider = SLO_PROVIDERS[check.source.type] as SloProvider<SloSourceType> | undefined;
  // Reachable only with a history recorded by a newer plan schema than this worker knows:
  // the gate turns the rejection into an `error` verdict.
  if (!provider) return Promise.reject(new Error(`unknown SLO source type ${JSON.stringify(check.source.type)}`));
  return provider.evaluate(check as SloCheck<SloSourceType>, ctx, opts);
}
