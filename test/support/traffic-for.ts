// Simulations in the statistics tests size their traffic by the ratio it lets a soak detect.

/**
 * The traffic at which a decreasing f (detectableRatio of the traffic per interval) is wanted:
 * secant steps on log f against log traffic, nearly a line; halfway back where f is Infinity.
 */
export function trafficFor(f: (perInterval: number) => number, wanted: number): number {
  const miss = (x: number) => Math.log(f(Math.exp(x)) / wanted);
  let x0 = Math.log(1000);
  let f0 = miss(x0);
  while (!Number.isFinite(f0)) f0 = miss((x0 += 2));
  let [x1, f1] = [x0 + 0.5, miss(x0 + 0.5)];
  for (let i = 0; i < 50 && !(Math.abs(f1) < 1e-6); i++) {
    const next = Number.isFinite(f1) ? x1 - (f1 * (x1 - x0)) / (f1 - f0) : (x0 + x1) / 2;
    if (Number.isFinite(f1)) [x0, f0] = [x1, f1];
    x1 = next;
    f1 = miss(x1);
  }
  return Math.exp(x1);
}
