// Following a rollout until it ends, halts or a timeout runs out: `deploy --follow` and `watch`.
import { parseDuration } from '../domain/duration';
import { followRollout, type FollowResult, type MrcdClient } from '../client/rollouts';
import { followMode, followOutput, type FollowOutput } from '../client/follow-output';
import type { GlobalOpts } from './command-helpers';
import { EXIT, ExitError, exitCodeOf } from './exit-codes';

export interface WaitOpts {
  timeout?: string;
  throughHalts?: boolean;
}

export function timeoutMs(o: WaitOpts): number | undefined {
  if (o.timeout === undefined) return undefined;
  const ms = parseDuration(o.timeout);
  if (ms === undefined || ms <= 0) throw new ExitError(EXIT.invalid, `--timeout: ${JSON.stringify(o.timeout)} must be a duration such as "90s", "30m" or "2h"`);
  return ms;
}

/** The exit code of where following stopped: 0 succeeded, 1 ended otherwise, 5 halted, 6 timed out. */
function followExitCode(r: FollowResult): number {
  if (r.outcome === 'ended') return r.succeeded ? EXIT.ok : EXIT.notSucceeded;
  return r.outcome === 'halted' ? EXIT.halted : EXIT.timedOut;
}

/**
 * Follows a rollout for CI and people: exit 0 only for success, 5 at a halt (unless
 * --through-halts), 6 when --timeout ran out. `shown` draws it (live view, lines or NDJSON).
 */
export async function waitAndReport(m: MrcdClient, service: string, g: GlobalOpts, o: WaitOpts, shown: FollowOutput): Promise<void> {
  const limit = timeoutMs(o);
  const r: FollowResult = await followRollout(m, service, shown.update, {
    stopAtHalt: !o.throughHalts,
    ...(limit !== undefined ? { timeoutMs: limit } : {}),
  });
  const code = followExitCode(r);
  shown.end(r, code);
  const s = r.status;
  switch (r.outcome) {
    case 'ended':
      if (!g.json) process.stdout.write(`${s.summary}\n`);
      if (code !== EXIT.ok) throw new ExitError(code, '');
      return;
    case 'halted':
      throw new ExitError(
        code,
        g.json
          ? ''
          : `${service} is ${s.state}${s.halt ? `: ${s.halt.reason}` : ''}. It stays ${s.state} for an operator: mrcd retry ${service} --reason "..." or mrcd abort ${service} --reason "..." (legal now: ${s.legalActions.join(', ') || 'none'})`,
      );
    case 'timed-out':
      throw new ExitError(
        code,
        g.json ? '' : `${service} is still ${s.state} after --timeout ${o.timeout}; the rollout goes on (mrcd watch ${service} to follow it)`,
      );
  }
}

/**
 * How a followed rollout is shown on stdout: NDJSON with --json, a view redrawn in place on
 * a terminal, appended lines otherwise. With --json a failure after the rollout is known is
 * an `error` event too, so the last line always carries the exit code.
 */
export async function following(g: GlobalOpts, rolloutId: string, started: boolean, body: (shown: FollowOutput) => Promise<void>): Promise<void> {
  const command = [
    'mrcd',
    ...(g.address ? [`--address ${g.address}`] : []),
    ...(g.namespace ? [`--namespace ${g.namespace}`] : []),
    ...(g.taskQueue ? [`--task-queue ${g.taskQueue}`] : []),
    ...(g.configFile ? [`--config-file ${g.configFile}`] : []),
    ...(g.profile ? [`--profile ${g.profile}`] : []),
  ].join(' ');
  const shown = followOutput(followMode(g.json, process.stdout), {
    started,
    view: { command, ...(process.env.MRCD_RUNBOOK_BASE ? { runbookBase: process.env.MRCD_RUNBOOK_BASE } : {}) },
  });
  try {
    await body(shown);
  } catch (e) {
    shown.fail(rolloutId, (e as Error).message, exitCodeOf(e));
    throw e;
  } finally {
    shown.stop();
  }
}
