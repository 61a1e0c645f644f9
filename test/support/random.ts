// Seeded randomness for simulations in tests: the same seed gives the same runs on every
// machine, so a measured rate is a fixed number, not a flaky one. sfc32 (Chris Doty-Humphrey's
// small fast chaotic generator, 128 bits of state, passes PractRand) seeded through
// splitmix32; exact samplers for the Poisson and binomial distributions: inversion for small
// means, and W. Hörmann's transformed rejection (PTRS, BTRS: "The transformed rejection method
// for generating Poisson random variables" and "… binomial random variables", 1993) for large
// ones, where inversion would cost a loop as long as the mean.

/** log k!, exact to ~1e-15 relative: a table below 256, Stirling's series (5 terms) above. */
const LOG_FACTORIAL = (() => {
  const table = new Float64Array(256);
  for (let k = 2; k < 256; k++) table[k] = table[k - 1]! + Math.log(k);
  return table;
})();
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL[k]!;
  const x = k + 1;
  const x2 = x * x;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + (1 / 12 - (1 / 360 - 1 / (1260 * x2)) / x2) / x;
}

export interface Random {
  /** Uniform on [0, 1), 53 random bits. */
  uniform(): number;
  /** Uniform on [lo, hi). */
  between(lo: number, hi: number): number;
  /** Log-uniform on [lo, hi): every factor of 10 as likely as any other. */
  logUniform(lo: number, hi: number): number;
  poisson(mean: number): number;
  binomial(n: number, p: number): number;
}

export function random(seed: number): Random {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = () => {
    d = (d + 1) >>> 0;
    const t = (((a + b) >>> 0) + d) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next32();
  const uniform = () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;

  function poisson(mean: number): number {
    if (!(mean >= 0 && Number.isFinite(mean))) throw new RangeError(`poisson: mean ${mean}`);
    if (mean < 10) {
      let k = 0;
      let pmf = Math.exp(-mean);
      let cdf = pmf;
      const u = uniform();
      while (u > cdf && pmf > 0) {
        k++;
        pmf *= mean / k;
        cdf += pmf;
      }
      return k;
    }
    // PTRS.
    const slam = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b2 = 0.931 + 2.53 * slam;
    const a2 = -0.059 + 0.02483 * b2;
    const invAlpha = 1.1239 + 1.1328 / (b2 - 3.4);
    const vr = 0.9277 - 3.6224 / (b2 - 2);
    for (;;) {
      const u = uniform() - 0.5;
      const v = uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a2) / us + b2) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a2 / (us * us) + b2) <= -mean + k * logMean - logFactorial(k)) return k;
    }
  }

  function binomial(n: number, p: number): number {
    if (!(Number.isInteger(n) && n >= 0 && p >= 0 && p <= 1)) throw new RangeError(`binomial: n ${n}, p ${p}`);
    if (p > 0.5) return n - binomial(n, 1 - p);
    if (n === 0 || p === 0) return 0;
    const q = 1 - p;
    if (n * p < 10) {
      let k = 0;
      let pmf = Math.exp(n * Math.log1p(-p));
      let cdf = pmf;
      const u = uniform();
      const odds = p / q;
      while (u > cdf && k < n) {
        pmf *= ((n - k) / (k + 1)) * odds;
        k++;
        cdf += pmf;
      }
      return k;
    }
    // BTRS.
    const spq = Math.sqrt(n * p * q);
    const b2 = 1.15 + 2.53 * spq;
    const a2 = -0.0873 + 0.0248 * b2 + 0.01 * p;
    const c2 = n * p + 0.5;
    const vr = 0.92 - 4.2 / b2;
    const alpha = (2.83 + 5.1 / b2) * spq;
    const logOdds = Math.log(p / q);
    const mode = Math.floor((n + 1) * p);
    const h = logFactorial(mode) + logFactorial(n - mode);
    for (;;) {
      const u = uniform() - 0.5;
      const v = uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a2) / us + b2) * u + c2);
      if (k < 0 || k > n) continue;
      if (us >= 0.07 && v <= vr) return k;
      if (Math.log((v * alpha) / (a2 / (us * us) + b2)) <= h - logFactorial(k) - logFactorial(n - k) + (k - mode) * logOdds) return k;
    }
  }

  return {
    uniform,
    between: (lo, hi) => lo + (hi - lo) * uniform(),
    logUniform: (lo, hi) => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * uniform()),
    poisson,
    binomial,
  };
}
