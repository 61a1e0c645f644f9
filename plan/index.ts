export * from './schema';
export * from './normalize';
export * from './validate';
export * from './duration';
export { loadPlanFile, loadPlanDocument, parsePlanText } from './load';
