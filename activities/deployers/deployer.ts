// What a deployer is: a plug-in that acts on a region (deploy, roll back) and says what the
// region runs. It acts; it does not judge. What the region runs after a rollback, whether a
// region already back is rolled back again, and when a region counts as deployed or rolled
// back are decided by the generic code (index.ts, running-version.ts) for every deployer.
// A new deployer is one module exporting a `Deployer`, one line in registry.ts, and its
// plan schema (docs/extending.md).
import type { NormalizedDeployer } from '../../plan';
import type { DeployInput, DeployResult, RollbackInput } from '../../domain/activity-contract';

export type DeployerType = NormalizedDeployer['type'];

/** The plan's settings of one deployer type. */
export type DeployerConfig<T extends DeployerType = DeployerType> = Extract<NormalizedDeployer, { type: T }>;

/** A region of a service, and the version a step is about. */
export interface RegionRef {
  service: string;
  region: string;
  /** The version expected; passed to a status command as VERSION. */
  version: string;
}

export interface Deployer<C extends NormalizedDeployer> {
  /**
   * Deploys, and resolves only once the region runs the version (confirmDeployed in
   * running-version.ts), or throws a failure of DEPLOY_FAILURE / ACTIVITY_FAILURE. Safe to
   * run again for the same `idempotencyKey`: activity retries reuse it.
   */
  deploy: (input: DeployInput<C>) => Promise<DeployResult>;
  /** Sends the rollback and resolves when the deployer calls it done; the generic code confirms it. */
  rollback: (input: RollbackInput<C>) => Promise<DeployResult>;
  /**
   * The version the region runs (null: nothing of the service), or undefined when this
   * deployer cannot say. Throws a classified failure when it could not be asked.
   */
  running: (config: C, ref: RegionRef, signal?: AbortSignal) => Promise<string | null | undefined>;
  /** Why `running` can answer undefined, in words for status; absent where it never does. */
  runningUnknown?: string;
  /**
   * A retried attempt finds its own operation again (by heartbeat or idempotency key), so it
   * must not read the region first: a rollback in flight would look like "already back".
   */
  resumesByKey: boolean;
}

/** Every deployer type of the plan schema, each with its provider: a missing one does not compile. */
export type DeployerRegistry = { [T in DeployerType]: Deployer<DeployerConfig<T>> };

/** What a region runs, as one deployer with its settings reads it. */
export interface RegionReader {
  read: (ref: RegionRef, signal?: AbortSignal) => Promise<string | null | undefined>;
  /** Why `read` answered undefined. */
  unknownWhy: string;
}

/** The reader of `deployer` with the plan's settings `config`. */
export function readerOf<C extends NormalizedDeployer>(deployer: Deployer<C>, config: C): RegionReader {
  return {
    read: (ref, signal) => deployer.running(config, ref, signal),
    unknownWhy: deployer.runningUnknown ?? `the ${config.type} deployer cannot say what a region runs`,
  };
}
