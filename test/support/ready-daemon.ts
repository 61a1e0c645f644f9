// A server binary a test starts and must stop: Prometheus, Alertmanager. Spawned with its
// stderr kept (the tail goes into every error), waited for until its /-/ready answers, and
// killed with its throwaway directory however the test process ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

const STDERR_TAIL = 4000;

export interface ReadyDaemonOptions {
  /** For messages: "prometheus". */
  name: string;
  path: string;
  args: string[];
  cwd?: string;
  /** Its base URL; `${url}/-/ready` answers 200 once it serves. */
  url: string;
  /** Removed when it stops. */
  dir: string;
  readyTimeoutMs?: number;
}

/** Starts it and waits until it is ready; on failure it is stopped and the error carries its stderr. */
export async function startReadyDaemon(o: ReadyDaemonOptions): Promise<{ stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(o.path, o.args, { stdio: ['ignore', 'ignore', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  // A test that crashes before `after` must not leave the daemon behind: 'exit' covers
  // uncaught errors, the signal handlers cover a runner that kills the test process.
  const onExit = (): void => {
    child.kill('SIGKILL');
    rmSync(o.dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    onExit();
    unhook();
    // Re-raise so the process still dies of the signal once no handler is left.
    process.kill(process.pid, signal);
  };
  const unhook = (): void => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unhook();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(o.dir, { recursive: true, force: true });
  };

  const readyTimeoutMs = o.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${o.name} (${o.path}) exited before it was ready (${spawnError?.message ?? `code ${child.exitCode}`}):\n${stderr}`);
    }
    try {
      const res = await fetch(`${o.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${o.name} did not become ready at ${o.url} within ${readyTimeoutMs} ms:\n${stderr}`);
    }
    await delay(100);
  }
  return { stop };
}
