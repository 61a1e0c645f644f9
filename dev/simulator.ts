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
// `Faults`. POST /_sim/set changes what a region runs by hand (ledger kind 'manual').
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export interface LedgerEntry {
  seq: number;
  at: number;
  region: string;
  service: string;
  /** manual: a change made by hand (POST /_sim/set), outside any rollout. */
  kind: 'deploy' | 'rollback' | 'manual';
  /**
   * deploy, manual: the version deployed. rollback: the version restored, or '' when the rollback
   * undid the region's first deploy of the service and it now runs nothing.
   */
  version: string;
  /** deploy: what ran before, if anything. rollback: the version rolled back. */
  fromVersion?: string;
  idempotencyKey: string;
}

export interface Faults {
  latencyMs?: number;
  /** 0..1; spread evenly over calls (0.5 fails every second call) so tests are repeatable. */
  errorRate5xx?: number;
  status429?: { retryAfterSeconds: number; count: number };
  /** The next `count` deploy/rollback calls answer `status` (400..499): a deploy API refusing the request. */
  status4xx?: { status: number; count: number };
  hang?: boolean;
  /**
   * The next `count` deploy/rollback calls are carried out (the operation starts, or is found
   * by its key) but never answered: the response is lost, and only the caller's timeout ends
   * the call. What a retry then sends must not start a second operation.
   */
  hangAfterAccept?: { count: number };
  drop?: boolean;
  metricsOutage?: boolean;
  partialDeploy?: boolean;
  /**
   * Rollback operations accepted while set end `failed`: all of them (true), or the next
   * `times` (a rollback that fails a few times and then works). Calls that replay an
   * operation by its idempotency key get its fate back and use up nothing.
   */
  failRollback?: boolean | { times: number };
  /** Deploys report success and change nothing: the lie a reused idempotency key tells. */
  ghostDeploy?: boolean;
  /**
   * A rollback means "the revision before the current one", whatever version it names, as
   * `kubectl rollout undo` and `helm rollback <release>` do: run twice, it puts back the
   * version the first run removed.
   */
  undoRollback?: boolean;
}

export interface Simulator {
  url: string;
  port: number;
  markBad(version: string, service?: string): void;
  markGood(version: string, service?: string): void;
  setFaults(f: Faults & { region?: string }): void;
  clearFaults(region?: string): void;
  ledger(): LedgerEntry[];
  /** The notifications the rollouts sent to POST /_sim/notifications (a webhook target for demos and tests), oldest first. */
  notifications(): unknown[];
  versionOf(service: string, region: string): string | undefined;
  /** Changes what a region runs by hand, outside any rollout (what an operator's kubectl would do): a new revision, ledger kind 'manual'. */
  setVersion(service: string, region: string, version: string): void;
  reset(): void;
  close(): Promise<void>;
}

type OpKind = 'deploy' | 'rollback';
type OpStatus = 'in-progress' | 'succeeded' | 'failed';

interface Operation {
  operationId: string;
  kind: OpKind;
  region: string;
  service: string;
  version: string;
  status: OpStatus;
  error?: string;
  previousVersion?: string;
  idempotencyKey: string;
}

interface FaultScope {
  faults: Faults;
  /** Accumulates errorRate5xx per call; a call fails each time it crosses 1. */
  acc5xx: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const FAULT_KEYS = [
  'latencyMs',
  'errorRate5xx',
  'status429',
  'status4xx',
  'hang',
  'hangAfterAccept',
  'drop',
  'metricsOutage',
  'partialDeploy',
  'failRollback',
  'ghostDeploy',
  'undoRollback',
] as const satisfies readonly (keyof Faults)[];

const HEALTH_WINDOW_MS = 60_000;
const MAX_BODY_BYTES = 1 << 20;
export const PARTIAL_DEPLOY_ERROR = 'partial deploy: 2/5 hosts updated';
export const FAILED_ROLLBACK_ERROR = 'rollback failed: injected fault';

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (!Array.isArray(opts.regions) || opts.regions.length === 0) {
    throw new Error('startSimulator: at least one region is required');
  }
  const regions = new Set(opts.regions);
  const host = opts.host ?? '127.0.0.1';
  const deployDelayMs = opts.deployDelayMs ?? 300;
  const tickMs = opts.tickMs ?? 250;
  const requestsPerTick = opts.requestsPerTick ?? 20;
  const badErrorRatio = opts.badErrorRatio ?? 0.3;
  const initialVersions = { ...(opts.initialVersions ?? {}) };

