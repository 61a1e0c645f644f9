export * from './schema';
export * from './normalize';
export * from './validate';
export * from '../domain/duration';
export { loadPlanFile, loadPlanDocument, parsePlanText } from './load';
export { lintPlan, LINTS, SOAK_PRACTICE, REGIONS_TO_START_WITH, type LintId } from './lint';
export type { PlanProblem, PlanSeverity } from './problem';
export { policyFileSchema, policyFileProblems, applyRequestOf, type PolicyFile } from './policy-file';
