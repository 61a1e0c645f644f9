// Modules only some commands need, loaded on first use so `mrcd status` and `mrcd pause`
// start without them (M7 in docs/benchmarks.md): plan loading (YAML, the zod plan schema),
// the plan preview and its soak power (`plan --power`), the review (vega) and the codec
// server. Every require of the CLI is here, each with a literal path: esbuild bundles only
// those into dist/mrcd.js (and records them among the inputs whose hashes tell a stale
// bundle).
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const loaders = {
  plan: () => require('../plan') as typeof import('../plan'),
  planPreview: () => require('../client/plan-preview') as typeof import('../client/plan-preview'),
  comparisonPower: () => require('../client/comparison-power') as typeof import('../client/comparison-power'),
  review: () => require('../client/review') as typeof import('../client/review'),
  codecServer: () => require('../client/codec-server') as typeof import('../client/codec-server'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

export type LazyModule = keyof typeof loaders;

/** The module, loaded the first time a command asks for it (node's require cache keeps it). */
export function lazy<K extends LazyModule>(name: K): ReturnType<(typeof loaders)[K]> {
  return loaders[name]() as ReturnType<(typeof loaders)[K]>;
}
