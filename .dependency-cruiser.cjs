// The import rules of docs/architecture.md ("Layers"), checked by `npm test` (npm run
// lint:deps), with no exceptions. At run time, bottom up: domain (the vocabulary every side
// shares: pure, sandbox-safe) → plan (the plan language) → workflows | activities | common
// → worker | client → cli (the mrcd command line) | dev, bench → test; nothing of ours but
// the tests imports cli/ (bin/mrcd.js runs it). The domain names the plan's normalized
// types, and workflow code names them too: `import type` only, erased when compiled. What
// workflow code can reach at run time is checked by .dependency-cruiser-sandbox.cjs.
const ours = '^(domain|plan|workflows|activities|common|worker|client|cli|dev|bench|test|scripts|bin)/';
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to });
const typesOnly = { path: '^plan/', dependencyTypesNot: ['type-only', 'type-import'] };

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'Import cycles make load order matter and modules inseparable.', severity: 'error', from: {}, to: { circular: true } },
    forbid('domain-is-the-bottom', 'domain/ imports only domain/ (and the types of plan/).', '^domain/', { path: ours, pathNot: '^(domain|plan)/' }),
    forbid('domain-names-plan-types', 'domain/ may name the types of plan/, never import its code.', '^domain/', typesOnly),
    forbid('plan-above-domain', 'plan/ is the plan language: it imports only plan/ and domain/.', '^plan/', { path: ours, pathNot: '^(plan|domain)/' }),
    forbid('workflows-on-domain', 'Workflow code imports only workflows/ and domain/ (and the types of plan/).', '^workflows/', {
      path: ours,
      pathNot: '^(workflows|domain|plan)/',
    }),
    forbid('workflows-name-plan-types', 'Workflow code may name the types of plan/, never import its code.', '^workflows/', typesOnly),
    forbid('activities-below-the-rest', 'activities/ imports domain/, plan/, common/ and itself: not the workflow, the worker or the client.', '^activities/', {
      path: '^(workflows|client|worker|dev|bench|test)/',
    }),
    forbid(
      'common-is-shared',
      'common/ is what the worker and the client share: it must not depend on either, nor on the workflow or activities.',
      '^common/',
      {
        path: '^(workflows|activities|client|worker|dev|bench|test)/',
      },
    ),
    forbid('worker-not-client', 'The worker does not depend on the client library.', '^worker/', { path: '^(client|dev|bench|test)/' }),
    forbid('client-not-worker', 'The client library does not load the worker, the workflow or activity code.', '^client/', {
      path: '^(worker|workflows|activities|dev|bench|test)/',
    }),
    forbid('cli-on-the-library', 'The mrcd command line imports the client library, common/, domain/, plan/ and itself: nothing else of ours.', '^cli/', {
      path: ours,
      pathNot: '^(cli|client|common|domain|plan)/',
    }),
    forbid(
      'nothing-imports-the-cli',
      'cli/ is the top of the product: only bin/mrcd.js (not cruised) and tests run it.',
      '^(domain|plan|workflows|activities|common|worker|client|dev|bench)/',
      {
        path: '^cli/',
      },
    ),
    forbid('product-not-tests', 'Shipped code never imports tests or benchmarks.', '^(domain|plan|workflows|activities|common|worker|client|cli|dev)/', {
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
