// What validation and the lints report: one problem per path, so every one can be shown.

/** `error` refuses the plan; `warning` is a practice the plan departs from without saying why. */
export type PlanSeverity = 'error' | 'warning';

/** One thing wrong with a plan, at a path such as `regions[2].soak`. */
export interface PlanProblem {
  /** `schema` for what the schema refuses, `syntax`/`file` for unreadable documents, else the lint's id (docs/plan-reference.md, "Lints"). */
  id: string;
  severity: PlanSeverity;
  path: string;
  message: string;
}
