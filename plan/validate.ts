import type { z } from 'zod';
import { planSchema } from './schema';
import { normalizePlan, type NormalizedPlan } from './normalize';
import { lintPlan } from './lint';
import type { PlanProblem } from './problem';

export type { PlanProblem } from './problem';

export type PlanValidation = { ok: true; plan: NormalizedPlan } | { ok: false; problems: PlanProblem[] };

/** Raised when a plan is refused; lists every problem, never just the first. */
export class PlanError extends Error {
  constructor(
    readonly problems: PlanProblem[],
    readonly source = 'plan',
  ) {
    super(
      `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
    );
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
    if (i.code === 'unrecognized_keys') {
      return {
        path: formatPath(i.path),
        message: `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')} (secrets go in the worker's environment, referenced by *Env names)`,
      };
    }
    if (i.code === 'invalid_union' && 'discriminator' in i) {
      return { path: formatPath(i.path), message: i.message };
    }
    return { path: formatPath(i.path), message: i.message };
  });
}

/**
 * Validates a plan document (already parsed from YAML/JSON) against the schema and the
 * policy lints. On success returns the normalized plan the workflow runs.
 */
export function validatePlan(doc: unknown): PlanValidation {
  const parsed = planSchema.safeParse(doc);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
  const problems = lintPlan(parsed.data);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan: normalizePlan(parsed.data) };
}

/** Like validatePlan, but throws a PlanError naming every problem. */
export function parsePlan(doc: unknown, source = 'plan'): NormalizedPlan {
  const r = validatePlan(doc);
  if (!r.ok) throw new PlanError(r.problems, source);
  return r.plan;
}
