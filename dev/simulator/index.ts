// One HTTP server playing every region of a fleet: a deploy API with idempotent, slow
// operations, synthetic traffic exposed as /health JSON and Prometheus /metrics, and
// injectable faults. Integration tests, `npm start` demos and the deployer/SLO provider
// tests all code against this HTTP surface, so changes to it are contract changes.
//
// Faults (setFaults / POST /_sim/faults, per region or global; a region's own setting wins):
// latencyMs, errorRate5xx, status429 {retryAfterSeconds, count}, status4xx {status, count}
// (the next `count` deploy/rollback calls answered with that 4xx), hang, hangAfterAccept
// {count} (the next `count` deploy/rollback calls are carried out but never answered), drop,
// metricsOutage, partialDeploy, failRollback (true: every rollback operation fails;
// {times: n}: the next n fail, then they succeed), ghostDeploy, undoRollback (a rollback
// goes back one revision whatever version it names, as `kubectl rollout undo` does). See
// `Faults` (fault-settings.ts). POST /_sim/set changes what a region runs by hand (ledger
// kind 'manual').
//
// Random traffic, for statistical checks (the default stays deterministic; see
// traffic-profiles.ts, incident.ts, bad-versions.ts, latency.ts):
// - POST /_sim/traffic {region?, requestsPerTick, errorRate, diurnal? {amplitude, periodMs,
//   phaseMs?}, latency? {medianMs, sigma}, seed?}: a region (or every region) serves
//   Poisson requests around the (diurnal) mean, each failing with probability errorRate, from
//   its own seeded stream; a latency profile adds mrcd_sim_request_duration_seconds.
//   GET /_sim/traffic: {all, regions}; DELETE /_sim/traffic[?region=r]: back to the default.
// - POST /_sim/incident {errorFactor?, latencyFactor?, regions?}: every listed region (all by
//   default) fails and slows by those factors, whatever it runs; GET shows it, DELETE ends it.
// - POST /_sim/bad also takes errorFactor (under a profile: errorRate × errorFactor instead of
//   badErrorRatio), latencyFactor and region (bad only there).
// POST /_sim/reset clears profiles and the incident too; counters and histograms only go up.
//
// Each part owns its state, and this file wires them together: fleet (what runs where),
// ledger (what happened), operations (the slow deploy API), faults, traffic, metrics,
// notifications, and the HTTP surfaces region-api (token and faults apply) and control-api
// (/_sim).
import { BadVersions, validateBadEffect, type BadEffect } from './bad-versions';
import { ControlApi } from './control-api';
import type { Faults } from './fault-settings';
import { FaultInjector } from './faults';
import { Fleet } from './fleet';
import { requireKnownRegion, type RouteHandler } from './http';
import { Incident, type IncidentSettings } from './incident';
import { Ledger, type LedgerEntry } from './ledger';
import { MetricsEndpoint } from './metrics';
import { NotificationSink } from './notifications';
import { Operations } from './operations';
import { RegionApi } from './region-api';
import { listen, type ListeningServer } from './server';
import { Traffic } from './traffic';
import { TrafficProfiles, type TrafficProfile } from './traffic-profiles';

export type { BadEffect } from './bad-versions';
export type { Faults } from './fault-settings';
export type { IncidentSettings } from './incident';
export type { TrafficProfile } from './traffic-profiles';
export type { LedgerEntry } from './ledger';
export { FAILED_ROLLBACK_ERROR, PARTIAL_DEPLOY_ERROR } from './operations';

export interface SimulatorOptions {
  regions: string[];
  host?: string;
  port?: number;
  /** service -> version running in every region at start. */
  initialVersions?: Record<string, string>;
  /** How long a deploy/rollback operation stays 'in-progress'. */
  deployDelayMs?: number;
  tickMs?: number;
  /** Per (service, region) with a running version, per tick. */
  requestsPerTick?: number;
  /** Error share of a version marked bad; good versions have none. */
  badErrorRatio?: number;
  /** When set, the region API (not /metrics, not /_sim) needs `Authorization: Bearer <token>`. */
  requireToken?: string;
}

