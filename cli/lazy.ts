// Modules only some commands need, loaded on first use (M7 in docs/benchmarks.md): the
// Temporal client (the connection, the library, and ./exit-codes.ts, which imports the
// library's error classes), so `validate`, an offline `plan` and `--help` never load it;
// plan loading (YAML, the zod plan schema), the plan preview and its soak power
// (`plan --power`), the review (vega) and the codec server. Each require has a literal path:
// esbuild bundles only those into dist/mrcd.js (and records them among the inputs whose
// hashes tell a stale bundle). The command modules themselves are loaded the same way by
// ./commands.ts.
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const loaders = {
  exitCodes: () => require('./exit-codes') as typeof import('./exit-codes'),
  connection: () => require('../common/connection') as typeof import('../common/connection'),
  rollouts: () => require('../client/rollouts') as typeof import('../client/rollouts'),
  listing: () => require('../client/listing') as typeof import('../client/listing'),
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
