// The real worker (worker/main.ts) as a process of its own, as operators run it: started
// with an environment, ready once it logs "worker started", stopped by a signal (SIGKILL for
// a crash). Everything it printed is kept for the assertions and for a failure's message.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a worker for `taskQueue` on the server at `address`; resolves once it polls. */
export function startWorkerProcess(address: string, taskQueue: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: address, MRCD_TASK_QUEUE: taskQueue, MRCD_LOG_FORMAT: 'json', MRCD_SHUTDOWN_GRACE: '2s', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const w: WorkerProcess = {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`worker did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (): void => {
      if (!out.includes('worker started')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      res(w);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`worker exited (${code}) before it started:\n${out}`));
    });
  });
}
