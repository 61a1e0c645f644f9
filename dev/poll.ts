// The one wait of the tests and of the local stack: ask until the answer is there or the time is up. A probe that
// throws (a rollout not started yet, a server restarting) is asked again, and its last
// problem is named when the time runs out, so a timeout says what it was waiting for.
import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep asking. Default 30 s. */
  timeoutMs?: number;
  /** The pause between two questions. Default 200 ms. */
  everyMs?: number;
}

/**
 * Resolves with the first answer of `probe` that is not undefined; rejects naming `what`,
 * the time and the last problem (or the last answer, from `describe`) when none came in time.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  opts: PollOptions & { describe?: () => string | undefined } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const seen = opts.describe ? ` (${opts.describe() ?? 'no answer'})` : '';
      const problem = last instanceof Error ? `; last problem: ${last.message}` : '';
      throw new Error(`${what}: not reached in ${timeoutMs} ms${seen}${problem}`);
    }
    await delay(opts.everyMs ?? 200);
  }
}

/** Resolves with the first value of `read` that `ok` accepts (see pollUntil). */
export function pollFor<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, opts: PollOptions = {}): Promise<T> {
  let seen: T | undefined;
  return pollUntil(
    what,
    async () => {
      seen = await read();
      return ok(seen) ? seen : undefined;
    },
    { ...opts, describe: () => (seen === undefined ? undefined : `last: ${JSON.stringify(seen)?.slice(0, 300)}`) },
  );
}
