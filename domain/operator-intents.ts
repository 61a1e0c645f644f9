// What operators asked for that the flow has not acted on yet (as argo-rollouts'
// pauseContext): handlers only record intents here, the flow reads and consumes them at its
// safe points. One object with named operations, so "who may clear a retry" or "does an
// approval outlive a failed attempt" is answered in one place, and the action-race model
// test runs this very code.
import type { OperatorActionName } from './operator-actions';
import type { RolloutState } from './state';

export interface CarriedIntents {
  retry: boolean;
  approvals: string[];
}

export class OperatorIntents {
  private pausedNow: boolean;
  private aborting = false;
  private retryAsked: boolean;
  private readonly approvals: Set<string>;
  private readonly soaksCut = new Set<string>();

  constructor(from: { paused?: boolean; retry?: boolean; approvals?: readonly string[] } = {}) {
    this.pausedNow = from.paused ?? false;
    this.retryAsked = from.retry ?? false;
    this.approvals = new Set(from.approvals ?? []);
  }

  get paused(): boolean {
    return this.pausedNow;
  }
  get abortRequested(): boolean {
    return this.aborting;
  }
  get retryRequested(): boolean {
    return this.retryAsked;
  }
  isApproved(region: string): boolean {
    return this.approvals.has(region);
  }
  soakSkipped(region: string): boolean {
    return this.soaksCut.has(region);
  }

  // What operators do (through acceptAction).
  pause(): void {
    this.pausedNow = true;
  }
  resume(): void {
    this.pausedNow = false;
  }
  /** A rollback that failed is retried first, then the abort rolls every region back. */
  requestAbort(retryFirst: boolean): void {
    this.aborting = true;
    this.retryAsked = retryFirst;
  }
  requestRetry(): void {
    this.retryAsked = true;
  }
  approve(region: string): void {
    this.approvals.add(region);
  }
  skipSoak(region: string): void {
    this.soaksCut.add(region);
  }

  // What the flow does.
  /** A Cancel from Temporal is an abort: every deployed region is rolled back. */
  abortOnCancel(): void {
    this.aborting = true;
  }
  /** True once per request: the flow acts on it now. */
  takeRetry(): boolean {
    const asked = this.retryAsked;
    this.retryAsked = false;
    return asked;
  }
  /** A request made before the flow could act on it (a halt entered afterwards) is dropped. */
  dropRetry(): void {
    this.retryAsked = false;
  }
  /** A retried halt runs again: the pause that held it is over. */
  unpause(): void {
    this.pausedNow = false;
  }
  /** An approval holds for one attempt of the region. */
  forgetApproval(region: string): void {
    this.approvals.delete(region);
  }
  /** A cut soak is cut once: a retried region soaks in full. */
  forgetSkipSoak(region: string): void {
    this.soaksCut.delete(region);
  }

  /** What survives continue-as-new (a pause is carried in the status' state). */
  carried(): CarriedIntents {
    return { retry: this.retryAsked, approvals: [...this.approvals] };
  }
}

/**
 * Records an action the action table accepted (legal, not a no-op) as intents, and returns
 * the state the rollout is in after it. `statesAtOnce`: a retry and an abort change the
 * state at once rather than at the flow's next safe point (rollouts started before that
 * keep the old answers). `region` is the region it acts on, for approve and skip-soak.
 */
export function acceptAction(
  intents: OperatorIntents,
  action: OperatorActionName,
  state: RolloutState,
  region: string | undefined,
  statesAtOnce: boolean,
): RolloutState {
  const retry = (): RolloutState => {
    intents.requestRetry();
    return statesAtOnce ? (state === 'rollback-failed' ? 'rolling-back' : 'running') : state;
  };
  switch (action) {
    case 'pause':
      intents.pause();
      return 'paused';
    case 'resume':
      // Resume of a halt is its retry.
      if (state !== 'paused') return retry();
      intents.resume();
      return 'running';
    case 'retry':
      return retry();
    case 'abort':
      intents.requestAbort(state === 'rollback-failed');
      return statesAtOnce ? 'rolling-back' : state;
    case 'approve':
      intents.approve(region!);
      return state;
    case 'skip-soak':
      intents.skipSoak(region!);
      return state;
  }
}