export interface Simulator {
  url: string;
  port: number;
  /** With an effect: a graded or regional mark (POST /_sim/bad's errorFactor, latencyFactor, region). */
  markBad(version: string, service?: string, effect?: BadEffect): void;
  markGood(version: string, service?: string): void;
  setFaults(f: Faults & { region?: string }): void;
  clearFaults(region?: string): void;
  /** POST /_sim/traffic: a random traffic profile for `region`, or for every region. */
  setTraffic(p: TrafficProfile & { region?: string }): void;
  /** DELETE /_sim/traffic: without a region, every profile. */
  clearTraffic(region?: string): void;
  startIncident(i: IncidentSettings): void;
  endIncident(): void;
  ledger(): LedgerEntry[];
  /** The notifications the rollouts sent to POST /_sim/notifications (a webhook target for demos and tests), oldest first. */
  notifications(): unknown[];
  versionOf(service: string, region: string): string | undefined;
  /** Changes what a region runs by hand, outside any rollout (what an operator's kubectl would do): a new revision, ledger kind 'manual'. */
  setVersion(service: string, region: string, version: string): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (!Array.isArray(opts.regions) || opts.regions.length === 0) {
    throw new Error('startSimulator: at least one region is required');
  }
  const regions: ReadonlySet<string> = new Set(opts.regions);
  const host = opts.host ?? '127.0.0.1';

  const ledger = new Ledger();
  const fleet = new Fleet(regions, { ...(opts.initialVersions ?? {}) });
  const badVersions = new BadVersions();
  const faults = new FaultInjector(regions);
  const notifications = new NotificationSink();
  const operations = new Operations(fleet, ledger, faults, opts.deployDelayMs ?? 300);
  const profiles = new TrafficProfiles(regions);
  const incident = new Incident(regions);
  const traffic = new Traffic(
    fleet,
    badVersions,
    { tickMs: opts.tickMs ?? 250, requestsPerTick: opts.requestsPerTick ?? 20, badErrorRatio: opts.badErrorRatio ?? 0.3 },
    { profiles, incident },
  );

  function setVersion(service: string, region: string, version: string): void {
    requireKnownRegion(regions, region);
    const from = fleet.install(service, region, version);
    if (from === version) return;
    ledger.append({ region, service, kind: 'manual', version, from, idempotencyKey: '' });
  }

  function reset(): void {
    operations.reset();
    fleet.reset();
    ledger.reset();
    notifications.reset();
    badVersions.reset();
    traffic.reset();
    faults.clear();
    profiles.clear();
    incident.end();
  }

  const regionApi = new RegionApi({ regions, requireToken: opts.requireToken, faults, fleet, operations, traffic });
  const metrics = new MetricsEndpoint(regions, faults, fleet, traffic);
  const control = new ControlApi({ regions, badVersions, faults, profiles, incident, ledger, notifications, setVersion, reset });
  const routes = new Map<string, RouteHandler>([
    ['regions', (call) => regionApi.regions(call)],
    ['health', (call) => regionApi.health(call)],
    ['metrics', (call) => metrics.serve(call)],
    ['_sim', (call) => control.serve(call)],
  ]);

  let server: ListeningServer;
  try {
    server = await listen(host, opts.port ?? 0, routes);
  } catch (e) {
    traffic.stop();
    throw e;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (() => {
      faults.close();
      traffic.stop();
      operations.close();
      return server.close();
    })();
    return closing;
  }

  return {
    url: `http://${urlHost}:${server.port}`,
    port: server.port,
    markBad: (version, service, effect) => badVersions.markBad(version, service, effect && validateBadEffect({ ...effect }, regions)),
    markGood: (version, service) => badVersions.markGood(version, service),
    setFaults: (f) => faults.set(f),
    clearFaults: (region) => faults.clear(region),
    setTraffic: (p) => profiles.set(p),
    clearTraffic: (region) => profiles.clear(region),
    startIncident: (i) => incident.start(i),
    endIncident: () => incident.end(),
    ledger: () => ledger.list(),
    notifications: () => notifications.list(),
    versionOf: (service, region) => fleet.current(service, region) ?? undefined,
    setVersion,
    reset,
    close,
  };
}
