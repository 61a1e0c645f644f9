// Request bodies of our own small HTTP servers (the codec server, the region simulator):
// read with a size cap, and an error that carries its HTTP status.
import type { IncomingMessage } from 'node:http';

/** Thrown while handling a request; the server answers it with `status` and the message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The body as text; rejects with HttpError 413 past `maxBytes`. The rest of an oversized body
 * is read and dropped rather than the socket destroyed, so the 413 reaches the caller.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) reject(new HttpError(413, `body: larger than ${maxBytes} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
