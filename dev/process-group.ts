// Processes a local stack starts for itself (the Kubernetes control plane's five): each the
// leader of its own process group, so stopping it stops whatever it forked; its output in a
// log file of one directory; all of them killed if the parent dies first (an uncaught error,
// a test runner's signal), so nothing is left behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<void>;
  running(): boolean;
}

/** The last lines of a log, each cut to 400 characters. */
export function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** Sends a signal to the whole process group of `p` (gone already: nothing to do). */
export function signalGroup(p: { pid: number }, signal: NodeJS.Signals): void {
  if (p.pid <= 0) return;
  try {
    process.kill(-p.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

export class ProcessGroup {
  readonly procs: Proc[] = [];
  private stopped = false;
  private readonly onExit = (): void => {
    for (const p of this.procs) signalGroup(p, 'SIGKILL');
    if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true });
  };
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.onExit();
    this.unhook();
    process.kill(process.pid, signal);
  };

  /** `dir` holds the logs and is removed on stop unless `keepDir`. */
  constructor(
    readonly dir: string,
    private readonly keepDir: boolean,
  ) {
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private unhook(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
    const logFile = join(this.dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
    } finally {
      closeSync(fd);
    }
    let ended = false;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        ended = true;
        resolve();
      });
      child.once('error', (e) => {
        ended = true;
        writeFileSync(logFile, `spawn failed: ${e.message}\n`, { flag: 'a' });
        resolve();
      });
    });
    const p: Proc = { name, child, pid: child.pid ?? -1, logFile, exited, running: () => !ended };
    this.procs.push(p);
    return p;
  }

  /** Throws (naming the process and the end of its log) when one of them has died. */
  checkAlive(): void {
    const dead = this.procs.find((p) => !p.running());
    if (dead) throw new Error(`${dead.name} exited during start-up; the end of ${dead.logFile}:\n${tailOf(dead.logFile)}`);
  }

  /** The end of every log, for a failure's message. */
  tails(lines = 10): string {
    return this.procs.map((p) => `--- ${p.name} (${p.running() ? 'running' : 'exited'}): ${p.logFile}\n${tailOf(p.logFile, lines)}`).join('\n');
  }

  /** Newest first, SIGTERM then SIGKILL after 5 s; then the directory goes (unless kept). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unhook();
    for (const p of [...this.procs].reverse()) {
      if (p.running()) {
        signalGroup(p, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
      }
      signalGroup(p, 'SIGKILL');
      await p.exited;
    }
    if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Pids (of the given ones) still alive; for a test that checks stop() left nothing behind. */
export function livePids(pids: number[]): number[] {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,pgid='], { encoding: 'utf8' });
  const rows = ps.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  return rows.filter(([pid, pgid]) => pids.includes(pid) || pids.includes(pgid)).map(([pid]) => pid);
}
