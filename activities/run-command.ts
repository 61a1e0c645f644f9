// Runs a plan-supplied argv as a child process for an activity (deploy commands,
// migrations). Never through a shell: argv elements reach the program verbatim, so a
// version string such as "1.2.3;rm -rf /" is just an odd version, not a second command.
//
// The child runs in its own process group so that a timeout or cancellation also stops
// whatever it started (kubectl, helm, ssh …), not only the direct child.
import { spawn } from 'node:child_process';
import { formatDuration } from '../domain/duration';

export interface LineLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

export interface RunCommandOptions {
  argv: string[];
  /** The complete environment of the child; nothing is inherited implicitly. */
  env: Record<string, string>;
  timeoutMs: number;
  cwd?: string;
  logger?: LineLogger;
  signal?: AbortSignal;
  /** Called every heartbeatIntervalMs and on output; the SDK throttles what it sends. */
  heartbeat?: (details: CommandProgress) => void;
  heartbeatIntervalMs?: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  tailLines?: number;
  /** Extra fields on every log line (service, region …). */
  logMeta?: Record<string, unknown>;
}

export interface CommandProgress {
  pid: number | undefined;
  elapsedMs: number;
  lines: number;
}

export type CommandOutcome =
  | { kind: 'exited'; code: number; tail: string[]; durationMs: number; pid: number | undefined }
  | { kind: 'signalled'; signal: NodeJS.Signals; tail: string[]; durationMs: number; pid: number | undefined }
  | { kind: 'timed-out'; tail: string[]; durationMs: number; pid: number | undefined }
  | { kind: 'cancelled'; reason: unknown; tail: string[]; durationMs: number; pid: number | undefined };

/** The program could not be started at all (ENOENT, EACCES …). */
export class SpawnError extends Error {
  constructor(
    readonly program: string,
    readonly code: string | undefined,
    cause: Error,
  ) {
    super(`cannot start ${program}: ${code ?? cause.message}`, { cause });
    this.name = 'SpawnError';
  }
}

export const DEFAULT_TAIL_LINES = 20;
export const DEFAULT_KILL_GRACE_MS = 5_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
/** A single runaway line (a progress bar without newlines) must not eat the worker's memory. */
const MAX_LINE_CHARS = 4_000;
/** After the child exits, how long to wait for descendants still holding its stdout. */
const DRAIN_AFTER_EXIT_MS = 2_000;

export const noopLogger: LineLogger = { info: () => undefined, warn: () => undefined };

/**
 * Runs argv to completion, timeout or cancellation and reports which; it does not judge
 * exit codes (see runCommandActivity). Rejects only with SpawnError. On timeout or
 * cancellation it resolves after the process group has been stopped, never before.
 */
