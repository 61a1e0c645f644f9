// A real Alertmanager for tests: Debian's binary, a generated config whose one receiver is a
// webhook, a throwaway storage directory, no cluster gossip. Which binary:
// $MRCD_ALERTMANAGER_BIN, else the pinned copy in .tools/, else
// /usr/bin/prometheus-alertmanager, else the pinned copy provisioned into .tools/ now
// (scripts/provision-tools.js: one line, ~1 s once, or one error naming the command to run).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../dev/ports';
import { startReadyDaemon } from './ready-daemon';
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
  const { stop } = await startReadyDaemon({
    name: 'alertmanager',
    path: bin.path,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${target}`,
      // Empty: no gossip listener (and no port on every interface) for a single test instance.
      '--cluster.listen-address=',
      '--log.level=warn',
      ...bin.args,
    ],
    ...(bin.cwd ? { cwd: bin.cwd } : {}),
    url,
    dir,
    ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
  return { url, target, stop };
}
