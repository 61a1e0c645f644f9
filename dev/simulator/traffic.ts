// Synthetic traffic: every tick, each service serves requestsPerTick requests in each
// region that runs a version of it, and a bad version fails badErrorRatio of them. It
// feeds the request counters /metrics exposes and the recent window /health sums.
//
// A region under a traffic profile (traffic-profiles.ts) draws its counts instead, from its
// own seeded stream: Poisson requests around the profile's (diurnal) mean, binomial errors,
// lognormal latencies. Regions without one keep the exact counts above, which the
// deterministic tests rely on.
import type { BadVersions } from './bad-versions';
import type { Fleet } from './fleet';
import type { Incident } from './incident';
import { LatencyHistograms, type LatencySeries } from './latency';
import { meanRequests, type ActiveProfile, type TrafficProfiles } from './traffic-profiles';

const HEALTH_WINDOW_MS = 60_000;

export interface RequestCounter {
  service: string;
  region: string;
  version: string;
  ok: number;
  err: number;
}

interface Sample {
  at: number;
  requests: number;
  errors: number;
}

export interface TrafficOptions {
  tickMs: number;
  requestsPerTick: number;
  badErrorRatio: number;
}

/** What shapes traffic beyond the defaults: profiles per region, and a shared incident. */
export interface TrafficShaping {
  profiles: TrafficProfiles;
  incident: Incident;
}

interface TickCounts {
  requests: number;
  errors: number;
}

function pruneSamples(samples: Sample[], now: number): void {
  let drop = 0;
  while (drop < samples.length && samples[drop]!.at <= now - HEALTH_WINDOW_MS) drop++;
  if (drop > 0) samples.splice(0, drop);
}

export class Traffic {
  // Counters stay across reset(): Prometheus counters only go up.
  private readonly counters = new Map<string, RequestCounter>();
  private recent = new Map<string, Sample[]>();
  private readonly latency = new LatencyHistograms();
  private readonly ticker: NodeJS.Timeout;

  /** Starts ticking at once; stop() ends it. */
  constructor(
    private readonly fleet: Fleet,
    private readonly badVersions: BadVersions,
    private readonly opts: TrafficOptions,
    private readonly shaping: TrafficShaping,
  ) {
    this.ticker = setInterval(() => this.tick(), opts.tickMs);
  }

  /** Requests and errors of `service` in `region` over the last HEALTH_WINDOW_MS. */
  health(service: string, region: string): { requests: number; errors: number } {
    const samples = this.recent.get(`${service}\u0000${region}`) ?? [];
    pruneSamples(samples, Date.now());
    let requests = 0;
    let errors = 0;
    for (const s of samples) {
      requests += s.requests;
      errors += s.errors;
    }
    return { requests, errors };
  }

  /** Every counter since start, per service, region and version. */
  requestCounters(): Iterable<RequestCounter> {
    return this.counters.values();
  }

  /** Every latency histogram since start (only regions that ran a latency profile have one). */
  latencySeries(): Iterable<LatencySeries> {
    return this.latency.list();
  }

  /** Empties the health window; the counters stay. */
  reset(): void {
    this.recent = new Map();
  }

  stop(): void {
    clearInterval(this.ticker);
  }

  private tick(): void {
    const now = Date.now();
    for (const { service, region, version } of this.fleet.running()) {
      const active = this.shaping.profiles.active(region, now);
      const { requests, errors } = active ? this.drawn(active, service, region, version) : this.fixed(service, region, version);
      const ck = JSON.stringify([service, region, version]);
      let c = this.counters.get(ck);
      if (!c) this.counters.set(ck, (c = { service, region, version, ok: 0, err: 0 }));
      c.ok += requests - errors;
      c.err += errors;
      const rk = `${service}\u0000${region}`;
      let samples = this.recent.get(rk);
      if (!samples) this.recent.set(rk, (samples = []));
      samples.push({ at: now, requests, errors });
      pruneSamples(samples, now);
    }
  }

  /** The deterministic default: requestsPerTick requests, badErrorRatio of them failing if the version is bad. */
  private fixed(service: string, region: string, version: string): TickCounts {
    const { requestsPerTick, badErrorRatio } = this.opts;
    if (!this.badVersions.verdict(service, region, version).bad) return { requests: requestsPerTick, errors: 0 };
    const { errorFactor } = this.shaping.incident.factors(region);
    // Outside an incident the share is exactly badErrorRatio, as it always was.
    const ratio = errorFactor === 1 ? badErrorRatio : Math.min(1, badErrorRatio * errorFactor);
    return { requests: requestsPerTick, errors: Math.round(requestsPerTick * ratio) };
  }

  /** One tick under a profile, drawn from the region's stream in a fixed order so a seed replays it. */
  private drawn({ profile, rng, elapsedMs }: ActiveProfile, service: string, region: string, version: string): TickCounts {
    const verdict = this.badVersions.verdict(service, region, version);
    const incident = this.shaping.incident.factors(region);
    const requests = rng.poisson(meanRequests(profile, elapsedMs));
    // A graded bad version scales the profile's rate; a plain bad one keeps its fixed share.
    const base = verdict.errorFactor !== undefined ? profile.errorRate * verdict.errorFactor : verdict.bad ? this.opts.badErrorRatio : profile.errorRate;
    const errors = rng.binomial(requests, Math.min(1, base * incident.errorFactor));
    if (profile.latency) {
      const medianMs = profile.latency.medianMs * incident.latencyFactor * (verdict.latencyFactor ?? 1);
      this.latency.observe(service, region, version, requests, medianMs, profile.latency.sigma, rng);
    }
    return { requests, errors };
  }
}
