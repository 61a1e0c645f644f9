// The API each region serves to deployers and SLO providers: deploy and rollback
// operations, what runs, and health. Every call checks the token and goes through the
// region's faults; /metrics and /_sim do neither.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultInjector } from './faults';
import type { Fleet } from './fleet';
import { methodNotAllowed, noRoute, readJsonObject, requireKnownRegion, requireQuery, requireString, sendJson, type HttpCall } from './http';
import type { Operations } from './operations';
import type { Traffic } from './traffic';

type Answer = { status: number; body: unknown };

export interface RegionApiParts {
  regions: ReadonlySet<string>;
  /** When set, every call needs `Authorization: Bearer <token>`. */
  requireToken: string | undefined;
  faults: FaultInjector;
  fleet: Fleet;
  operations: Operations;
  traffic: Traffic;
}

export class RegionApi {
  constructor(private readonly parts: RegionApiParts) {}

  /** /regions/:region/deploy, /rollback, /operations/:id and /status. */
  async regions(call: HttpCall): Promise<void> {
    const { req, res, url, segs, method } = call;
    const [, region, c, d] = segs;
    if (region !== undefined) {
      if ((c === 'deploy' || c === 'rollback') && segs.length === 3) {
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        const kind = c;
        return this.serve(req, res, region, true, async () => {
          const body = await readJsonObject(req);
          const service = requireString(body, 'service');
          const version = requireString(body, 'version');
          const idempotencyKey = requireString(body, 'idempotencyKey');
          return this.parts.operations.start(kind, region, { service, version, idempotencyKey });
        });
      }
      if (c === 'operations' && d !== undefined && segs.length === 4) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return this.serve(req, res, region, false, () => ({ status: 200, body: this.parts.operations.find(region, d) }));
      }
      if (c === 'status' && segs.length === 3) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return this.serve(req, res, region, false, () => {
          const service = requireQuery(url, 'service');
          const { fleet } = this.parts;
          return { status: 200, body: { region, service, version: fleet.current(service, region), previousVersion: fleet.previous(service, region) } };
        });
      }
    }
    throw noRoute(call);
  }

  /** /health/:region?service=s: the traffic of the recent window. */
  async health(call: HttpCall): Promise<void> {
    const { req, res, url, segs, method } = call;
    const region = segs[1];
    if (region === undefined || segs.length !== 2) throw noRoute(call);
    if (method !== 'GET') return methodNotAllowed(res, 'GET');
    return this.serve(req, res, region, false, () => {
      const service = requireQuery(url, 'service');
      const { requests, errors } = this.parts.traffic.health(service, region);
      return {
        status: 200,
        body: { region, service, version: this.parts.fleet.current(service, region), requests, errors, errorRatio: requests === 0 ? null : errors / requests },
      };
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse, region: string, mutating: boolean, handler: () => Promise<Answer> | Answer): Promise<void> {
    requireKnownRegion(this.parts.regions, region);
    if (!this.authorized(req)) {
      sendJson(res, 401, { error: 'unauthorized: expected Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (!(await this.applyFaults(req, res, region, mutating))) return;
    const { status, body } = await handler();
    // No answer at all: the socket stays open until the caller gives up or close() ends it.
    if (mutating && status >= 200 && status < 300 && this.parts.faults.take(region, 'hangAfterAccept')) return;
    sendJson(res, status, body);
  }

  private authorized(req: IncomingMessage): boolean {
    const want = this.parts.requireToken;
    if (want === undefined) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!.trim());
    const wanted = Buffer.from(want);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  /** Runs the fault pipeline for a region API call; false means the call must not go on. */
  private async applyFaults(req: IncomingMessage, res: ServerResponse, region: string, mutating: boolean): Promise<boolean> {
    const { faults } = this.parts;
    const gone = () => faults.closed || req.socket.destroyed;
    while (faults.get(region, 'hang')) {
      await faults.waitWhileHung(region);
      // A caller that gave up on a hung call never reached the service: abandoning the
      // call keeps a later retry's outcome (202 vs 200) deterministic.
      if (gone()) return false;
    }
    if (faults.get(region, 'drop')) {
      req.socket.destroy();
      return false;
    }
    const latency = faults.get(region, 'latencyMs');
    if (latency && latency > 0) {
      await faults.sleep(latency);
      if (gone()) return false;
    }
    if (faults.take5xx(region)) {
      sendJson(res, 503, { error: 'injected' });
      return false;
    }
    if (mutating) {
      const limit = faults.take(region, 'status429');
      if (limit) {
        sendJson(
          res,
          429,
          { error: 'rate limited', retryAfterSeconds: limit.retryAfterSeconds },
          { 'retry-after': String(Math.ceil(limit.retryAfterSeconds)) },
        );
        return false;
      }
      const refusal = faults.take(region, 'status4xx');
      if (refusal) {
        sendJson(res, refusal.status, { error: `request refused (injected HTTP ${refusal.status})` });
        return false;
      }
    }
    return true;
  }
}
