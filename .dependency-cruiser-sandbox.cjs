// What workflow code can reach at run time, checked by `npm run lint:deps` beside the layer
// rules of .dependency-cruiser.cjs. It runs in Temporal's deterministic sandbox: no Node
// built-ins, and none of the libraries that only make sense outside it. Type-only imports are
// erased when compiled, so this pass does not follow them (tsPreCompilationDeps: false):
// domain/ names the plan's types, and plan/ does use zod and yaml.
const { builtinModules } = require('node:module');

const builtins = builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|');

module.exports = {
  forbidden: [
    {
      name: 'sandbox-safe',
      comment: 'Nothing reachable from workflows/ or domain/ is a Node built-in, zod, yaml or axios.',
      severity: 'error',
      from: { path: '^(workflows|domain)/' },
      to: { reachable: true, path: [`^(node:)?(${builtins})$`, '(^|/)node_modules/(zod|yaml|axios)/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules stays in the graph (not followed) so that zod, yaml and axios can be named.
    exclude: { path: '^(dist|\\.tools)/' },
  },
};
