// Exit codes are part of mrcd's interface: CI scripts branch on them.
//   0 done / rollout succeeded   1 rollout ended without success (rolled back, aborted, failed)
//   2 invalid input (plan, flag, env)   3 refused (already running, illegal action, ended)
//   4 not found / Temporal unreachable   5 halted: waits for an operator (deploy --wait, watch)
//   6 --timeout ran out; the rollout goes on
import {
  ActionRejectedError,
  InvalidActionError,
  InvalidPolicyRequestError,
  PolicyRefusedError,
  RolloutAlreadyRunningError,
  VersionQuarantinedError,
} from '../client/rollouts';
import { PayloadDecryptError } from '../common/payload-codec';

export const EXIT = { ok: 0, notSucceeded: 1, invalid: 2, refused: 3, unreachable: 4, halted: 5, timedOut: 6 } as const;

/** A command's own verdict: its exit code, and what runCli prints after "mrcd: " (nothing when empty). */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The library's refusals and absences, as exit codes: mapped once for every command. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof ExitError) return e.code;
  if (e instanceof RolloutAlreadyRunningError || e instanceof ActionRejectedError || e instanceof VersionQuarantinedError || e instanceof PolicyRefusedError)
    return EXIT.refused;
  // A payload key missing from the environment (or a payload altered): fix the env, not the network.
  if (e instanceof PayloadDecryptError || e instanceof InvalidActionError || e instanceof InvalidPolicyRequestError) return EXIT.invalid;
  return EXIT.unreachable;
}
