// A real Prometheus for tests: Debian's binary, a generated config, a throwaway TSDB. Which
// binary: $MRCD_PROMETHEUS_BIN, else the pinned copy in .tools/, else /usr/bin/prometheus,
// else the pinned copy provisioned into .tools/ now (scripts/provision-tools.js: one line,
// ~2 s once, or one error naming the command to run).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../dev/ports';
import { startReadyDaemon } from './ready-daemon';
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
  const { stop } = await startReadyDaemon({
    name: 'prometheus',
    path: bin.path,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...bin.args,
    ],

    url,
    dir,
    ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
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
