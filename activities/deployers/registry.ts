// The deployer of each plan `deployer.type`. The mapped type makes a deployer type the plan
// schema knows but this registry lacks a compile error.
import { ApplicationFailure } from '@temporalio/common';
import type { NormalizedDeployer } from '../../plan';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import { commandDeployer } from './command';
import { readerOf, type Deployer, type DeployerRegistry, type RegionReader } from './deployer';
import { httpDeployer } from './http';
import { kubernetesDeployer } from './kubernetes';

export const DEPLOYERS: DeployerRegistry = {
  http: httpDeployer,
  command: commandDeployer,
  kubernetes: kubernetesDeployer,
};

/** The provider for `config`, typed for it; a type this worker does not know fails as a configuration error. */
export function deployerFor<C extends NormalizedDeployer>(config: C): Deployer<C> {
  const provider = (DEPLOYERS as Partial<Record<string, unknown>>)[config.type];
  // Reachable only with a history recorded by a newer plan schema than this worker knows.
  if (!provider) throw ApplicationFailure.nonRetryable(`unknown deployer type ${JSON.stringify(config.type)}`, ACTIVITY_FAILURE.deployConfig);
  // The registry's mapped type pairs each type with its provider; TypeScript cannot follow
  // that pairing through an indexed access on a union, hence the one cast.
  return provider as Deployer<C>;
}

/** What a region runs, read by the deployer of `config`. */
export function readerFor(config: NormalizedDeployer): RegionReader {
  return readerOf(deployerFor(config), config);
}
