// Starts (or finds) the real Temporal server the stack and the tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { findTemporalCli, INSTALL_HINT } from './temporal-binaries';
import { freePort } from './ports';
import { ALL_SEARCH_ATTRIBUTE_KEYS, SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { ensureSearchAttributes } from '../worker/search-attributes';

export interface TemporalServer {
  address: string;
  namespace: string;
  /** The Web UI, when this process started a server with one. */
  uiUrl?: string;
  /** What was started: nothing (TEMPORAL_ADDRESS), the CLI dev server, or the SDK's download. */
  kind: 'external' | 'dev-server' | 'sdk-download';
  pid?: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** SQLite file; without it state lives in memory and dies with the process. */
  dbFile?: string;
  port?: number;
  /** A port for the Web UI, or false for none. */
  uiPort?: number | false;
  namespace?: string;
  /** Where the server's own output goes; default: discarded. */
  onOutput?: (line: string) => void;
  readyTimeoutMs?: number;
  /** Extra dynamic config, e.g. { 'limit.historyCount.suggestContinueAsNew': 40 } in tests. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

/** Waits until a frontend answers a real RPC, not just until the port is open. */
export async function waitForTemporal(address: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`Temporal server exited with code ${child.exitCode} before it was ready`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} was not ready after ${timeoutMs} ms: ${(last as Error)?.message ?? 'no answer'}`);
}

/** The server quit before answering: its ports were probably taken between freePort() and its bind. */
class ExitedEarly extends Error {}

/**
 * Spawns `temporal server start-dev` on loopback with our search attributes registered. A
 * server that exits before it is ready is started again on fresh ports (up to three times)
 * unless the caller chose its port: freePort() cannot reserve a port, and on a busy machine
 * another process can take one of the four before the server binds it.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<TemporalServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(opts);
    } catch (e) {
      if (!(e instanceof ExitedEarly) || opts.port !== undefined || attempt >= 3) throw e;
    }
  }
}

async function startDevServerOnce(opts: DevServerOptions): Promise<TemporalServer> {
  const cli = findTemporalCli();
  if (!cli) throw new Error(INSTALL_HINT);
  const port = opts.port ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    // WAL keeps the single SQLite connection from serialising readers behind writers;
    // synchronous stays at its durable default so kill -9 tests mean something.
    args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=wal');
  }
  const uiPort = opts.uiPort === false ? undefined : (opts.uiPort ?? (await freePort()));
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  args.push('--dynamic-config-value', 'frontend.workerVersioningWorkflowAPIs=true');
  for (const [k, v] of Object.entries(opts.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);

  const child = spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  // The last lines it printed, for the error when it exits before it is ready.
  const tail: string[] = [];
  const forward = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.onOutput?.(line);
    }
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForTemporal(address, opts.readyTimeoutMs ?? 30_000, child);
    // --search-attribute registers only on a new database; one kept from an older
    // version of mrcd lacks the attributes added since.
    const conn = await Connection.connect({ address });
    try {
      await ensureSearchAttributes(conn, namespace);
    } finally {
      await conn.close();
    }
  } catch (e) {
    await stop();
    if (child.exitCode !== null && (e as Error).message.includes('before it was ready'))
      throw new ExitedEarly(`${(e as Error).message}${tail.length ? `:\n${tail.join('\n')}` : ''}`);
    throw e;
  }
  return { address, namespace, kind: 'dev-server', pid: child.pid, ...(uiPort ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}), stop };
}

/**
 * The server for the stack: TEMPORAL_ADDRESS when set (start nothing), else the dev
 * server from TEMPORAL_CLI_PATH / .tools / PATH, else the SDK's own download (needs
 * internet), else one clear error saying how to install the CLI.
 */
export async function startTemporal(opts: DevServerOptions = {}): Promise<TemporalServer> {
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) {
    const namespace = process.env.TEMPORAL_NAMESPACE ?? opts.namespace ?? 'default';
    return { address: external, namespace, kind: 'external', stop: async () => {} };
  }
  if (findTemporalCli()) return startDevServer(opts);
  try {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        ...(opts.dbFile ? { dbFilename: opts.dbFile } : {}),
        searchAttributes: ALL_SEARCH_ATTRIBUTE_KEYS,
      },
    });
    const address = env.connection.options.address;
    return { address, namespace: env.namespace ?? 'default', kind: 'sdk-download', stop: () => env.teardown() };
  } catch (e) {
    throw new Error(`${INSTALL_HINT}\n(the SDK's own download also failed: ${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
}
