// The processes of the cluster test, each the leader of a process group of its own, so that
// stopping one (kill -9 included) takes whatever it forked with it and nothing is left
// behind. Every one started is remembered; stopAll() ends those still running, also when
// the scenario fails half way.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { signalGroup, tailOf } from '../../dev/process-group';
export { signalGroup } from '../../dev/process-group';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Resolves with how it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
}

const started: Proc[] = [];

/** Spawns a command as its own process group, its output appended to logFile (and to onLine, line by line). */
export function startProcess(name: string, cmd: string, args: string[], logFile: string, opts: SpawnOptions & { onLine?: (line: string) => void } = {}): Proc {
  const { onLine, ...spawnOpts } = opts;
  const child = spawn(cmd, args, { ...spawnOpts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const out = createWriteStream(logFile, { flags: 'a' });
  let partial = '';
  const feed = (b: Buffer) => {
    out.write(b);
    if (!onLine) return;
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) onLine(l);
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      ended = true;
      resolve({ code: null, signal: null });
    });
  });
  void exited.then(() => out.end());
  const p: Proc = { name, child, pid: child.pid, logFile, exited, running: () => !ended };
  started.push(p);
  return p;
}

/** kill -9 of the group, waiting until the leader is gone. */
export async function kill9(p: Proc): Promise<void> {
  signalGroup(p, 'SIGKILL');
  await p.exited;
}

/** A polite stop (SIGTERM, or the given signal), then SIGKILL of the group after graceMs. */
export async function stopProcess(p: Proc, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (p.running()) {
    signalGroup(p, signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }
  // Whatever the leader forked and left in its group goes too.
  signalGroup(p, 'SIGKILL');
  await p.exited;
}

/**
 * Stops every process started here that still runs, newest first. fast (on SIGINT/SIGTERM):
 * SIGKILL at once, except PostgreSQL, which gets its fast shutdown (SIGINT) so that it
 * releases its shared memory.
 */
export async function stopAll({ fast = false } = {}): Promise<void> {
  for (const p of [...started].reverse()) {
    if (!p.running()) continue;
    if (p.name === 'postgres') await stopProcess(p, 'SIGINT', 5_000).catch(() => undefined);
    else if (fast) await kill9(p).catch(() => undefined);
    else await stopProcess(p, 'SIGTERM', 5_000).catch(() => undefined);
  }
}

/** Pids of the process groups we started that still have a live member (should be none at the end). */
export function orphans(): { name: string; pids: number[] }[] {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,pgid='], { encoding: 'utf8' });
  if (ps.status !== 0) throw new Error(`ps failed: ${ps.stderr}`);
  const rows = ps.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  return started.map((p) => ({ name: p.name, pids: rows.filter(([, pgid]) => pgid === p.pid).map(([pid]) => pid) })).filter((o) => o.pids.length > 0);
}

/** The last lines a process wrote, for an error message. */
export function tail(p: Proc | string, lines = 30): string {
  return tailOf(typeof p === 'string' ? p : p.logFile, lines);
}

/** Runs a command to its end; throws with its output when it fails. */
export function runOrThrow(
  what: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number } = {},
): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${what} failed (${why}): ${cmd} ${args.join(' ')}\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n')}`);
  }
  return `${r.stdout}${r.stderr}`;
}
