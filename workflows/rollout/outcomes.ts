// What a region step, a watch or a migration comes back with, and the innermost words of a failure.
import type { GateResult } from '../../domain/activity-contract';
import type { HaltCause } from '../../domain/halt-cause';

/** A region's soak ended in one of these; only `passed` goes on to approval and promotion. */
export type SoakOutcome =
  | { kind: 'passed' }
  | { kind: 'failed'; reason: string; cause: HaltCause; gate?: GateResult }
  | { kind: 'inconclusive'; reason: string; cause: HaltCause; gate?: GateResult };

/** A promoted (or held inconclusive) region regressed; the main loop rolls it back at its next safe point. */
export interface LateBreach {
  index: number;
  why: string;
  cause: HaltCause;
}

/** Thrown at a safe point once an abort was accepted: the flow unwinds to abortAll. */
export class Aborted extends Error {}

export class MigrationFailed extends Error {
  constructor(
    message: string,
    readonly migration: string,
    readonly phase: 'expand' | 'contract',
  ) {
    super(message);
  }
}

/** Activity failures wrap the real reason; operators want the innermost message. */
export function causeMessage(e: unknown): string {
  let err = e as { message?: string; cause?: unknown } | undefined;
  while (err && err.cause && typeof err.cause === 'object') err = err.cause as typeof err;
  return err?.message ?? String(e);
}
