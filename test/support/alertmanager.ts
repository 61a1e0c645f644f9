// A real Alertmanager for tests: Debian's binary, a generated config whose one receiver is a
// webhook, a throwaway storage directory, no cluster gossip. Which binary:
// $MRCD_ALERTMANAGER_BIN, else the pinned copy in .tools/, else
// /usr/bin/prometheus-alertmanager, else the pinned copy provisioned into .tools/ now
// (scripts/provision-tools.js: one line, ~1 s once, or one error naming the command to run).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../dev/ports';
import { tools } from './tools';

export interface AlertmanagerOptions {
  /** Where the one receiver posts (Alertmanager's webhook, version 4). */
  webhookUrl: string;
  /** The receiver's name; it reaches the webhook as `receiver`. */
  receiver?: string;
  /** Sent as `Authorization: Bearer <token>` (through a credentials_file, as docs/alert-blockers.md shows). */
  token?: string;
  /** Route timings, Alertmanager durations; short defaults so a test hears of a change within seconds. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** How long to wait for /-/ready. */
  readyTimeoutMs?: number;
}

export interface RunningAlertmanager {
  url: string;
  /** host:port, for Prometheus's alerting.alertmanagers static_configs. */
  target: string;
  stop(): Promise<void>;
}

const STDERR_TAIL = 4000;

export async function startAlertmanager(opts: AlertmanagerOptions): Promise<RunningAlertmanager> {
  const bin = await tools.ensureAlertmanager();
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-am-'));
  const configFile = join(dir, 'alertmanager.yml');
  const receiver = opts.receiver ?? 'mrcd';
  let authorization = {};
  if (opts.token !== undefined) {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, opts.token, { mode: 0o600 });
    authorization = { http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } } };
  }
  // JSON is YAML, and JSON.stringify quotes the URL correctly.
  writeFileSync(
    configFile,
    JSON.stringify({
      route: {
        receiver,
        group_by: ['alertname', 'mrcd_region', 'mrcd_service', 'mrcd_team'],
        group_wait: opts.groupWait ?? '1s',
        group_interval: opts.groupInterval ?? '1s',
        repeat_interval: opts.repeatInterval ?? '4h',
      },
      receivers: [{ name: receiver, webhook_configs: [{ url: opts.webhookUrl, send_resolved: true, ...authorization }] }],
    }),
  );
  const port = await freePort();
  const target = `127.0.0.1:${port}`;
  const url = `http://${target}`;
  const child: ChildProcess = spawn(
    bin.path,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${target}`,
      // Empty: no gossip listener (and no port on every interface) for a single test instance.
      '--cluster.listen-address=',
      '--log.level=warn',
      ...bin.args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], ...(bin.cwd ? { cwd: bin.cwd } : {}) },
  );
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

  // A test that crashes before `after` must not leave an Alertmanager behind: 'exit' covers
  // uncaught errors, the signal handlers cover a runner that kills the test process.
  const onExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
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
    rmSync(dir, { recursive: true, force: true });
  };

  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`alertmanager (${bin.path}) exited before it was ready (${spawnError?.message ?? `code ${child.exitCode}`}):\n${stderr}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager did not become ready at ${url} within ${readyTimeoutMs} ms:\n${stderr}`);
    }
    await delay(100);
  }
  return { url, target, stop };
}
