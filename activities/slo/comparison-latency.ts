// The latency half of a comparison: per interval, log(region latency / control latency),
// since the deploy against before it, compared by a Wilcoxon rank-sum test with its
// Hodges–Lehmann shift (domain/statistics/rank-test.ts). A rank test is a fixed-sample test,
// and a comparison looks at every interval: look k spends 6α/(π²k²) of alpha (and the same
// share of 1 - power for a pass), which sums to alpha over all looks however many there are,
// so looking often does not raise the false-alarm rate above alpha (a union bound: careful,
// not tight).
import type { LatencyEvidence } from '../../domain/activity-contract';
import { rankTest } from '../../domain/statistics/rank-test';
import { TemplateError } from './http';
import { promDuration, renderPromQL } from '../../plan/promql';
import { rangeQuery } from './prometheus-api';
import type { CountProblem, CountQuery } from './comparison-counts';

/** Prometheus answers at most 11,000 points per series; the window before is sampled at most this often. */
const MAX_BEFORE_POINTS = 2_000;

export type LatencyOutcome = { ok: true; evidence: LatencyEvidence; line: string } | ({ ok: false } & CountProblem);

type Values = Map<number, number>;

async function values(
  template: string,
  region: string,
  q: CountQuery,
  range: { startMs: number; endMs: number; stepMs: number },
): Promise<Values | CountProblem> {
  let promql: string;
  try {
    promql = renderPromQL(template, { service: q.service, region, version: '', window: promDuration(q.stepMs) });
  } catch (err) {
    if (err instanceof TemplateError) return { verdict: 'error', detail: `bad latency query template: ${err.message}`, retryable: false };
    throw err;
  }
  const r = await rangeQuery(q.baseUrl, promql, q.headers, q.tokenEnv, q.timeoutMs, q.signal, range);
  if (r.kind === 'error') return { verdict: 'error', detail: `${region}: the latency query failed at ${q.where}: ${r.detail}`, retryable: r.retryable };
  if (r.series.length > 1) return { verdict: 'inconclusive', detail: `${region}: the latency query returned ${r.series.length} series; aggregate it to one` };
  const out: Values = new Map();
  // NaN (no requests in an interval) and infinities are no latency: such intervals are left out.
  for (const p of r.series[0]?.points ?? []) if (Number.isFinite(p.value) && p.value > 0) out.set(p.ts, p.value);
  return out;
}

/** log(region/control) at the times both have a value. */
function logRatios(region: Values, control: Values): number[] {
  const out: number[] = [];
  for (const [ts, v] of region) {
    const c = control.get(ts);
    if (c !== undefined) out.push(Math.log(v / c));
  }
  return out;
}

const ratioText = (r: number) => (r >= 10 ? r.toFixed(0) : r >= 1.995 ? r.toFixed(1) : r.toFixed(2));

/** The latency comparison of `region` with `control` over whole intervals since the deploy. */
export async function compareLatency(
  latency: { query: string; threshold: number },
  region: string,
  control: string,
  q: CountQuery,
  alpha: number,
  beta: number,
): Promise<LatencyOutcome> {
  const since = { startMs: q.since + q.stepMs, endMs: q.since + q.intervals * q.stepMs, stepMs: q.stepMs };
  const beforeStep = Math.max(q.stepMs, Math.ceil(q.beforeMs / MAX_BEFORE_POINTS / 1000) * 1000);
  const before = { startMs: q.since - q.beforeMs + q.stepMs, endMs: q.since, stepMs: beforeStep };
  const got = await Promise.all([
    values(latency.query, region, q, since),
    values(latency.query, control, q, since),
    values(latency.query, region, q, before),
    values(latency.query, control, q, before),
  ]);
  for (const g of got) if (!(g instanceof Map)) return { ok: false, ...g };
  const [t, c, t0, c0] = got as Values[];
  const x = logRatios(t!, c!);
  const y = logRatios(t0!, c0!);
  const words = `${region} latency`;
  if (x.length < 3 || y.length < 3) {
    return {
      ok: true,
      evidence: { ratio: NaN, interval: [NaN, NaN], pValue: NaN, samples: [x.length, y.length], verdict: 'undecided' },
      line: `${words}: undecided, ${x.length} intervals since the deploy and ${y.length} before it have a latency in both regions (3 of each needed)`,
    };
  }
  const k = x.length;
  const share = 6 / (Math.PI * Math.PI * k * k);
  let shown: ReturnType<typeof rankTest>;
  let failing: ReturnType<typeof rankTest>;
  let passing: ReturnType<typeof rankTest>;
  try {
    shown = rankTest(x, y, 1 - alpha);
    failing = rankTest(x, y, 1 - 2 * alpha * share);
    passing = rankTest(x, y, 1 - 2 * beta * share);
  } catch (err) {
    return { ok: false, verdict: 'inconclusive', detail: `${words} cannot be compared: ${err instanceof Error ? err.message : String(err)}` };
  }
  const limit = Math.log(latency.threshold);
  const verdict: LatencyEvidence['verdict'] = failing.interval[0] > 0 && shown.estimate >= limit ? 'fail' : passing.interval[1] < limit ? 'pass' : 'undecided';
  const ratio = Math.exp(shown.estimate);
  const interval: [number, number] = [Math.exp(shown.interval[0]), Math.exp(shown.interval[1])];
  const conf = `${Math.round((1 - alpha) * 100)} % CI ${ratioText(interval[0])}–${ratioText(interval[1])}×`;
  const outcome =
    verdict === 'fail'
      ? `fail (worse than ${ratioText(latency.threshold)}× and not by chance)`
      : verdict === 'pass'
        ? `pass (a ${ratioText(latency.threshold)}× slowdown is ruled out)`
        : `undecided (looking for ${ratioText(latency.threshold)}×)`;
  return {
    ok: true,
    evidence: { ratio, interval, pValue: shown.pValue, samples: [x.length, y.length], verdict },
    line: `${words} ${ratioText(ratio)}× its control ${control} (${conf}) relative to before the deploy, over ${x.length} and ${y.length} intervals: ${outcome}`,
  };
}
