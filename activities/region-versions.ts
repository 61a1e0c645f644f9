// What regions run now, read from each region: the evidence behind "promoted" after a hold
// (someone may have rolled the region back by hand meanwhile) and behind "succeeded" (every
// region runs the version at the end, not only at its own gate). Regions are read in
// parallel; one unreadable region is an `error` for it, never a pass.
import { activitySignal } from './activity-context';
import { checkDeployment } from './deployers/running-version';
import { readerFor } from './deployers/registry';
import type { DeploymentCheck, RegionVersionsInput } from '../domain/activity-contract';

export function readRegionVersions(input: RegionVersionsInput): Promise<DeploymentCheck[]> {
  const signal = activitySignal();
  return Promise.all(
    input.regions.map((region) => checkDeployment(readerFor(input.deployer), { service: input.service, region, version: input.version }, signal)),
  );
}
