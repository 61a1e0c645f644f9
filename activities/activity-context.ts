// The activity context when there is one: the same code runs inside activities, in the
// CLI and in tests, where Context.current() throws.
import { Context } from '@temporalio/activity';

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
