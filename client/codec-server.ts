// The codec endpoint for the Temporal Web UI and CLI (`mrcd codec-server`): POST /encode and
// /decode with {payloads: [...]} in proto3 JSON (bytes as base64), run through the same
// codec as the workers and mrcd (common/payload-codec.ts), so operators read plans and
// statuses decoded while the server keeps ciphertext. The UI calls it from the browser, so
// it answers CORS preflights for the UI's origin, credentials included; whoever can reach it
// can decrypt, hence loopback by default.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, PayloadDecryptError, type PayloadKeys } from '../common/payload-codec';
import { HttpError, readRequestBody } from '../common/request-body';

export interface CodecServerOptions {
  keys?: PayloadKeys;
  host?: string;
  /** 0 picks a free one. */
  port: number;
  /**
   * Browser origins allowed to call it (the Web UI's, e.g. http://localhost:8233). Default:
   * any http origin on loopback (localhost, 127.0.0.1, [::1]), i.e. a UI on this machine.
   */
  allowOrigins?: string[];
  /** When set, requests whose X-Namespace names another namespace are refused (403). */
  namespaces?: string[];
}

export interface CodecServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A payload as the UI sends it: proto3 JSON, every bytes field base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

const isBase64 = (s: unknown): s is string => typeof s === 'string' && s.length % 4 === 0 && BASE64.test(s);

/** The payloads of a request body, or an HttpError 400 naming the first problem by its path. */
export function parsePayloadsBody(text: string): Payload[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `body: not JSON (${(e as Error).message})`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body: must be an object {"payloads": [...]}');
  const raw = (body as { payloads?: unknown }).payloads;
  if (!Array.isArray(raw)) throw new HttpError(400, 'payloads: must be an array of payloads');
  return raw.map((p: unknown, i): Payload => {
    const at = `payloads[${i}]`;
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new HttpError(400, `${at}: must be an object {"metadata": {...}, "data": "<base64>"}`);
    const { metadata, data } = p as JsonPayload;
    if (data !== undefined && data !== null && !isBase64(data)) throw new HttpError(400, `${at}.data: must be a base64 string`);
    if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
      throw new HttpError(400, `${at}.metadata: must be an object of base64 strings`);
    const meta: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(metadata ?? {})) {
      if (!isBase64(v)) throw new HttpError(400, `${at}.metadata.${k}: must be a base64 string`);
      meta[k] = Buffer.from(v, 'base64');
    }
    return { metadata: meta, data: Buffer.from(data ?? '', 'base64') };
  });
}

export function payloadToJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  };
}

/** Starts the codec endpoint; resolves once it listens. */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const codec = new EncryptionCodec(opts.keys);
  const allowed = (origin: string) => (opts.allowOrigins ? opts.allowOrigins.includes(origin) : LOOPBACK_ORIGIN.test(origin));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    // CORS as the Temporal docs ask of a codec server: the UI's own origin echoed (a
    // wildcard is not allowed with credentials), credentials allowed for the UI's "include
    // cross-origin credentials", and the headers it sends.
    if (origin !== undefined && allowed(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      if (origin === undefined || !allowed(origin))
        throw new HttpError(403, `origin ${origin ?? '(none)'} is not allowed; start the codec server with --allow-origin ${origin ?? '<url>'}`);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    if (origin !== undefined && !allowed(origin))
      throw new HttpError(403, `origin ${origin} is not allowed; start the codec server with --allow-origin ${origin}`);
    // /decode, or /<namespace>/decode as the temporal CLI's --codec-endpoint templating sends.
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const m = /^(?:\/([^/]+))?\/(encode|decode)$/.exec(path);
    if (!m) throw new HttpError(404, `${path}: not found; POST /encode or /decode`);
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} ${path}: use POST`);
    const namespace = (req.headers['x-namespace'] as string | undefined) ?? (m[1] ? decodeURIComponent(m[1]) : undefined);
    if (opts.namespaces && (namespace === undefined || !opts.namespaces.includes(namespace)))
      throw new HttpError(403, `namespace ${namespace ?? '(no X-Namespace header)'}: this codec server serves ${opts.namespaces.join(', ')}`);
    const payloads = parsePayloadsBody(await readRequestBody(req, MAX_BODY_BYTES));
    let out: Payload[];
    try {
      out = m[2] === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    } catch (e) {
      // The key is missing or the payload was altered: the request was well formed, the
      // payload cannot be read with these keys.
      if (e instanceof PayloadDecryptError) throw new HttpError(422, e.message);
      throw e;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ payloads: out.map(payloadToJson) }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: (e as Error).message }));
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
