// The activity context when there is one: the same code runs inside activities, in the
// CLI and in tests, where Context.current() throws.
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';

export function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** The activity's cancellation signal, or none outside an activity. */
export function activitySignal(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/**
 * If the activity was cancelled, the error to rethrow so Temporal records a cancellation
 * rather than a failure (an aborted request reports its own error, not the cancellation).
 */
export function cancellationOf(signal: AbortSignal | undefined, err?: unknown): Error | undefined {
  if (err instanceof CancelledFailure) return err;
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new CancelledFailure(typeof reason === 'string' ? reason : 'cancelled');
}
