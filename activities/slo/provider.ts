// What an SLO provider is: a plug-in that measures one check of a gate and answers with a
// verdict, fail-closed (no data, NaN, stale, warnings or too little traffic are never a
// pass). A new provider is one module exporting an `SloProvider`, one line in registry.ts
// and its source schema in plan/schema.ts (docs/extending.md).
import type { Check } from '../../plan';
import type { CheckResult, SloContext } from '../../domain/activity-contract';
import type { ProviderOptions } from './http';
import type { PrometheusOptions } from './prometheus';

export type SloSourceType = Check['source']['type'];

/** A check whose source is of type `T`. */
export type SloCheck<T extends SloSourceType> = Check & { source: Extract<Check['source'], { type: T }> };

/** What the gate hands every provider; each reads the options it knows. */
export type SloProviderOptions = ProviderOptions & PrometheusOptions;

export interface SloProvider<T extends SloSourceType> {
  /** Never rejects for a provider fault (that is an `error` verdict); rethrows the cancellation. */
  evaluate: (check: SloCheck<T>, ctx: SloContext, opts: SloProviderOptions) => Promise<CheckResult>;
}

/** Every source type of the plan schema, each with its provider: a missing one does not compile. */
export type SloProviderRegistry = { [T in SloSourceType]: SloProvider<T> };
