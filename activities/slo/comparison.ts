// The comparison provider: the soaking region against a control region still on the old
// version, relative to both regions' window before the deploy (a difference-in-differences,
// docs/comparisons.md). The decision is a sequential test on the error counts
// (domain/statistics/count-test.ts): `fail` as soon as the evidence of a regression reaches
// 1/alpha, `pass` once a regression of the threshold's size is ruled out, and until then an
// inconclusive verdict marked `pending` (undecided, not short of data). Fail-closed like every
// provider: no control, a control that changed version, a stale or missing count, NaN, or
// a Prometheus fault is never a pass.
import type { Check } from '../../plan';
import type { CheckResult, ComparisonEvidence, CountCell, SloContext } from '../../domain/activity-contract';
import { readDuration, formatDuration } from '../../domain/duration';
import { sequentialCountTest, type Pair } from '../../domain/statistics/count-test';
import { detectableRatio } from '../../domain/statistics/power';
import { DEFAULT_TIMEOUT_MS } from './http';
import { DEFAULT_STALE_AFTER_MS, prometheusAccess, type PrometheusOptions } from './prometheus';
import { regionCounts, stillScraped, versionsServed, type CountQuery } from './comparison-counts';
import { compareLatency } from './comparison-latency';

export type ComparisonSourceOf = Extract<Check['source'], { type: 'comparison' }>;
export type ComparisonCheck = Check & { source: ComparisonSourceOf };

const DEFAULT_STEP_MS = 60_000;

/** A ratio as people read it: 2.3, 1.05, 0.87. */
function ratioText(r: number): string {
  if (!Number.isFinite(r)) return r > 0 ? '∞' : '0';
  return r >= 10 ? r.toFixed(0) : r >= 1.995 ? r.toFixed(1) : r.toFixed(2);
}

function add(a: CountCell, b: CountCell): CountCell {
  return { errors: a.errors + b.errors, requests: a.requests + b.requests };
}

const countText = (c: CountCell) => `${Math.round(c.requests).toLocaleString('en-US')} requests, ${Math.round(c.errors).toLocaleString('en-US')} errors`;

