// Seeded randomness for traffic profiles: a small PRNG of our own (mulberry32) rather than
// Math.random, so a seed replays the same traffic, and the samplers traffic needs. Large
// counts use normal or Poisson approximations: a tick may serve millions of requests and
// must still cost a handful of draws.

/** Below this many trials a binomial is drawn trial by trial, exactly. */
const EXACT_BINOMIAL_MAX_N = 100;
/** Below this mean a Poisson is drawn exactly (Knuth); above it the normal approximation is close. */
const EXACT_POISSON_MAX_MEAN = 30;

/** FNV-1a of a string: turns a region name into stream-seed bits. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The seed of `stream`'s generator under `seed`: equal seeds give each stream its own, independent sequence. */
export function streamSeed(seed: number, stream: string): number {
  // One splitmix-style finalizer so nearby seeds and names do not give correlated states.
  let h = (seed ^ fnv1a(stream)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): enough for bucket probabilities. */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1): mulberry32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller; one of the pair is dropped to keep the state simple). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log(0) would be -Infinity
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Lognormal with the given median and log-space standard deviation. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < EXACT_POISSON_MAX_MEAN) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
  }

  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n <= EXACT_BINOMIAL_MAX_N) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.next() < p) k++;
      return k;
    }
    // Rare outcomes (a 0.1% error rate) are skewed: Poisson on the rarer side, not a normal.
    if (n * p < 10) return Math.min(n, this.poisson(n * p));
    if (n * (1 - p) < 10) return n - Math.min(n, this.poisson(n * (1 - p)));
    const k = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * this.normal());
    return Math.min(n, Math.max(0, k));
  }
}