  // Per service and region, the versions in the order they were deployed; the last one
  // runs. `null` records that the region ran nothing before its first deploy, so a
  // rollback of that deploy knows it may empty the region. Initial versions have no
  // known past: rolling them back fails rather than inventing one.
  let history = new Map<string, Map<string, (string | null)[]>>();
  let ledgerEntries: LedgerEntry[] = [];
  /** Webhook bodies received, newest kept: a demo's owner channel. */
  let notifications: unknown[] = [];
  let ledgerSeq = 0;
  // Never reset, so an id polled across reset() cannot alias a newer operation.
  let opSeq = 0;
  let operations = new Map<string, Operation>();
  let opsByKey = new Map<string, Operation>();
  const opTimers = new Set<NodeJS.Timeout>();

  const badEverywhere = new Set<string>();
  const badFor = new Map<string, Set<string>>();
  // markGood(v, s) while v is bad for every service needs an exception for s.
  const goodExcept = new Map<string, Set<string>>();

  let globalFaults: FaultScope = { faults: {}, acc5xx: 0 };
  let regionFaults = new Map<string, FaultScope>();

  // Counters stay across reset(): Prometheus counters only go up.
  const counters = new Map<string, { service: string; region: string; version: string; ok: number; err: number }>();
  let recent = new Map<string, { at: number; requests: number; errors: number }[]>();

  let closed = false;
  const hung = new Set<{ region: string; release: () => void }>();
  const sleeps = new Set<{ timer: NodeJS.Timeout; release: () => void }>();

  function loadInitial(): void {
    history = new Map();
    for (const [service, version] of Object.entries(initialVersions)) {
      const perRegion = new Map<string, (string | null)[]>();
      for (const r of regions) perRegion.set(r, [version]);
      history.set(service, perRegion);
    }
  }
  loadInitial();

  function historyOf(service: string, region: string): (string | null)[] {
    let perRegion = history.get(service);
    if (!perRegion) history.set(service, (perRegion = new Map<string, (string | null)[]>()));
    let h = perRegion.get(region);
    if (!h) perRegion.set(region, (h = []));
    return h;
  }

  function current(service: string, region: string): string | null {
    const h = history.get(service)?.get(region);
    return h && h.length > 0 ? (h[h.length - 1] ?? null) : null;
  }

  function previous(service: string, region: string): string | null {
    const h = history.get(service)?.get(region);
    return h && h.length > 1 ? (h[h.length - 2] ?? null) : null;
  }

  function isBad(service: string, version: string): boolean {
    if (badFor.get(service)?.has(version)) return true;
    return badEverywhere.has(version) && !goodExcept.get(service)?.has(version);
  }

  function markBad(version: string, service?: string): void {
    if (service === undefined) {
      badEverywhere.add(version);
      for (const s of goodExcept.values()) s.delete(version);
    } else {
      let s = badFor.get(service);
      if (!s) badFor.set(service, (s = new Set()));
      s.add(version);
      goodExcept.get(service)?.delete(version);
    }
  }

  function markGood(version: string, service?: string): void {
    if (service === undefined) {
      badEverywhere.delete(version);
      for (const s of badFor.values()) s.delete(version);
      for (const s of goodExcept.values()) s.delete(version);
    } else {
      badFor.get(service)?.delete(version);
      if (badEverywhere.has(version)) {
        let s = goodExcept.get(service);
        if (!s) goodExcept.set(service, (s = new Set()));
        s.add(version);
      }
    }
  }