/** Evaluates one comparison for `ctx` over the whole intervals since the deploy. Never throws but for cancellation. */
export async function evaluateComparisonCheck(check: ComparisonCheck, ctx: SloContext, opts: PrometheusOptions = {}): Promise<CheckResult> {
  const now = (opts.now ?? Date.now)();
  const src = check.source;
  const base = { name: check.name, comparator: check.comparator, threshold: check.threshold, ...(check.shadow ? { shadow: true } : {}) };
  const result = (verdict: CheckResult['verdict'], detail: string, extra: Partial<CheckResult> = {}): CheckResult => ({ ...base, verdict, detail, ...extra });

  const access = prometheusAccess(src, ctx);
  if (!access.ok) return result('error', access.detail, { retryable: false });
  // Normalization resolves `auto` to the regions after this one; a plain name is one control.
  if (src.control === 'auto')
    return result('error', 'the comparison reached the worker with control "auto" unresolved: the plan was not normalized', { retryable: false });
  const controls = [src.control].flat();
  const stepMs = (src.step && readDuration(src.step)) || DEFAULT_STEP_MS;
  const beforeMs = readDuration(src.before) ?? 3_600_000;
  const beforeText = formatDuration(beforeMs);
  const intervals = Math.floor((now - ctx.since) / stepMs);
  if (intervals < 1) {
    return result('inconclusive', `undecided: the first ${formatDuration(stepMs)} interval since the deploy has not ended yet`, { pending: true });
  }
  const q: CountQuery = {
    ...access,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(opts.signal ? { signal: opts.signal } : {}),
    service: ctx.service,
    since: ctx.since,
    stepMs,
    intervals,
    beforeMs,
    staleAfterMs: opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
  };

  // The control is chosen on the window before the deploy, so every evaluation of this soak
  // compares with the same region: the first candidate that then served one version, not
  // the new one. A control that changes version later makes the comparison inconclusive.
  const passedOver: string[] = [];
  let control: { name: string; version: string } | undefined;
  for (const name of controls) {
    const v = await versionsServed(src, name, q, beforeMs, ctx.since);
    if (!v.ok) return result(v.verdict, v.detail, v.retryable !== undefined ? { retryable: v.retryable } : {});
    if (v.versions.length === 0) passedOver.push(`${name} served no requests in the ${beforeText} before the deploy`);
    else if (v.versions.length > 1) passedOver.push(`${name} served ${v.versions.join(' and ')} in the ${beforeText} before the deploy`);
    else if (v.versions[0] === '') passedOver.push(`${name}'s series have no ${src.versionLabel} label, so a deploy to it could not be seen`);
    else if (v.versions[0] === ctx.version) passedOver.push(`${name} already ran ${ctx.version}, the version under test`);
    else {
      control = { name, version: v.versions[0]! };
      break;
    }
  }
  if (!control) {
    const why = controls.length === 0 ? 'the plan gives no control region' : passedOver.join('; ');
    return result('inconclusive', `no control region still on the old version to compare ${ctx.region} with: ${why}`);
  }
  const since = await versionsServed(src, control.name, q, now - ctx.since + beforeMs, now);
  if (!since.ok) return result(since.verdict, since.detail, since.retryable !== undefined ? { retryable: since.retryable } : {});
  const changed = since.versions.filter((v) => v !== control.version);
  if (changed.length > 0) {
    return result(
      'inconclusive',
      `the control ${control.name} changed version during the soak (${control.version} → ${changed.join(', ')}): a comparison with it says nothing about ${ctx.version}`,
    );
  }

  const [t, c, tNow, cNow] = await Promise.all([
    regionCounts(src, ctx.region, q),
    regionCounts(src, control.name, q),
    stillScraped(src, ctx.region, q, now),
    stillScraped(src, control.name, q, now),
  ]);
  for (const side of [t, c, tNow, cNow])
    if (!side.ok) return result(side.verdict, side.detail, side.retryable !== undefined ? { retryable: side.retryable } : {});
  if (!t.ok || !c.ok || !tNow.ok || !cNow.ok) throw new Error('unreachable');
  if (!tNow.current || !cNow.current) {
    const stale = [!tNow.current ? ctx.region : undefined, !cNow.current ? control.name : undefined].filter(Boolean).join(' and ');
    return result(
      'inconclusive',
      `stale data: the series of ${stale} have no current sample (the target is down or no longer scraped), so the counts describe only the time before that`,
    );
  }
  const soak: Pair[] = [];
  for (let k = 0; k < intervals; k++) {
    const tk = t.perInterval[k];
    const ck = c.perInterval[k];
    if (tk && ck) soak.push({ treatment: tk, control: ck });
  }
  if (soak.length === 0)
    return result('inconclusive', `undecided: no interval since the deploy has counts for both ${ctx.region} and ${control.name} yet`, { pending: true });
  if (c.before.requests <= 0 || t.before.requests <= 0) {
    return result(
      'inconclusive',
      `no requests in the ${beforeText} before the deploy in ${t.before.requests <= 0 ? ctx.region : control.name}: there is no relationship to compare with`,
    );
  }

  const beta = 1 - src.power;
  let test: ReturnType<typeof sequentialCountTest>;
  try {
    test = sequentialCountTest({ pre: { treatment: t.before, control: c.before }, soak, alpha: src.alpha, beta, targetRatio: check.threshold });
  } catch (err) {
    return result('inconclusive', `the counts cannot be compared: ${err instanceof Error ? err.message : String(err)}`);
  }
  const totals = soak.reduce((acc, p) => ({ treatment: add(acc.treatment, p.treatment), control: add(acc.control, p.control) }), {
    treatment: { errors: 0, requests: 0 },
    control: { errors: 0, requests: 0 },
  });
  // What these soak counts could tell at the rates before the deploy (half an error added, so
  // a region without errors still has a rate to plan with).
  const detectable = detectableRatio({
    treatmentRequests: totals.treatment.requests,
    controlRequests: totals.control.requests,
    treatmentErrorRate: (t.before.errors + 0.5) / t.before.requests,
    controlErrorRate: (c.before.errors + 0.5) / c.before.requests,
    alpha: src.alpha,
    beta,
    targetRatio: check.threshold,
    treatmentBefore: t.before,
    controlBefore: c.before,
  });
  const comparison: ComparisonEvidence = {
    control: control.name,
    ratio: test.ratio,
    interval: test.interval,
    region: totals.treatment,
    controlCounts: totals.control,
    before: { region: t.before, control: c.before },
    eRegression: test.eRegression,
    eSafe: test.eSafe,
    detectable,
    intervals: soak.length,
  };
  const conf = `${Math.round((1 - src.alpha) * 100)} % CI ${ratioText(test.interval[0])}–${ratioText(test.interval[1])}×`;
  const line = `${ctx.region} errors ${ratioText(test.ratio)}× its control ${control.name} (${conf}), relative to the ${beforeText} before the deploy`;
  const seen = ` Since the deploy: ${countText(totals.treatment)} in ${ctx.region}; ${countText(totals.control)} in ${control.name}`;
  const counts = ((): { verdict: 'fail' | 'pass' | 'undecided'; words: string } => {
    switch (test.decision) {
      case 'fail':
        return {
          verdict: 'fail',
          words: `${line}: fail. The evidence of a regression (${ratioText(test.eRegression)}) passed 1/alpha = ${ratioText(1 / src.alpha)}.`,
        };
      case 'pass':
        return { verdict: 'pass', words: `${line}: pass. A ${ratioText(check.threshold)}× regression is ruled out (power ${src.power}).` };
      case 'continue': {
        const tell = Number.isFinite(detectable) ? `${ratioText(detectable)}×` : 'no ratio';
        return {
          verdict: 'undecided',
          words: `${line}: undecided so far. The counts can tell ${tell} from noise; the check looks for ${ratioText(check.threshold)}×.`,
        };
      }
      default:
        throw new Error(`unknown decision ${String(test.decision)}`);
    }
  })();
  // With a latency comparison, either half failing fails the check; both must pass to pass.
  let latencyWords = '';
  if (src.latency) {
    const l = await compareLatency(src.latency, ctx.region, control.name, q, src.alpha, beta);
    if (!l.ok) return result(l.verdict, l.detail, l.retryable !== undefined ? { retryable: l.retryable } : {});
    comparison.latency = l.evidence;
    latencyWords = ` ${l.line}.`;
  }
  const halves = [counts.verdict, ...(comparison.latency ? [comparison.latency.verdict] : [])];
  const extra = { value: test.ratio, comparison };
  const detail = `${counts.words}${latencyWords}${seen}`;
  if (halves.includes('fail')) return result('fail', detail, extra);
  if (halves.every((h) => h === 'pass')) return result('pass', detail, extra);
  return result('inconclusive', detail, { ...extra, pending: true });
}
