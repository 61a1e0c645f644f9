// Synthetic traffic: every tick, each service serves requestsPerTick requests in each
// region that runs a version of it, and a bad version fails badErrorRatio of them. It
// feeds the request counters /metrics exposes and the recent window /health sums.
import type { BadVersions } from './bad-versions';
import type { Fleet } from './fleet';

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

function pruneSamples(samples: Sample[], now: number): void {
  let drop = 0;
  while (drop < samples.length && samples[drop]!.at <= now - HEALTH_WINDOW_MS) drop++;
  if (drop > 0) samples.splice(0, drop);
}

export class Traffic {
  // Counters stay across reset(): Prometheus counters only go up.
  private readonly counters = new Map<string, RequestCounter>();
  private recent = new Map<string, Sample[]>();
  private readonly ticker: NodeJS.Timeout;

  /** Starts ticking at once; stop() ends it. */
  constructor(
    private readonly fleet: Fleet,
    private readonly badVersions: BadVersions,
    private readonly opts: TrafficOptions,
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

  /** Empties the health window; the counters stay. */
  reset(): void {
    this.recent = new Map();
  }

  stop(): void {
    clearInterval(this.ticker);
  }

  private tick(): void {
    const { requestsPerTick, badErrorRatio } = this.opts;
    const now = Date.now();
    for (const { service, region, version } of this.fleet.running()) {
      const errors = this.badVersions.isBad(service, version) ? Math.round(requestsPerTick * badErrorRatio) : 0;
      const ck = JSON.stringify([service, region, version]);
      let c = this.counters.get(ck);
      if (!c) this.counters.set(ck, (c = { service, region, version, ok: 0, err: 0 }));
      c.ok += requestsPerTick - errors;
      c.err += errors;
      const rk = `${service}\u0000${region}`;
      let samples = this.recent.get(rk);
      if (!samples) this.recent.set(rk, (samples = []));
      samples.push({ at: now, requests: requestsPerTick, errors });
      pruneSamples(samples, now);
    }
  }
}
