// The import rules of docs/architecture.md ("Layers"), checked by `npm test` (npm run
// lint:deps). Layers, bottom up: plan → workflows (the workflow code and the pure
// definitions, state and rules both sides share) → activities → common (what the worker
// and the client library share) → worker / client → dev, bench, test.
const ours = '^(plan|workflows|activities|common|worker|client|dev|bench|test|scripts|bin)/';
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to });

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'Import cycles make load order matter and modules inseparable.', severity: 'error', from: {}, to: { circular: true } },
    forbid('plan-is-the-bottom', 'plan/ is pure plan parsing and imports nothing else of ours.', '^plan/', { path: ours, pathNot: '^plan/' }),
    forbid(
      'workflows-stay-deterministic',
      'Workflow code and the definitions both sides share import only plan/, workflows/ and the types of activities/.',
      '^workflows/',
      { path: ours, pathNot: '^(plan|workflows)/|^activities/types\\.ts$' },
    ),
    forbid('workflows-no-node', 'The workflow sandbox has no Node built-ins.', '^workflows/', { dependencyTypes: ['core'] }),
    forbid('activities-below-client-and-worker', 'activities/ must not reach up into the client library, the worker or dev tooling.', '^activities/', {
      path: '^(client|worker|dev|bench|test)/',
    }),
    forbid('common-is-shared', 'common/ is what the worker and the client share: it must not depend on either.', '^common/', {
      path: '^(client|worker|dev|bench|test)/|^activities/(?!types\\.ts$)',
    }),
    forbid('worker-not-client', 'The worker does not depend on the client library.', '^worker/', { path: '^(client|dev|bench|test)/' }),
    forbid('client-not-worker', 'The client library does not load the worker or activity code.', '^client/', {
      path: '^(worker|dev|bench|test)/|^activities/(?!types\\.ts$)',
    }),
    forbid('product-not-tests', 'Shipped code never imports tests or benchmarks.', '^(plan|workflows|activities|common|worker|client|dev)/', {
      path: '^(test|bench)/',
    }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist|\\.tools)/' },
  },
};
