import type { z } from 'zod';
import { planSchema } from './schema';
import { normalizePlan, type NormalizedPlan } from './normalize';
import { lintPlan } from './lint';
import type { PlanProblem } from './problem';

export type { PlanProblem } from './problem';

/**
 * A plan is refused (`ok: false`) when any problem is an error; `problems` then lists the
 * warnings too, so one run shows everything. An accepted plan may carry warnings.
 */
export type PlanValidation = { ok: true; plan: NormalizedPlan; warnings: PlanProblem[] } | { ok: false; problems: PlanProblem[] };

/** One problem as a line: `error   regions[1].size: 5 is smaller … [region-order]`. */
export function formatProblem(p: PlanProblem): string {
  return `${p.severity.padEnd(7)} ${p.path}: ${p.message} [${p.id}]`;
}

/** "2 errors, 1 warning" */
export function countProblems(problems: readonly PlanProblem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  return warnings > 0 ? `${n(errors, 'error')}, ${n(warnings, 'warning')}` : n(errors, 'problem');
}

/** Raised when a plan is refused; lists every problem, never just the first. */
export class PlanError extends Error {
  constructor(
    readonly problems: PlanProblem[],
    readonly source = 'plan',
  ) {
    super(`${source} is invalid (${countProblems(problems)}):\n` + problems.map((p) => `  ${formatProblem(p)}`).join('\n'));
    this.name = 'PlanError';
  }
}

/** Renders a zod/lint path as users write it: `regions[2].gate.checks[0].threshold`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(plan)';
}

function zodProblems(error: z.ZodError): PlanProblem[] {
  return error.issues.map((i) => {
    const schema = { id: 'schema', severity: 'error' } as const;
    if (i.code === 'unrecognized_keys') {
      return {
        ...schema,
        path: formatPath(i.path),
        message: `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')} (secrets go in the worker's environment, referenced by *Env names)`,
      };
    }
    if (i.code === 'invalid_union' && 'discriminator' in i) {
      return { ...schema, path: formatPath(i.path), message: i.message };
    }
    return { ...schema, path: formatPath(i.path), message: i.message };
  });
}

/**
 * Validates a plan document (already parsed from YAML/JSON) against the schema and the
 * lints, both always: schema errors do not hide the lints. Errors come first, then warnings. A lint at a path the schema
 * already refused is left out (one problem per path). On success returns the normalized
 * plan the workflow runs and the warnings; any error refuses the plan.
 */
export function validatePlan(doc: unknown): PlanValidation {
  const parsed = planSchema.safeParse(doc);
  const schemaProblems = parsed.success ? [] : zodProblems(parsed.error);
  const refused = new Set(schemaProblems.map((p) => p.path));
  const lints = lintPlan(doc).filter((p) => !refused.has(p.path));
  // Errors first (they decide), then warnings; each in document order.
  const problems = [...schemaProblems, ...lints].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  if (!parsed.success || problems.some((p) => p.severity === 'error')) return { ok: false, problems };
  return { ok: true, plan: normalizePlan(parsed.data), warnings: problems };
}

/** Like validatePlan, but throws a PlanError naming every problem. */
export function parsePlan(doc: unknown, source = 'plan'): NormalizedPlan {
  const r = validatePlan(doc);
  if (!r.ok) throw new PlanError(r.problems, source);
  return r.plan;
}
