// The one HTTP transport of deployers, SLO providers and notifications, against a real
// loopback server: what a caller gets back for each kind of answer, and for none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledFailure } from '@temporalio/common';
import { httpRequest, TransportError } from '../../activities/http-transport';
import { classifyHttpError } from '../../activities/http-errors';
import { DEPLOY_FAILURE } from '../../domain/failures';

let server: http.Server;
let base: string;
const received: { method: string; body: string }[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', body });
      if (req.url === '/redirect') {
        res.writeHead(302, { Location: '/ok' }).end();
      } else if (req.url === '/big') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(4096));
      } else if (req.url === '/hang') {
        // never answers
      } else {
        res.writeHead(503, { 'Retry-After': '7', 'X-Two': ['a', 'b'] }).end('{"error":"busy"}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('any status is an answer, with its raw body and lower-case headers; a POST body goes as exactly its bytes', async () => {
  const body = '{"b":1,  "a":2}';
  const res = await httpRequest({ method: 'POST', url: `${base}/x`, headers: { 'Content-Type': 'application/json' }, body, timeoutMs: 5000 });
  assert.equal(res.status, 503);
  assert.equal(res.body, '{"error":"busy"}');
  assert.equal(res.headers['retry-after'], '7');
  assert.equal(received.at(-1)!.body, body);
});

test('a redirect is not followed: it is answered as it came', async () => {
  const before = received.length;
  const res = await httpRequest({ method: 'GET', url: `${base}/redirect`, headers: {}, timeoutMs: 5000 });
  assert.equal(res.status, 302);
  assert.equal(received.length, before + 1, 'the redirect target was not asked');
});

test('no answer: timeout, refused, too large — each a TransportError with its fault and retryability', async () => {
  const hang = await httpRequest({ method: 'GET', url: `${base}/hang`, headers: {}, timeoutMs: 300 }).catch((e: unknown) => e);
  assert.ok(hang instanceof TransportError);
  assert.equal(hang.fault, 'timeout');
  assert.equal(hang.retryable, true);
  assert.match(hang.message, /no complete answer within 300 ms/);

  const refused = await httpRequest({ method: 'GET', url: 'http://127.0.0.1:1/', headers: {}, timeoutMs: 5000 }).catch((e: unknown) => e);
  assert.ok(refused instanceof TransportError);
  assert.equal(refused.fault, 'refused');
  assert.match(refused.message, /^connection refused \(ECONNREFUSED/);

  const big = await httpRequest({ method: 'GET', url: `${base}/big`, headers: {}, timeoutMs: 5000, maxBytes: 1024 }).catch((e: unknown) => e);
  assert.ok(big instanceof TransportError);
  assert.equal(big.fault, 'too-large');
  assert.equal(big.retryable, false);
});

test('a cancelled activity gets its cancellation back, not a transport fault', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(new CancelledFailure('cancelled by the workflow')), 100);
  const err = await httpRequest({ method: 'GET', url: `${base}/hang`, headers: {}, timeoutMs: 5000, signal: ac.signal }).catch((e: unknown) => e);
  assert.ok(err instanceof CancelledFailure, String(err));
});

test('as a deployer failure: a retryable fault is the dependency unavailable, a too-large answer is rejected', () => {
  const ctx = { what: 'deploy api 1.0 to eu', failures: DEPLOY_FAILURE };
  const unavailable = classifyHttpError(new TransportError('connection refused (ECONNREFUSED: x)', 'refused', true), ctx);
  assert.equal((unavailable as { type?: string }).type, DEPLOY_FAILURE.unavailable);
  assert.equal((unavailable as { nonRetryable?: boolean }).nonRetryable, false);
  assert.match(unavailable.message, /^deploy api 1\.0 to eu: connection refused/);
  const rejected = classifyHttpError(new TransportError('answer larger than 1024 bytes', 'too-large', false), ctx);
  assert.equal((rejected as { type?: string }).type, DEPLOY_FAILURE.rejected);
  assert.equal((rejected as { nonRetryable?: boolean }).nonRetryable, true);
});
