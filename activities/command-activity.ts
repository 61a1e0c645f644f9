// A plan-supplied command as an activity step (deploy commands, migrations): its
// environment, its {{placeholders}}, and its outcome as the activity's result or failure
// (run-command.ts runs it).
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { currentContext } from './activity-context';
import { formatDuration } from '../domain/duration';
import type { DependencyFailures } from '../domain/failures';
import { noopLogger, runCommand, SpawnError, type CommandOutcome, type CommandProgress, type LineLogger, type RunCommandOptions } from './run-command';
export type { LineLogger } from './run-command';

/** The worker variables every command gets; everything else must be asked for by name. */
export function baseEnv(passEnv: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', ...passEnv]) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/** Fills {{name}} placeholders inside each argv element; unknown names are left alone. */
export function substituteArgv(argv: readonly string[], values: Record<string, string>): string[] {
  return argv.map((arg) =>
    arg.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) => (Object.prototype.hasOwnProperty.call(values, name) ? values[name]! : whole)),
  );
}

export interface ActivityCommandOptions extends Omit<RunCommandOptions, 'signal' | 'heartbeat' | 'logger'> {
  /** Whose failure types it raises: failed, timeout, unavailable, config. */
  failures: DependencyFailures;
  /** What is being done, in words, for failure messages. */
  what: string;
  logger?: LineLogger;
}

/** The exit code a command uses to say "try me again later" (sysexits.h EX_TEMPFAIL). */
export const EX_TEMPFAIL = 75;

/**
 * Runs argv inside the current activity (if any): logs to the activity logger, heartbeats,
 * stops on cancellation, and turns the outcome into the activity's result or failure.
 */
export async function runCommandActivity(opts: ActivityCommandOptions): Promise<CommandOutcome & { kind: 'exited' }> {
  const ctx = currentContext();
  const { failures, what, ...run } = opts;
  let outcome: CommandOutcome;
  try {
    outcome = await runCommand({
      ...run,
      logger: opts.logger ?? ctx?.log ?? noopLogger,
      ...(ctx ? { signal: ctx.cancellationSignal, heartbeat: (d: CommandProgress) => ctx.heartbeat(d) } : {}),
    });
  } catch (e) {
    if (e instanceof SpawnError) {
      // A missing or non-executable program stays missing on the next attempt.
      throw ApplicationFailure.nonRetryable(
        `${what}: cannot run ${JSON.stringify(e.program)}: ${e.code === 'ENOENT' ? 'no such program (check the path and the worker PATH)' : e.message}`,
        failures.config,
      );
    }
    throw e;
  }
  const tailText = outcome.tail.length ? `\n--- last ${outcome.tail.length} lines ---\n${outcome.tail.join('\n')}` : '';
  switch (outcome.kind) {
    case 'exited':
      if (outcome.code === 0) return outcome;
      if (outcome.code === EX_TEMPFAIL) {
        throw ApplicationFailure.retryable(`${what}: exit code 75 (temporary failure)${tailText}`, failures.unavailable);
      }
      throw ApplicationFailure.nonRetryable(`${what}: exit code ${outcome.code}${tailText}`, failures.failed);
    case 'signalled':
      // Killed from outside (OOM killer, node drain): not a verdict on the change itself,
      // and retrying is safe because commands receive an idempotency key.
      throw ApplicationFailure.retryable(`${what}: killed by ${outcome.signal}${tailText}`, failures.unavailable);
    case 'timed-out':
      throw ApplicationFailure.retryable(`${what}: no exit within ${formatDuration(opts.timeoutMs)}; process stopped${tailText}`, failures.timeout);
    case 'cancelled': {
      const reason = outcome.reason;
      throw reason instanceof Error ? reason : new CancelledFailure(`${what}: cancelled`);
    }
  }
}
