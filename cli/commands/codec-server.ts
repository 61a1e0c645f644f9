// `mrcd codec-server`: the codec endpoint of the Web UI and the temporal CLI, with this
// environment's payload keys; runs until interrupted.
import { connectionFrom, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';
import { lazy } from '../lazy';

type CodecServerOpts = { port: string; host: string; allowOrigin?: string[]; onlyNamespace?: string[] };

export async function codecServer({ options: o, global: g }: CommandInput<CodecServerOpts>): Promise<void> {
  const c = connectionFrom(g);
  if (!c.payloadKeys)
    throw new ExitError(
      EXIT.invalid,
      'MRCD_PAYLOAD_KEY_ID: not set, so there is nothing to decode with; set it and MRCD_PAYLOAD_KEY_<id> as the workers have them',
    );
  if (!/^\d{1,5}$/.test(o.port) || Number(o.port) > 65_535) throw new ExitError(EXIT.invalid, `--port: ${JSON.stringify(o.port)} must be a port, 0 to 65535`);
  const { startCodecServer } = lazy('codecServer');
  const s = await startCodecServer({
    keys: c.payloadKeys,
    host: o.host,
    port: Number(o.port),
    ...(o.allowOrigin ? { allowOrigins: o.allowOrigin } : {}),
    ...(o.onlyNamespace ? { namespaces: o.onlyNamespace } : {}),
  }).catch((e: NodeJS.ErrnoException) => {
    throw new ExitError(EXIT.invalid, `--host/--port: cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})`);
  });
  process.stdout.write(
    `codec server at ${s.url} (key ${c.payloadKeys.currentKeyId}); point the Web UI at it: temporal server start-dev --ui-codec-endpoint ${s.url}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => void s.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
