// The one HTTP server every region shares: it splits the path, hands the request to the
// routes of its first segment, and turns what they throw into JSON errors.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, noRoute, sendJson, type RouteHandler } from './http';

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

async function route(req: IncomingMessage, res: ServerResponse, routes: ReadonlyMap<string, RouteHandler>): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  let segs: string[];
  try {
    segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in path');
  }
  const call = { req, res, url, segs, method: req.method ?? 'GET' };
  const handler = segs[0] === undefined ? undefined : routes.get(segs[0]);
  if (!handler) throw noRoute(call);
  await handler(call);
}

/** Listens on host:port (0: any free port) and serves `routes`, keyed by the path's first segment. */
export async function listen(host: string, port: number, routes: ReadonlyMap<string, RouteHandler>): Promise<ListeningServer> {
  const server = createServer((req, res) => {
    route(req, res, routes).catch((e: unknown) => {
      if (e instanceof HttpError) sendJson(res, e.status, { error: e.message });
      else sendJson(res, 500, { error: `simulator bug: ${e instanceof Error ? e.message : String(e)}` });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung and slow calls hold their sockets open; close() must not wait on them.
        server.closeAllConnections();
      }),
  };
}
