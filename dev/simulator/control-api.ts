// /_sim/*: the control plane tests and demos drive the simulator with (bad versions,
// faults, traffic profiles, incidents, changes by hand, reset) and read it through (ledger,
// notifications). No token.
import { validateBadEffect, type BadVersions } from './bad-versions';
import { validateFaults } from './fault-settings';
import type { FaultInjector } from './faults';
import { methodNotAllowed, noRoute, optionalString, readJsonObject, requireString, sendJson, type HttpCall } from './http';
import { validateIncident, type Incident } from './incident';
import type { Ledger } from './ledger';
import type { NotificationSink } from './notifications';
import { validateTrafficProfile, type TrafficProfiles } from './traffic-profiles';

export interface ControlApiParts {
  regions: ReadonlySet<string>;
  badVersions: BadVersions;
  faults: FaultInjector;
  profiles: TrafficProfiles;
  incident: Incident;
  ledger: Ledger;
  notifications: NotificationSink;
  setVersion(service: string, region: string, version: string): void;
  reset(): void;
}

export class ControlApi {
  constructor(private readonly parts: ControlApiParts) {}

  async serve(call: HttpCall): Promise<void> {
    const { req, res, url, segs, method } = call;
    const { badVersions, faults, ledger, notifications, profiles, incident } = this.parts;
    const b = segs[1];
    if (segs.length === 2) {
      switch (b) {
        case 'bad':
        case 'good': {
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          const body = await readJsonObject(req);
          const version = requireString(body, 'version');
          const service = optionalString(body, 'service');
          // errorFactor, latencyFactor and region are for bad only; good clears every mark of the version (for the service).
          if (b === 'bad') badVersions.markBad(version, service, validateBadEffect(body, this.parts.regions));
          else badVersions.markGood(version, service);
          return sendJson(res, 200, { ok: true });
        }
        case 'faults': {
          if (method === 'POST') {
            const body = await readJsonObject(req);
            const region = optionalString(body, 'region');
            const valid = validateFaults(body);
            faults.set(region === undefined ? valid : { ...valid, region });
            return sendJson(res, 200, { ok: true });
          }
          if (method === 'DELETE') {
            faults.clear(url.searchParams.get('region') ?? undefined);
            return sendJson(res, 200, { ok: true });
          }
          return methodNotAllowed(res, 'POST, DELETE');
        }
        case 'traffic': {
          if (method === 'GET') return sendJson(res, 200, profiles.view());
          if (method === 'POST') {
            profiles.set(validateTrafficProfile(await readJsonObject(req)));
            return sendJson(res, 200, { ok: true });
          }
          if (method === 'DELETE') {
            profiles.clear(url.searchParams.get('region') ?? undefined);
            return sendJson(res, 200, { ok: true });
          }
          return methodNotAllowed(res, 'GET, POST, DELETE');
        }
        case 'incident': {
          if (method === 'GET') return sendJson(res, 200, incident.view());
          if (method === 'POST') {
            incident.start(validateIncident(await readJsonObject(req), this.parts.regions));
            return sendJson(res, 200, { ok: true });
          }
          if (method === 'DELETE') {
            incident.end();
            return sendJson(res, 200, { ok: true });
          }
          return methodNotAllowed(res, 'GET, POST, DELETE');
        }
        case 'set': {
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          const body = await readJsonObject(req);
          this.parts.setVersion(requireString(body, 'service'), requireString(body, 'region'), requireString(body, 'version'));
          return sendJson(res, 200, { ok: true });
        }
        case 'ledger':
          if (method !== 'GET') return methodNotAllowed(res, 'GET');
          return sendJson(res, 200, ledger.list());
        case 'notifications':
          if (method === 'GET') return sendJson(res, 200, notifications.list());
          if (method !== 'POST') return methodNotAllowed(res, 'GET, POST');
          notifications.add(await readJsonObject(req));
          return sendJson(res, 200, { ok: true });
        case 'reset':
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          this.parts.reset();
          return sendJson(res, 200, { ok: true });
      }
    }
    throw noRoute(call);
  }
}
