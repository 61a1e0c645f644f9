// Every failure type is a constant of domain/failures.ts: the workflow, the client and the
// runbook match failures by type, so a type spelled out as a string in one place (as
// `'DeployTimeout'` and the `${prefix}Unavailable` family once were) drifts unnoticed. A static
// check over the product code, so that a new literal fails here whatever the tests walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ACTIVITY_FAILURE, DEPLOY_FAILURE, MIGRATION_FAILURE, ROLLOUT_FAILURE } from '../../domain/failures';

const ROOT = join(__dirname, '..', '..');
const PRODUCT = ['domain', 'workflows', 'activities', 'common', 'worker', 'client'];
const HOME = join('domain', 'failures.ts');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The code without comments, which may name a failure type in words. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const TYPES = [ROLLOUT_FAILURE, ACTIVITY_FAILURE, DEPLOY_FAILURE, MIGRATION_FAILURE].flatMap((family) => Object.values(family) as string[]);
// A string that is one of those types, or shaped like a dependency's family built by hand.
const LITERAL = new RegExp(`(['"\`])(${TYPES.join('|')})\\1|\`\\$\\{\\w+\\}(Rejected|Unavailable|Throttled|Failed|Timeout|Config)\``, 'g');

test('failure types are named only by the constants of domain/failures.ts', () => {
  const files = PRODUCT.flatMap((d) => sources(join(ROOT, d)));
  assert.ok(files.length > 50, `the product has its sources (found ${files.length})`);
  const findings: string[] = [];
  for (const file of files) {
    const rel = relative(ROOT, file);
    if (rel === HOME) continue;
    code(readFileSync(file, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        for (const m of line.matchAll(LITERAL)) findings.push(`${rel}:${i + 1}: ${m[0]}`);
      });
  }
  assert.deepEqual(findings, [], 'failure types written as strings instead of domain/failures.ts constants');
});

test('the check sees a literal type and a hand-built family', () => {
  assert.match("throw ApplicationFailure.retryable(msg, 'DeployTimeout');", LITERAL);
  LITERAL.lastIndex = 0;
  assert.match('ApplicationFailure.retryable(msg, `${prefix}Unavailable`)', LITERAL);
  LITERAL.lastIndex = 0;
  assert.doesNotMatch('ApplicationFailure.retryable(msg, DEPLOY_FAILURE.timeout)', LITERAL);
});
