// ESLint, run by `npm test` (npm run lint) beside Prettier, which owns all formatting.
// typescript-eslint's type-checked recommended rules on the TypeScript of tsconfig.json,
// no floating promises anywhere, and the workflow sandbox's import rule on workflows/ and domain/.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// What workflow code must not import: it runs in Temporal's deterministic sandbox, which has
// no Node built-ins, and anything doing I/O belongs in an activity. The rule of the Temporal
// samples (samples-typescript .shared/.eslintrc.js), plus the SDK packages and our
// dependencies that only make sense outside the sandbox. dependency-cruiser checks the
// layer rules (docs/architecture.md, "Layers").
const notInWorkflows = 'Workflow code runs in the deterministic workflow sandbox: do I/O and Node work in an activity.';
const workflowImports = {
  paths: [
    ...builtinModules.flatMap((name) => [name, `node:${name}`]).map((name) => ({ name, message: notInWorkflows })),
    ...['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'].map((name) => ({
      name,
      message: 'Workflow code imports only @temporalio/workflow and @temporalio/common of the SDK.',
    })),
    ...['axios', 'pino', 'pino-pretty', 'commander', 'cli-table3', 'esbuild', 'tsx'].map((name) => ({ name, message: notInWorkflows })),
  ],
  patterns: [{ group: ['node:*'], message: notInWorkflows }],
};

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', '.tools/', '.data/', 'bench/results/', 'test/histories/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Forgetting to await an activity, a workflow API or a client call is a bug.
      // node:test's describe() and test() return promises the runner itself awaits. (The list
      // matches by name, so it lets a subtest's t.test() through too: see test/** below.)
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'suite', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // The code indexes as if noUncheckedIndexedAccess were on (`xs[i]!`; tsc passes with it),
      // which tsconfig.json leaves off, so the rule calls ~220 of those `!` unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Activities and fakes are async without awaiting so that a throw stays a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests poke at parsed JSON and HTTP bodies (`any`); typing each probe adds nothing.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ExpressionStatement > CallExpression[callee.type='MemberExpression'][callee.property.name='test']",
          message: 'Await a subtest: node:test cancels one still running when its parent test ends.',
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', workflowImports] },
  },
  {
    // The install and build scripts, the CLI launcher and the tool configs: plain Node
    // JavaScript outside tsconfig.json, so no type-aware rules.
    files: ['**/*.{js,cjs,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
