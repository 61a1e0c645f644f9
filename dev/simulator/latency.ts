// Request latency of regions with a latency profile, kept as Prometheus histograms
// (mrcd_sim_request_duration_seconds), so latency checks can run histogram_quantile over a
// real scrape. Only regions with a latency profile ever get a series: the default /metrics
// page stays as it was.
import { normalCdf, type Rng } from './random';

/** 16 log-spaced upper bounds from 5 ms to 10 s (a factor of ~1.66 apart), to two significant digits. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Array.from({ length: 16 }, (_, i) => Number((0.005 * 2000 ** (i / 15)).toPrecision(2)));

/**
 * Up to this many requests a tick, each one's latency is drawn; above it the bucket counts
 * are drawn as a multinomial over the lognormal's bucket probabilities and the sum from the
 * central limit theorem: the same distribution at a cost that does not grow with traffic.
 */
const EXACT_DRAWS_MAX = 256;

export interface LatencySeries {
  service: string;
  region: string;
  version: string;
  /** Cumulative counts, one per LATENCY_BUCKETS_SECONDS bound (the +Inf bucket is `count`). */
  cumulative: number[];
  sumSeconds: number;
  count: number;
}

interface State {
  service: string;
  region: string;
  version: string;
  /** Per bucket, not cumulative; the last slot holds requests slower than the largest bound. */
  perBucket: number[];
  sumSeconds: number;
  count: number;
}

function bucketOf(seconds: number): number {
  const i = LATENCY_BUCKETS_SECONDS.findIndex((le) => seconds <= le);
  return i === -1 ? LATENCY_BUCKETS_SECONDS.length : i;
}

export class LatencyHistograms {
  // Like the request counters, series stay once made (reset and profile changes included).
  private readonly series = new Map<string, State>();

  /** Records `n` requests with latency ~ lognormal(medianMs, sigma); n = 0 still makes the series. */
  observe(service: string, region: string, version: string, n: number, medianMs: number, sigma: number, rng: Rng): void {
    const key = JSON.stringify([service, region, version]);
    let s = this.series.get(key);
    if (!s) {
      s = { service, region, version, perBucket: new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0), sumSeconds: 0, count: 0 };
      this.series.set(key, s);
    }
    const median = medianMs / 1000;
    s.count += n;
    if (n <= EXACT_DRAWS_MAX) {
      for (let i = 0; i < n; i++) {
        const x = rng.lognormal(median, sigma);
        s.perBucket[bucketOf(x)]! += 1;
        s.sumSeconds += x;
      }
      return;
    }
    const cdf = (le: number) => (sigma === 0 ? (median <= le ? 1 : 0) : normalCdf(Math.log(le / median) / sigma));
    // Multinomial as a chain of binomials: each bucket takes its share of what is left.
    let left = n;
    let massLeft = 1;
    let below = 0;
    LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
      const upTo = cdf(le);
      const p = upTo - below;
      below = upTo;
      const k = massLeft <= 0 ? 0 : rng.binomial(left, Math.min(1, Math.max(0, p / massLeft)));
      s.perBucket[i]! += k;
      left -= k;
      massLeft -= p;
    });
    s.perBucket[LATENCY_BUCKETS_SECONDS.length]! += left;
    const mean = median * Math.exp((sigma * sigma) / 2);
    const variance = (Math.exp(sigma * sigma) - 1) * median * median * Math.exp(sigma * sigma);
    s.sumSeconds += Math.max(0, n * mean + Math.sqrt(n * variance) * rng.normal());
  }

  /** Every series since start, with cumulative buckets as the exposition format wants them. */
  *list(): Generator<LatencySeries> {
    for (const s of this.series.values()) {
      let running = 0;
      const cumulative = LATENCY_BUCKETS_SECONDS.map((_, i) => (running += s.perBucket[i]!));
      yield { service: s.service, region: s.region, version: s.version, cumulative, sumSeconds: s.sumSeconds, count: s.count };
    }
  }
}
