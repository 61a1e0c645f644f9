// What a region runs now, as its deployer reports it. A deployer that says "succeeded"
// proves only that an operation ended well, not which one: a reused idempotency key
// hands back an old operation, and a region can be changed from outside during a soak.
// So a deploy is confirmed against the region's status, and a gate re-reads it before
// a promotion.
import { ApplicationFailure } from '@temporalio/common';
import type { DeploymentCheck } from '../../domain/activity-contract';
import { cancellationOf } from '../activity-context';
import { currentContext } from '../activity-context';
import { ACTIVITY_FAILURE } from '../../domain/failures';
import type { RegionReader, RegionRef } from './deployer';

/**
 * How long one status call may take; it is a small GET or a short command. Below the deploy
 * activity's 30 s heartbeatTimeout, like REQUEST_TIMEOUT_MS, so a hung status read fails as
 * itself rather than as a lost worker.
 */
export const STATUS_TIMEOUT_MS = 20_000;

/** The status call in words, for its failures: "status of api in eu-west-1". */
export function statusText(ref: RegionRef): string {
  return `status of ${ref.service} in ${ref.region}`;
}

/**
 * Reads the region's status (passing failures tried again, as in the confirmations) and
 * judges it against the expected version; never throws but for cancellation.
 */
export async function checkDeployment(reader: RegionReader, ref: RegionRef, signal?: AbortSignal): Promise<DeploymentCheck> {
  let running: string | null | undefined;
  // Inside an activity the wait between tries ends with a cancellation (the check activity
  // heartbeats on a timer of its own meanwhile).
  const ctx = currentContext();
  const sleep = ctx ? (ms: number) => ctx.sleep(ms) : undefined;
  try {
    running = await readUntil(reader, ref, (v) => v === ref.version, { ...(signal ? { signal } : {}), ...(sleep ? { sleep } : {}) });
  } catch (e) {
    const cancelled = cancellationOf(signal, e);
    if (cancelled) throw cancelled;
    return { verdict: 'error', detail: `could not read what ${ref.region} runs: ${(e as Error).message}` };
  }
  if (running === undefined) return { verdict: 'unverified', detail: `${reader.unknownWhy}: what the region runs is not confirmed` };
  if (running === ref.version) return { verdict: 'pass', running, detail: `${ref.region} runs ${running}` };
  return { verdict: 'fail', running, detail: `${ref.region} runs ${running ?? 'nothing'} of ${ref.service}, not ${ref.version}` };
}

/**
 * What a region runs while its own controller moves it from one version to another (a
 * Kubernetes Deployment mid-rollout): both, in words that never equal a version (versions
 * have no spaces), so a check against either fails with what runs.
 */
export function rollingOut(to: string, from: string | null): string {
  return `${to} (rolling out; ${from ?? 'nothing'} still serving)`;
}

/** The version a mid-rollout answer moves to; undefined for a settled answer. */
export function rollingOutTo(running: string | null | undefined): string | undefined {
  return running ? /^(\S+) \(rolling out; /.exec(running)?.[1] : undefined;
}

/** Tries for a little while: a deployer's status may lag the end of its operation. */
export const CONFIRM_TRIES = 3;
export const CONFIRM_GAP_MS = 1_000;

export interface ReadOptions {
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads what the region runs until `settled` accepts it, up to CONFIRM_TRIES a second apart:
 * a deployer's status may lag the end of its operation. A read that fails for a passing
 * reason (5xx, timeout, refused) is tried again the same way: failing the attempt for it
 * throws away an operation that succeeded, and a retried attempt needs a successful poll
 * and a successful read in a row, which a deploy API failing every second call never gives
 * (every attempt failed at its status read, until the retries ran out). Returns the last
 * read (undefined: the deployer cannot say).
 */
async function readUntil(
  reader: RegionReader,
  ref: RegionRef,
  settled: (running: string | null) => boolean,
  opts: ReadOptions,
): Promise<string | null | undefined> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let running: string | null | undefined;
  for (let i = 0; i < CONFIRM_TRIES; i++) {
    if (i > 0) await sleep(CONFIRM_GAP_MS);
    try {
      running = await reader.read(ref, opts.signal);
    } catch (e) {
      if (i + 1 < CONFIRM_TRIES && passing(e) && !cancellationOf(opts.signal, e)) continue;
      throw e;
    }
    if (running === undefined || settled(running)) return running;
  }
  return running;
}

/** What the region runs, read with the same tolerance of passing failures as the confirmations. */
export function readRunning(reader: RegionReader, ref: RegionRef, opts: ReadOptions = {}): Promise<string | null | undefined> {
  return readUntil(reader, ref, () => true, opts);
}

/**
 * After a deploy the deployer called a success: the region must run the version. A
 * mismatch that outlasts a few tries is a deploy that did not land (non-retryable: the
 * same operation would be handed back again).
 */
export async function confirmDeployed(reader: RegionReader, ref: RegionRef, opts: ReadOptions & { operation?: string } = {}): Promise<string | undefined> {
  const running = await readUntil(reader, ref, (v) => v === ref.version, opts);
  if (running === undefined || running === ref.version) return running ?? undefined;
  throw ApplicationFailure.nonRetryable(
    `deploy ${ref.service} ${ref.version} to ${ref.region}: the deployer reported success${opts.operation ? ` (operation ${opts.operation})` : ''}, but the region runs ${running ?? 'nothing'}: the deploy did not land`,
    ACTIVITY_FAILURE.deployNotLanded,
  );
}

/**
 * A failure that another try a second later may not meet: retryable as classified (not a
 * 4xx, not a configuration error), and without a Retry-After, which Temporal's retry honours.
 */
function passing(e: unknown): boolean {
  return e instanceof ApplicationFailure && !e.nonRetryable && (e.nextRetryDelay === undefined || e.nextRetryDelay === null);
}

/**
 * What a rollback must leave: the region no longer runs `ref.version`, and runs `previous`
 * where it is known. A rollback "to the revision before the current one" (`kubectl rollout
 * undo`, `helm rollback <release>`) run twice puts the bad version back, so the answer of
 * the deployer is never taken for it. Undefined when it holds, else what the region runs in words.
 */
export function rollbackShortfall(ref: RegionRef, previous: string | undefined, running: string | null): string | undefined {
  if (running === ref.version) return `${ref.region} still runs ${ref.version}`;
  if (previous !== undefined && running !== previous) return `${ref.region} runs ${running ?? 'nothing'} of ${ref.service}, not the previous ${previous}`;
  return undefined;
}

/**
 * After a rollback the deployer called a success: reads what the region runs (a few tries,
 * as for deploys) and fails closed, non-retryable, when the rollback did not land. Returns
 * what the region runs (undefined: not verifiable).
 */
export async function confirmRolledBack(
  reader: RegionReader,
  ref: RegionRef,
  previous: string | undefined,
  opts: ReadOptions = {},
): Promise<string | null | undefined> {
  const running = await readUntil(reader, ref, (v) => rollbackShortfall(ref, previous, v) === undefined, opts);
  if (running === undefined) return undefined;
  const shortfall = rollbackShortfall(ref, previous, running);
  if (shortfall === undefined) return running;
  throw ApplicationFailure.nonRetryable(
    `rollback of ${ref.service} ${ref.version} in ${ref.region}: the deployer reported success, but ${shortfall}: the rollback did not land (set the region to ${previous ?? 'the version before'} by hand, then retry)`,
    ACTIVITY_FAILURE.rollbackNotLanded,
  );
}
