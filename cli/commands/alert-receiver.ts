// `mrcd alert-receiver`: Alertmanager's webhook receiver, turning alerts with mrcd labels
// into blockers of the fleet policy (client/alert-receiver.ts); runs until interrupted.
import { startAlertReceiver } from '../../client/alert-receiver';
import { formatDuration, readDuration } from '../../domain/duration';
import { out, withClient, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';

type AlertReceiverOpts = { listen: string; cooldown: string; tokenEnv?: string };

/** "9095", "127.0.0.1:9095", "[::1]:9095" as host and port; a bare port listens on loopback. */
function listenAddress(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65_535)
    throw new ExitError(EXIT.invalid, `--listen: ${JSON.stringify(text)} must be host:port (e.g. 127.0.0.1:9095, [::1]:9095) or a port; port 0 picks one`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/** The bearer token, from the environment variable the option names: a token on the command line would show in `ps`. */
function tokenFrom(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new ExitError(EXIT.invalid, `--token-env: ${JSON.stringify(name)} must be the name of an environment variable`);
  const token = process.env[name]?.trim();
  if (!token) throw new ExitError(EXIT.invalid, `--token-env: ${name} is not set (or empty) in the environment`);
  return token;
}

export async function alertReceiver({ options: o, global: g }: CommandInput<AlertReceiverOpts>): Promise<void> {
  const { host, port } = listenAddress(o.listen);
  const cooldownMs = readDuration(o.cooldown);
  if (cooldownMs === undefined) throw new ExitError(EXIT.invalid, `--cooldown: ${JSON.stringify(o.cooldown)} must be a duration such as 90s, 5m or 0s`);
  const token = tokenFrom(o.tokenEnv);
  await withClient(g, async (m) => {
    // In JSON mode one object a line, as `deploy --follow --json` writes its events.
    const log = (line: string) =>
      process.stdout.write(g.json ? `${JSON.stringify({ at: new Date().toISOString(), event: line })}\n` : `${new Date().toISOString()} ${line}\n`);
    const r = await startAlertReceiver(m, { host, port, cooldownMs, ...(token !== undefined ? { token } : {}), log }).catch((e: NodeJS.ErrnoException) => {
      throw new ExitError(EXIT.invalid, `--listen: cannot listen on ${o.listen} (${e.code ?? e.message})`);
    });
    out(g.json, { url: r.url, taskQueue: m.taskQueue, cooldownMs, token: token !== undefined }, () =>
      [
        `alert receiver at ${r.url} for the fleet policy of task queue ${m.taskQueue} (cool-down ${cooldownMs === 0 ? '0s' : formatDuration(cooldownMs)}${token !== undefined ? `, bearer token from ${o.tokenEnv}` : ''})`,
        `point Alertmanager at it: receivers: [{name: mrcd, webhook_configs: [{url: ${r.url}, send_resolved: true${token !== undefined ? ', http_config: {authorization: {credentials_file: <a file holding the token>}}' : ''}}]}] (docs/alert-blockers.md)`,
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => void r.close().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}
