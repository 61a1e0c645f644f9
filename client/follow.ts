// Following a rollout to its verdict: the long poll of its result beside a status poll
// that reports every change an operator would care about.
import type { WorkflowHandle } from '@temporalio/client';
import type { RolloutStatus } from '../domain/state';
import { RolloutNotFoundError } from './errors';
import { getStatus, rolloutHandle, statusFromFailure, type MrcdClient } from './rollout-handle';

export interface Verdict {
  succeeded: boolean;
  status: RolloutStatus;
}

/** Where following stopped: the rollout ended, halted for an operator, or the wait ran out. */
export type FollowOutcome = 'ended' | 'halted' | 'timed-out';

export interface FollowResult extends Verdict {
  outcome: FollowOutcome;
}

export interface FollowOptions {
  /** How often to read status; default 1 s. */
  intervalMs?: number;
  /**
   * Return at a halt (halted, rollback-failed) instead of waiting for an operator: what CI
   * wants, since a halt can last hours. The rollout stays halted. Default: wait.
   */
  stopAtHalt?: boolean;
  /** Stop waiting after this long; the rollout goes on. */
  timeoutMs?: number;
  /**
   * Stop following when aborted (the promise rejects with the signal's reason) once nothing
   * is left in flight, so the caller may close the connection next. The rollout goes on.
   */
  signal?: AbortSignal;
}

/** States in which a rollout waits for an operator's retry or abort. */
export const HALT_STATES: ReadonlySet<string> = new Set(['halted', 'rollback-failed']);

/** Waits for the rollout to end and returns its final status; never throws for a failed rollout. */
export async function waitForVerdict(handle: WorkflowHandle): Promise<Verdict> {
  try {
    const status = (await handle.result()) as RolloutStatus;
    return { succeeded: status.state === 'succeeded', status };
  } catch (e) {
    const status = statusFromFailure(e);
    if (status) return { succeeded: false, status };
    throw e;
  }
}

/**
 * Polls status and calls onChange whenever something an operator would care about
 * changed, until the rollout ends, or (per options) halts or the wait runs out. A number
 * for `opts` is the poll interval.
 */
export async function followRollout(
  m: MrcdClient,
  service: string,
  onChange: (s: RolloutStatus, prev?: RolloutStatus) => void,
  opts: FollowOptions | number = {},
): Promise<FollowResult> {
  const o: FollowOptions = typeof opts === 'number' ? { intervalMs: opts } : opts;
  const intervalMs = o.intervalMs ?? 1000;
  const deadline = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
  let prev: RolloutStatus | undefined;
  let prevKey = '';
  const show = (s: RolloutStatus) => {
    const key = JSON.stringify([s.state, s.currentRegion, s.regions.map((r) => [r.status, r.waitingFor]), s.actions.length, s.actions.at(-1)?.at]);
    if (key === prevKey) return;
    onChange(s, prev);
    prev = s;
    prevKey = key;
  };
  // The result's long poll ends the wait the moment the rollout does; it is cancelled when
  // following stops earlier, so nothing is left waiting on the server.
  const stop = new AbortController();
  const verdict = m.client.withAbortSignal(stop.signal, () => waitForVerdict(rolloutHandle(m, service)));
  let done = false;
  verdict.then(
    () => (done = true),
    () => (done = true),
  );
  try {
    const aborted = new Promise<void>((r) => o.signal?.addEventListener('abort', () => r(), { once: true }));
    while (!done) {
      o.signal?.throwIfAborted();
      const s = await getStatus(m, service).catch((e: unknown) => {
        if (e instanceof RolloutNotFoundError) throw e;
        return undefined; // a passing fault: the next poll tries again
      });
      if (s && !done) {
        show(s);
        if (o.stopAtHalt && HALT_STATES.has(s.state)) return { outcome: 'halted', succeeded: false, status: s };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const last = s ?? prev;
        if (last && !done) return { outcome: 'timed-out', succeeded: false, status: last };
      }
      let timer: NodeJS.Timeout | undefined;
      const pause = left <= 0 ? intervalMs : Math.min(intervalMs, left);
      await Promise.race([verdict.catch(() => undefined), aborted, new Promise((r) => (timer = setTimeout(r, pause)))]);
      clearTimeout(timer);
    }
    const v = await verdict;
    show(v.status);
    return { outcome: 'ended', ...v };
  } finally {
    stop.abort();
    await verdict.catch(() => undefined);
  }
}