  // --- faults -------------------------------------------------------------------------

  /** The scope whose setting applies to `region` for `key`: the region's own, else the global one. */
  function faultOwner<K extends keyof Faults>(region: string | undefined, key: K): FaultScope | undefined {
    const own = region === undefined ? undefined : regionFaults.get(region);
    if (own && own.faults[key] !== undefined) return own;
    if (globalFaults.faults[key] !== undefined) return globalFaults;
    return undefined;
  }

  function fault<K extends keyof Faults>(region: string | undefined, key: K): Faults[K] | undefined {
    return faultOwner(region, key)?.faults[key];
  }

  function validateFaults(input: Record<string, unknown>): Faults {
    const out: Faults = {};
    for (const [k, v] of Object.entries(input)) {
      if (k === 'region') continue;
      if (v === undefined) continue;
      switch (k) {
        case 'latencyMs':
          if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new HttpError(400, 'field "latencyMs" must be a number >= 0');
          out.latencyMs = v;
          break;
        case 'errorRate5xx':
          if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new HttpError(400, 'field "errorRate5xx" must be a number in 0..1');
          out.errorRate5xx = v;
          break;
        case 'status429': {
          const o = v as { retryAfterSeconds?: unknown; count?: unknown };
          if (typeof v !== 'object' || v === null) throw new HttpError(400, 'field "status429" must be an object {retryAfterSeconds, count}');
          if (typeof o.retryAfterSeconds !== 'number' || !Number.isFinite(o.retryAfterSeconds) || o.retryAfterSeconds < 0) {
            throw new HttpError(400, 'field "status429.retryAfterSeconds" must be a number >= 0');
          }
          if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) {
            throw new HttpError(400, 'field "status429.count" must be an integer >= 0');
          }
          out.status429 = { retryAfterSeconds: o.retryAfterSeconds, count: o.count };
          break;
        }
        case 'status4xx': {
          const o = v as { status?: unknown; count?: unknown };
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'field "status4xx" must be an object {status, count}');
          for (const key of Object.keys(o)) {
            if (key !== 'status' && key !== 'count') throw new HttpError(400, `unknown field "status4xx.${key}" (known: status, count)`);
          }
          if (typeof o.status !== 'number' || !Number.isInteger(o.status) || o.status < 400 || o.status > 499) {
            throw new HttpError(400, 'field "status4xx.status" must be an integer HTTP status in 400..499');
          }
          if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) {
            throw new HttpError(400, 'field "status4xx.count" must be an integer >= 0');
          }
          out.status4xx = { status: o.status, count: o.count };
          break;
        }
        case 'hangAfterAccept': {
          const o = v as { count?: unknown };
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'field "hangAfterAccept" must be an object {count}');
          for (const key of Object.keys(o)) {
            if (key !== 'count') throw new HttpError(400, `unknown field "hangAfterAccept.${key}" (known: count)`);
          }
          if (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0) {
            throw new HttpError(400, 'field "hangAfterAccept.count" must be an integer >= 0');
          }
          out.hangAfterAccept = { count: o.count };
          break;
        }
        case 'failRollback': {
          if (typeof v === 'boolean') {
            out.failRollback = v;
            break;
          }
          const o = v as { times?: unknown };
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'field "failRollback" must be a boolean or an object {times}');
          for (const key of Object.keys(o)) {
            if (key !== 'times') throw new HttpError(400, `unknown field "failRollback.${key}" (known: times)`);
          }
          if (typeof o.times !== 'number' || !Number.isInteger(o.times) || o.times < 1) {
            throw new HttpError(400, 'field "failRollback.times" must be an integer >= 1');
          }
          out.failRollback = { times: o.times };
          break;
        }
        case 'hang':
        case 'drop':
        case 'metricsOutage':
        case 'partialDeploy':
        case 'ghostDeploy':
        case 'undoRollback':
          if (typeof v !== 'boolean') throw new HttpError(400, `field "${k}" must be a boolean`);
          out[k] = v;
          break;
        default:
          throw new HttpError(400, `unknown fault "${k}" (known: ${FAULT_KEYS.join(', ')})`);
      }
    }
    return out;
  }

  function setFaults(f: Faults & { region?: string }): void {
    const { region } = f;
    if (region !== undefined && !regions.has(region)) throw new HttpError(404, `unknown region "${region}"`);
    const valid = validateFaults(f as Record<string, unknown>);
    let scope = globalFaults;
    if (region !== undefined) {
      let own = regionFaults.get(region);
      if (!own) regionFaults.set(region, (own = { faults: {}, acc5xx: 0 }));
      scope = own;
    }
    // A fresh rate starts a fresh pattern, so "set 0.5, then two calls" is predictable.
    if (valid.errorRate5xx !== undefined) scope.acc5xx = 0;
    Object.assign(scope.faults, valid);
    releaseHung();
  }

  function clearFaults(region?: string): void {
    if (region === undefined) {
      globalFaults = { faults: {}, acc5xx: 0 };
      regionFaults = new Map();
    } else {
      if (!regions.has(region)) throw new HttpError(404, `unknown region "${region}"`);
      regionFaults.delete(region);
    }
    releaseHung();
  }

  function releaseHung(): void {
    for (const h of hung) {
      if (closed || !fault(h.region, 'hang')) {
        hung.delete(h);
        h.release();
      }
    }
  }

  function waitWhileHung(region: string): Promise<void> {
    return new Promise((resolve) => {
      hung.add({ region, release: resolve });
    });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleeps.delete(entry);
          resolve();
        }, ms),
        release: resolve,
      };
      sleeps.add(entry);
    });
  }

  // --- operations ---------------------------------------------------------------------

  function opView(op: Operation) {
    return {
      operationId: op.operationId,
      kind: op.kind,
      region: op.region,
      service: op.service,
      version: op.version,
      status: op.status,
      ...(op.error !== undefined ? { error: op.error } : {}),
      ...(op.previousVersion !== undefined ? { previousVersion: op.previousVersion } : {}),
    };
  }

  function appendLedger(e: Omit<LedgerEntry, 'seq' | 'at'>): void {
    ledgerEntries.push({ seq: ++ledgerSeq, at: Date.now(), ...e });
  }

  /** `rollout undo`: the revision before the current one becomes the newest, so a second undo toggles back. */
  function undoOne(op: Operation, h: (string | null)[], running: string | null): void {
    if (h.length < 2) {
      op.status = 'failed';
      op.error = `no revision before the current one in region "${op.region}"`;
      return;
    }
    const restored = h[h.length - 2] ?? null;
    h[h.length - 2] = running;
    h[h.length - 1] = restored;
    rolledBack(op, restored, running);
  }

  /** A rollback that changed the region: succeeded, and in the ledger. */
  function rolledBack(op: Operation, restored: string | null, from: string | null): void {
    op.status = 'succeeded';
    appendLedger({
      region: op.region,
      service: op.service,
      kind: 'rollback',
      version: restored ?? '',
      ...(from !== null ? { fromVersion: from } : {}),
      idempotencyKey: op.idempotencyKey,
    });
  }

  function setVersion(service: string, region: string, version: string): void {
    knownRegion(region);
    const h = historyOf(service, region);
    const running = h.length > 0 ? (h[h.length - 1] ?? null) : null;
    if (running === version) return;
    if (h.length === 0) h.push(null);
    h.push(version);
    appendLedger({ region, service, kind: 'manual', version, ...(running !== null ? { fromVersion: running } : {}), idempotencyKey: '' });
  }

  function complete(op: Operation, failWith: string | undefined, ghost = false, undo = false): void {
    const h = historyOf(op.service, op.region);
    const running = h.length > 0 ? (h[h.length - 1] ?? null) : null;
    if (op.kind === 'deploy') {
      if (running !== null) op.previousVersion = running;
      if (failWith) {
        op.status = 'failed';
        op.error = failWith;
        return;
      }
      if (ghost) {
        op.status = 'succeeded';
        return;
      }
      // Redeploying the running version leaves history alone, so "roll back v" still
      // means "return to what ran before v arrived" and a repeat rollback stays a no-op.
      if (running !== op.version) {
        if (h.length === 0) h.push(null);
        h.push(op.version);
      }
      op.status = 'succeeded';
      appendLedger({
        region: op.region,
        service: op.service,
        kind: 'deploy',
        version: op.version,
        ...(running !== null ? { fromVersion: running } : {}),
        idempotencyKey: op.idempotencyKey,
      });
      return;
    }
    if (failWith) {
      op.status = 'failed';
      op.error = failWith;
      return;
    }
    if (undo) {
      undoOne(op, h, running);
      return;
    }
    if (running !== op.version) {
      op.status = 'succeeded';
      return;
    }
    if (h.length < 2) {
      op.status = 'failed';
      op.error = `no version before "${op.version}" is known in region "${op.region}" to roll back to`;
      return;
    }
    h.pop();
    const restored = h[h.length - 1] ?? null;
    if (restored === null) h.length = 0;
    rolledBack(op, restored, op.version);
  }

  /** Whether a rollback accepted now fails; a counted failRollback is used up by it. */
  function rollbackFailure(region: string): string | undefined {
    const owner = faultOwner(region, 'failRollback');
    const setting = owner?.faults.failRollback;
    if (!owner || setting === undefined || setting === false) return undefined;
    if (typeof setting === 'object') {
      if (setting.times <= 1) delete owner.faults.failRollback;
      else owner.faults.failRollback = { times: setting.times - 1 };
    }
    return FAILED_ROLLBACK_ERROR;
  }

  function startOperation(kind: OpKind, region: string, body: { service: string; version: string; idempotencyKey: string }): { status: number; op: Operation } {
    const key = `${region}\u0000${kind}\u0000${body.idempotencyKey}`;
    const existing = opsByKey.get(key);
    if (existing) {
      if (existing.service !== body.service || existing.version !== body.version) {
        throw new HttpError(
          409,
          `idempotencyKey "${body.idempotencyKey}" was already used for ${kind} of ${existing.service}@${existing.version} in region "${region}"`,
        );
      }
      return { status: 200, op: existing };
    }
    const op: Operation = {
      operationId: `op-${++opSeq}`,
      kind,
      region,
      service: body.service,
      version: body.version,
      status: 'in-progress',
      idempotencyKey: body.idempotencyKey,
    };
    // The fate is fixed when the call is accepted: a test that sets a fault, calls, and
    // clears the fault still sees the failure it asked for.
    const failWith = kind === 'deploy' ? (fault(region, 'partialDeploy') ? PARTIAL_DEPLOY_ERROR : undefined) : rollbackFailure(region);
    const ghost = kind === 'deploy' && fault(region, 'ghostDeploy') === true;
    const undo = kind === 'rollback' && fault(region, 'undoRollback') === true;
    operations.set(op.operationId, op);
    opsByKey.set(key, op);
    const timer = setTimeout(() => {
      opTimers.delete(timer);
      complete(op, failWith, ghost, undo);
    }, deployDelayMs);
    opTimers.add(timer);
    return { status: 202, op };
  }

  // --- traffic ------------------------------------------------------------------------

  function counterKey(service: string, region: string, version: string): string {
    return JSON.stringify([service, region, version]);
  }

  function tick(): void {
    const now = Date.now();
    for (const [service, perRegion] of history) {
      for (const region of perRegion.keys()) {
        const version = current(service, region);
        if (version === null) continue;
        const errors = isBad(service, version) ? Math.round(requestsPerTick * badErrorRatio) : 0;
        const ck = counterKey(service, region, version);
        let c = counters.get(ck);
        if (!c) counters.set(ck, (c = { service, region, version, ok: 0, err: 0 }));
        c.ok += requestsPerTick - errors;
        c.err += errors;
        const rk = `${service}\u0000${region}`;
        let samples = recent.get(rk);
        if (!samples) recent.set(rk, (samples = []));
        samples.push({ at: now, requests: requestsPerTick, errors });
        pruneSamples(samples, now);
      }
    }
  }

  function pruneSamples(samples: { at: number }[], now: number): void {
    let drop = 0;
    while (drop < samples.length && samples[drop]!.at <= now - HEALTH_WINDOW_MS) drop++;
    if (drop > 0) samples.splice(0, drop);
  }

  const ticker = setInterval(tick, tickMs);

  // --- prometheus ---------------------------------------------------------------------

  function labelValue(v: string): string {
    return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  }

  function renderMetrics(onlyRegion?: string): string {
    const hidden = (r: string) => (onlyRegion !== undefined ? r !== onlyRegion : fault(r, 'metricsOutage') === true);
    const lines: string[] = [
      '# HELP mrcd_sim_requests_total Synthetic requests served, by service, region, version and HTTP status code.',
      '# TYPE mrcd_sim_requests_total counter',
    ];
    const sorted = [...counters.values()].sort(
      (a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region) || a.version.localeCompare(b.version),
    );
    for (const c of sorted) {
      if (hidden(c.region)) continue;
      const base = `service="${labelValue(c.service)}",region="${labelValue(c.region)}",version="${labelValue(c.version)}"`;
      // The 500 series is written even at zero so error-ratio queries have a numerator.
      lines.push(`mrcd_sim_requests_total{${base},code="200"} ${c.ok}`);
      lines.push(`mrcd_sim_requests_total{${base},code="500"} ${c.err}`);
    }
    lines.push('# HELP mrcd_sim_region_version_info The version each region runs for each service; always 1.', '# TYPE mrcd_sim_region_version_info gauge');
    const running: { service: string; region: string; version: string }[] = [];
    for (const [service, perRegion] of history) {
      for (const region of perRegion.keys()) {
        const version = current(service, region);
        if (version !== null && !hidden(region)) running.push({ service, region, version });
      }
    }
    running.sort((a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region));
    for (const r of running) {
      lines.push(`mrcd_sim_region_version_info{service="${labelValue(r.service)}",region="${labelValue(r.region)}",version="${labelValue(r.version)}"} 1`);
    }
    return lines.join('\n') + '\n';
  }

  // --- http ---------------------------------------------------------------------------

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed || res.socket?.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        // Keep draining rather than destroying, so the 413 can still be delivered.
        if (size > MAX_BODY_BYTES) reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
    const text = await readBody(req);
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

  function requireString(body: Record<string, unknown>, field: string): string {
    const v = body[field];
    if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `missing or invalid field "${field}": must be a non-empty string`);
    return v;
  }

  function optionalString(body: Record<string, unknown>, field: string): string | undefined {
    const v = body[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw new HttpError(400, `invalid field "${field}": must be a non-empty string when given`);
    return v;
  }

  function requireQuery(url: URL, name: string): string {
    const v = url.searchParams.get(name);
    if (!v) throw new HttpError(400, `missing query parameter "${name}"`);
    return v;
  }

  function authorized(req: IncomingMessage): boolean {
    if (opts.requireToken === undefined) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!.trim());
    const want = Buffer.from(opts.requireToken);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  function knownRegion(region: string): void {
    if (!regions.has(region)) throw new HttpError(404, `unknown region "${region}"`);
  }

  /** Runs the fault pipeline for a region API call; false means the call must not go on. */
  async function applyFaults(req: IncomingMessage, res: ServerResponse, region: string, mutating: boolean): Promise<boolean> {
    const gone = () => closed || req.socket.destroyed;
    while (fault(region, 'hang')) {
      await waitWhileHung(region);
      // A caller that gave up on a hung call never reached the service: abandoning the
      // call keeps a later retry's outcome (202 vs 200) deterministic.
      if (gone()) return false;
    }
    if (fault(region, 'drop')) {
      req.socket.destroy();
      return false;
    }
    const latency = fault(region, 'latencyMs');
    if (latency && latency > 0) {
      await sleep(latency);
      if (gone()) return false;
    }
    const rateOwner = faultOwner(region, 'errorRate5xx');
    const rate = rateOwner?.faults.errorRate5xx ?? 0;
    if (rateOwner && rate > 0) {
      rateOwner.acc5xx += rate;
      if (rateOwner.acc5xx >= 1 - 1e-9) {
        rateOwner.acc5xx -= 1;
        sendJson(res, 503, { error: 'injected' });
        return false;
      }
    }
    if (mutating) {
      const owner = faultOwner(region, 'status429');
      const limit = owner?.faults.status429;
      if (owner && limit && limit.count > 0) {
        limit.count -= 1;
        if (limit.count === 0) delete owner.faults.status429;
        sendJson(
          res,
          429,
          { error: 'rate limited', retryAfterSeconds: limit.retryAfterSeconds },
          { 'retry-after': String(Math.ceil(limit.retryAfterSeconds)) },
        );
        return false;
      }
      const refusing = faultOwner(region, 'status4xx');
      const refusal = refusing?.faults.status4xx;
      if (refusing && refusal && refusal.count > 0) {
        refusal.count -= 1;
        if (refusal.count === 0) delete refusing.faults.status4xx;
        sendJson(res, refusal.status, { error: `request refused (injected HTTP ${refusal.status})` });
        return false;
      }
    }
    return true;
  }

  async function regionApi(
    req: IncomingMessage,
    res: ServerResponse,
    region: string,
    mutating: boolean,
    handler: () => Promise<{ status: number; body: unknown }> | { status: number; body: unknown },
  ): Promise<void> {
    knownRegion(region);
    if (!authorized(req)) {
      sendJson(res, 401, { error: 'unauthorized: expected Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (!(await applyFaults(req, res, region, mutating))) return;
    const { status, body } = await handler();
    if (mutating && status >= 200 && status < 300) {
      const owner = faultOwner(region, 'hangAfterAccept');
      const lose = owner?.faults.hangAfterAccept;
      if (owner && lose && lose.count > 0) {
        lose.count -= 1;
        if (lose.count === 0) delete owner.faults.hangAfterAccept;
        // No answer at all: the socket stays open until the caller gives up or close() ends it.
        return;
      }
    }
    sendJson(res, status, body);
  }

  function methodNotAllowed(res: ServerResponse, allow: string): void {
    sendJson(res, 405, { error: `method not allowed; use ${allow}` }, { allow });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    let segs: string[];
    try {
      segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in path');
    }
    const method = req.method ?? 'GET';
    const [a, b, c, d] = segs;

    if (a === 'regions' && b !== undefined) {
      if ((c === 'deploy' || c === 'rollback') && segs.length === 3) {
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        const kind: OpKind = c;
        return regionApi(req, res, b, true, async () => {
          const body = await readJsonObject(req);
          const service = requireString(body, 'service');
          const version = requireString(body, 'version');
          const idempotencyKey = requireString(body, 'idempotencyKey');
          const { status, op } = startOperation(kind, b, { service, version, idempotencyKey });
          return { status, body: opView(op) };
        });
      }
      if (c === 'operations' && d !== undefined && segs.length === 4) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return regionApi(req, res, b, false, () => {
          const op = operations.get(d);
          if (!op || op.region !== b) throw new HttpError(404, `unknown operation "${d}" in region "${b}"`);
          return { status: 200, body: opView(op) };
        });
      }
      if (c === 'status' && segs.length === 3) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return regionApi(req, res, b, false, () => {
          const service = requireQuery(url, 'service');
          return { status: 200, body: { region: b, service, version: current(service, b), previousVersion: previous(service, b) } };
        });
      }
    }

    if (a === 'health' && b !== undefined && segs.length === 2) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return regionApi(req, res, b, false, () => {
        const service = requireQuery(url, 'service');
        const samples = recent.get(`${service}\u0000${b}`) ?? [];
        pruneSamples(samples, Date.now());
        let requests = 0;
        let errors = 0;
        for (const s of samples) {
          requests += s.requests;
          errors += s.errors;
        }
        return {
          status: 200,
          body: { region: b, service, version: current(service, b), requests, errors, errorRatio: requests === 0 ? null : errors / requests },
        };
      });
    }

    if (a === 'metrics' && segs.length <= 2) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      // /metrics/:region lets Prometheus scrape each region as its own target, so a
      // regional metricsOutage shows up as that target being down.
      if (b !== undefined) knownRegion(b);
      if (fault(b, 'metricsOutage')) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics unavailable (injected)\n');
        return;
      }
      const text = renderMetrics(b);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }

    if (a === '_sim' && segs.length === 2) {
      switch (b) {
        case 'bad':
        case 'good': {
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          const body = await readJsonObject(req);
          const version = requireString(body, 'version');
          const service = optionalString(body, 'service');
          if (b === 'bad') markBad(version, service);
          else markGood(version, service);
          return sendJson(res, 200, { ok: true });
        }
        case 'faults': {
          if (method === 'POST') {
            const body = await readJsonObject(req);
            const region = optionalString(body, 'region');
            const faults = validateFaults(body);
            setFaults(region === undefined ? faults : { ...faults, region });
            return sendJson(res, 200, { ok: true });
          }
          if (method === 'DELETE') {
            clearFaults(url.searchParams.get('region') ?? undefined);
            return sendJson(res, 200, { ok: true });
          }
          return methodNotAllowed(res, 'POST, DELETE');
        }
        case 'set': {
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          const body = await readJsonObject(req);
          setVersion(requireString(body, 'service'), requireString(body, 'region'), requireString(body, 'version'));
          return sendJson(res, 200, { ok: true });
        }
        case 'ledger':
          if (method !== 'GET') return methodNotAllowed(res, 'GET');
          return sendJson(res, 200, ledgerEntries);
        case 'notifications':
          if (method === 'GET') return sendJson(res, 200, notifications);
          if (method !== 'POST') return methodNotAllowed(res, 'GET, POST');
          notifications = [...notifications.slice(-999), await readJsonObject(req)];
          return sendJson(res, 200, { ok: true });
        case 'reset':
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          reset();
          return sendJson(res, 200, { ok: true });
      }
    }

    throw new HttpError(404, `no route for ${method} ${url.pathname}`);
  }

  function reset(): void {
    for (const t of opTimers) clearTimeout(t);
    opTimers.clear();
    operations = new Map();
    opsByKey = new Map();
    loadInitial();
    ledgerEntries = [];
    notifications = [];
    ledgerSeq = 0;
    badEverywhere.clear();
    badFor.clear();
    goodExcept.clear();
    recent = new Map();
    clearFaults();
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) sendJson(res, e.status, { error: e.message });
      else sendJson(res, 500, { error: `simulator bug: ${e instanceof Error ? e.message : String(e)}` });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    clearInterval(ticker);
    throw e;
  });

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      closed = true;
      clearInterval(ticker);
      for (const t of opTimers) clearTimeout(t);
      opTimers.clear();
      for (const s of sleeps) {
        clearTimeout(s.timer);
        s.release();
      }
      sleeps.clear();
      releaseHung();
      server.close(() => resolve());
      // Hung and slow calls hold their sockets open; close() must not wait on them.
      server.closeAllConnections();
    });
    return closing;
  }

  return {
    url: `http://${urlHost}:${port}`,
    port,
    markBad,
    markGood,
    setFaults,
    clearFaults,
    ledger: () => ledgerEntries.map((e) => ({ ...e })),
    notifications: () => [...notifications],
    versionOf: (service, region) => current(service, region) ?? undefined,
    setVersion,
    reset,
    close,
  };
}
