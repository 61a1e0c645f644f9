// Every activity the worker registers, by the names the workflow calls.
import type { RolloutActivities } from '../domain/activity-contract';
import { preparePlanUnderItsId } from './plan';
import { deployRegion, rollbackRegion } from './deployers';
import { checkRegion, watchRegion } from './slo/watch';
import { evaluateFinalGate } from './final-gate';
import { readRegionVersions } from './region-versions';
import { notify } from './notify';
import { runMigration } from './migrations';
import { nextDeployWindow } from './windows';
import { checkQuarantine } from './quarantine';
import { calendarPeriods, consultPolicy, endedRollouts } from './policy';
import { withPrepareRollout } from './prepare-rollout';

export function createActivities(): RolloutActivities {
  return withPrepareRollout<Omit<RolloutActivities, 'prepareRollout'>>({
    // The worker's preparePlan also refuses a rollout under an id other than rollout-<service>.
    preparePlan: preparePlanUnderItsId,
    deployRegion,
    rollbackRegion,
    watchRegion,
    checkRegion,
    evaluateGate: (input) => evaluateFinalGate(input),
    readRegionVersions,
    notify: (input) => notify(input),
    runMigration: (input) => runMigration(input),
    nextDeployWindow,
    checkQuarantine,
    consultPolicy,
    endedRollouts,
    calendarPeriods,
  });
}

export type { RolloutActivities } from '../domain/activity-contract';
