// A real Prometheus for tests: Debian's binary, a generated config, a throwaway TSDB. Which
// binary: $MRCD_PROMETHEUS_BIN, else the pinned copy in .tools/, else /usr/bin/prometheus,
// else the pinned copy provisioned into .tools/ now (scripts/provision-tools.js: one line,
// ~2 s once, or one error naming the command to run).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../dev/ports';
import { tools } from './tools';
import { pollUntil } from './poll';

export interface PrometheusOptions {
  /** host:port of each metrics endpoint to scrape at /metrics. */
  scrapeTargets: string[];
  scrapeIntervalSeconds?: number;
  /** How long to wait for /-/ready. */
  readyTimeoutMs?: number;
  /**
   * Remote-read endpoints queried alongside the local TSDB (read_recent: every query goes
   * there too). Prometheus reports a failing one as a warning on an otherwise good answer,
   * and waits for a silent one up to `remoteTimeout`: real warnings and real slowness.
   */
  remoteRead?: { url: string; remoteTimeout?: string }[];
  /** Rule groups (Prometheus's rule file format), evaluated every scrape interval unless a group says otherwise. */
  ruleGroups?: unknown[];
  /** host:port of each Alertmanager the alerts of `ruleGroups` go to. */
  alertmanagers?: string[];
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

const STDERR_TAIL = 4000;

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const bin = await tools.ensurePrometheus();
  const interval = opts.scrapeIntervalSeconds ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-prom-'));
  const configFile = join(dir, 'prometheus.yml');
  const rulesFile = join(dir, 'rules.yml');
  if (opts.ruleGroups) writeFileSync(rulesFile, JSON.stringify({ groups: opts.ruleGroups }));
  // JSON is YAML, and JSON.stringify quotes targets correctly.
  writeFileSync(
    configFile,
    JSON.stringify({
      global: { scrape_interval: `${interval}s`, scrape_timeout: `${interval}s`, evaluation_interval: `${interval}s` },
      scrape_configs: [{ job_name: 'test', static_configs: [{ targets: opts.scrapeTargets }] }],
      ...(opts.remoteRead?.length
        ? {
            remote_read: opts.remoteRead.map((r) => ({ url: r.url, read_recent: true, ...(r.remoteTimeout ? { remote_timeout: r.remoteTimeout } : {}) })),
          }
        : {}),
      ...(opts.ruleGroups ? { rule_files: [rulesFile] } : {}),
      ...(opts.alertmanagers?.length ? { alerting: { alertmanagers: [{ static_configs: [{ targets: opts.alertmanagers }] }] } } : {}),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bin.path,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...bin.args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
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

  // A test that crashes before `after` must not leave a Prometheus behind: 'exit' covers
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

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`prometheus (${bin.path}) exited before it was ready (${spawnError?.message ?? `code ${child.exitCode}`}):\n${stderr}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready at ${url} within ${opts.readyTimeoutMs ?? 20_000} ms:\n${stderr}`);
    }
    await delay(100);
  }
  return { url, stop };
}

/** Polls an instant query until it returns at least one series; returns that result. */
export async function waitForSeries(url: string, query: string, timeoutMs = 20_000): Promise<unknown[]> {
  let last: string | undefined;
  return pollUntil(
    `a series for ${query}`,
    async () => {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query }).toString()}`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { status?: string; data?: { result?: unknown } };
      const result = body.data?.result;
      if (body.status === 'success' && Array.isArray(result) && result.length > 0) return result as unknown[];
      last = JSON.stringify(body).slice(0, 300);
      return undefined;
    },
    { timeoutMs, describe: () => (last ? `last answer: ${last}` : undefined) },
  );
}
