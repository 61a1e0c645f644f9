// The worker's workflowsPath: every workflow type this worker runs.
export { rolloutWorkflow } from './rollout';
export { fleetPolicyWorkflow } from './policy';
