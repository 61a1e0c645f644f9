// The HTTP plumbing every route shares: JSON answers, request bodies with a size cap,
// field checks that answer 400 with the field's name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readRequestBody } from '../../common/request-body';

const MAX_BODY_BYTES = 1 << 20;

export { HttpError };

/** One request, its path split into percent-decoded segments. */
export interface HttpCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  segs: string[];
  method: string;
}

/** Serves the paths under one first segment; throws `noRoute` for those it does not know. */
export type RouteHandler = (call: HttpCall) => void | Promise<void>;

export function noRoute(call: HttpCall): HttpError {
  return new HttpError(404, `no route for ${call.method} ${call.url.pathname}`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed || res.socket?.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendJson(res, 405, { error: `method not allowed; use ${allow}` }, { allow });
}

export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readRequestBody(req, MAX_BODY_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `malformed JSON body: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function requireString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `missing or invalid field "${field}": must be a non-empty string`);
  return v;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `invalid field "${field}": must be a non-empty string when given`);
  return v;
}

export function requireQuery(url: URL, name: string): string {
  const v = url.searchParams.get(name);
  if (!v) throw new HttpError(400, `missing query parameter "${name}"`);
  return v;
}

export function requireKnownRegion(regions: ReadonlySet<string>, region: string): void {
  if (!regions.has(region)) throw new HttpError(404, `unknown region "${region}"`);
}