export function runCommand(opts: RunCommandOptions): Promise<CommandOutcome> {
  const [program, ...args] = opts.argv;
  if (!program) return Promise.reject(new SpawnError('(empty argv)', undefined, new Error('empty argv')));
  const logger = opts.logger ?? noopLogger;
  const tailMax = opts.tailLines ?? DEFAULT_TAIL_LINES;
  const grace = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const started = Date.now();
  const tail: string[] = [];
  let lines = 0;

  return new Promise<CommandOutcome>((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ kind: 'cancelled', reason: opts.signal.reason, tail, durationMs: 0, pid: undefined });
      return;
    }
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, args, {
        env: opts.env,
        cwd: opts.cwd,
        shell: false,
        // Own process group, so kill(-pid) reaches descendants. The flip side: if the
        // worker itself is SIGKILLed, the group outlives it; the idempotency key keeps
        // the retried attempt from doing the work twice.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      // Synchronous refusals (e.g. a NUL byte in an argument).
      reject(new SpawnError(program, (e as NodeJS.ErrnoException).code, e as Error));
      return;
    }
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const pid = child.pid;
    let stopReason: { kind: 'timed-out' } | { kind: 'cancelled'; reason: unknown } | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const progress = (): CommandProgress => ({ pid, elapsedMs: Date.now() - started, lines });
    const beat = () => {
      try {
        opts.heartbeat?.(progress());
      } catch {
        // A heartbeat that cannot be recorded must not kill the deploy it reports on.
      }
    };

    const killGroup = (sig: NodeJS.Signals) => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // ESRCH: the group is already gone. Fall back to the child alone in case the
        // group could not be signalled for another reason.
        try {
          child.kill(sig);
        } catch {
          /* already exited */
        }
      }
    };

    const stop = (reason: NonNullable<typeof stopReason>) => {
      if (stopReason || settled) return;
      if (exit) {
        // The leader already exited and we are only draining; its verdict stands, but
        // nothing it left behind may outlive the activity.
        killGroup('SIGKILL');
        return;
      }
      stopReason = reason;
      logger.warn(
        reason.kind === 'timed-out'
          ? `${program}: no exit within ${formatDuration(opts.timeoutMs)}; stopping it`
          : `${program}: activity cancelled; stopping it`,
        { ...opts.logMeta, pid },
      );
      killGroup('SIGTERM');
      // Not cleared on the leader's exit: a descendant that ignores SIGTERM still dies.
      timers.push(setTimeout(() => killGroup('SIGKILL'), grace));
    };

    const onAbort = () => stop({ kind: 'cancelled', reason: opts.signal?.reason });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => stop({ kind: 'timed-out' }), opts.timeoutMs));
    const hb = setInterval(beat, opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS);

    /** Settles once: no more timers, heartbeats or cancellation. */
    const release = () => {
      settled = true;
      for (const t of timers) clearTimeout(t);
      clearInterval(hb);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    const finish = () => {
      if (settled) return;
      release();
      outLines.flush();
      errLines.flush();
      const durationMs = Date.now() - started;
      if (stopReason?.kind === 'timed-out') resolve({ kind: 'timed-out', tail, durationMs, pid });
      else if (stopReason?.kind === 'cancelled') resolve({ kind: 'cancelled', reason: stopReason.reason, tail, durationMs, pid });
      else if (exit?.code !== null && exit?.code !== undefined) resolve({ kind: 'exited', code: exit.code, tail, durationMs, pid });
      else resolve({ kind: 'signalled', signal: exit?.signal ?? 'SIGKILL', tail, durationMs, pid });
    };

    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      lines++;
      const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
      tail.push(shown);
      if (tail.length > tailMax) tail.shift();
      if (stream === 'stderr') logger.warn(shown, { ...opts.logMeta, stream, pid });
      else logger.info(shown, { ...opts.logMeta, stream, pid });
      beat();
    };
    const outLines = lineSplitter(onLine('stdout'));
    const errLines = lineSplitter(onLine('stderr'));
    stdout.setEncoding('utf8').on('data', outLines.push);
    stderr.setEncoding('utf8').on('data', errLines.push);

    child.on('error', (e: NodeJS.ErrnoException) => {
      if (pid !== undefined) return; // errors after a successful spawn surface as exit/close
      release();
      reject(new SpawnError(program, e.code, e));
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      exit = { code, signal };
      // A background descendant can keep the pipes open forever; don't wait on it.
      timers.push(
        setTimeout(() => {
          stdout.destroy();
          stderr.destroy();
          finish();
        }, DRAIN_AFTER_EXIT_MS),
      );
    });
    child.once('close', (code, signal) => {
      exit ??= { code, signal };
      if (pid !== undefined) finish();
    });
    beat();
  });
}

function lineSplitter(onLine: (line: string) => void): { push: (chunk: string) => void; flush: () => void } {
  let buf = '';
  return {
    push: (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
      if (buf.length > MAX_LINE_CHARS * 4) {
        onLine(buf);
        buf = '';
      }
    },
    flush: () => {
      if (buf !== '') onLine(buf);
      buf = '';
    },
  };
}
