// What validation and the lints report: one problem per path, so every one can be shown.

/** One thing wrong with a plan, at a path such as `regions[2].soak`. */
export interface PlanProblem {
  path: string;
  message: string;
}
