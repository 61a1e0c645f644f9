// `mrcd plan --power`: can each comparison check tell its threshold within the soak the plan
// gives it? The traffic the region and its control served recently (Prometheus, instant
// queries over the history) gives the counts expected over the soak; the check's own power
// formula (domain/statistics/power.ts) turns them into the smallest ratio the soak can tell.
// The client never loads activity code (.dependency-cruiser.cjs), so Prometheus' envelope is
// read here again, as carefully: whatever Prometheus cannot say is a `problem`, never enough.
import { detectableRatio } from '../domain/statistics/power';
import { formatDuration, parseDuration } from '../domain/duration';
import { promDuration, renderPromQL, TemplateError } from '../plan/promql';
import type { NormalizedPlan } from '../plan/normalize';

/** What one region served over the history, per second: what its expected counts over a soak are made of. */
export interface Traffic {
  region: string;
  requestsPerSecond: number;
  /** Errors per request, 0–1. */
  errorRatio: number;
}

/** One comparison check of one region: how large a ratio its soak can tell, and whether that reaches the threshold. */
export interface RegionPower {
  region: string;
  check: string;
  /** The check in the normalized plan, e.g. `regions[0].gate.checks[1]`. */
  path: string;
  historyMs: number;
  soakMs: number;
  maxSoakMs: number;
  /** The ratio the check is to detect: its threshold. */
  threshold: number;
  here?: Traffic;
  control?: Traffic;
  /** The smallest ratio the soak can tell; null when none up to 1000× (too few errors expected). */
  detectableRatio?: number | null;
  /** Whether the soak can tell the threshold; never true with a `problem`. */
  enough: boolean;
  /** The shortest soak that can tell the threshold (whole seconds); null when not even 7 days can. */
  neededSoakMs?: number | null;
  /** The check's window before the deploy, and the ratio a week's soak could tell with it. */
  beforeFloor?: { before: string; ratio: number };
  /** Why Prometheus could not say: unreachable, no series, NaN, an error, a token not set. */
  problem?: string;
  /** Prometheus warned that an answer may be partial. */
  warnings?: string[];
}

export interface PowerOptions {
  /** How far back traffic is read, ms. */
  history: number;
  /** The evaluation time of the queries (epoch ms); Prometheus' own now when absent. */
  now?: number;
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
  /** Per query. */
  timeoutMs?: number;
}

/** The longest soak a plan may give (DURATION_BOUNDS in plan/schema.ts): the bisection's upper end. */
export const LONGEST_SOAK_MS = 7 * 86_400_000;

type Answer = { ok: true; value: number | undefined; warnings: string[] } | { ok: false; problem: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (url: string) => url.replace(/\/\/[^/@]*@/, '//').replace(/\/+$/, ''); // no userinfo in messages
const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 199)}…` : s);

/** Prometheus' sample text ("NaN", "+Inf", a Go float) as a number; undefined for anything else. */
function sampleValue(raw: unknown): number | undefined {
  if (raw === 'NaN' || raw === '+Inf' || raw === '-Inf') return raw === 'NaN' ? NaN : raw === '+Inf' ? Infinity : -Infinity;
  return typeof raw === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : undefined;
}

/** Prometheus' JSON envelope of an instant query: one series (or none), its value, its warnings. */
function readEnvelope(status: number, body: string, where: string): Answer {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    doc = undefined;
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : '?');
  if (isObject(doc) && doc.status === 'error')
    return { ok: false, problem: `${where} refused the query (${text(doc.errorType)}, HTTP ${status}): ${clip(text(doc.error))}` };
  if (status === 401 || status === 403) return { ok: false, problem: `${where} answered HTTP ${status}: not authorized (the check's tokenEnv)` };
  if (status < 200 || status >= 300) return { ok: false, problem: `${where} answered HTTP ${status}` };
  if (!isObject(doc) || doc.status !== 'success' || !isObject(doc.data))
    return { ok: false, problem: `${where} answered something not Prometheus' API envelope` };
  const { resultType, result } = doc.data;
  if (resultType !== 'vector' || !Array.isArray(result)) return { ok: false, problem: `${where} answered a ${String(resultType)}, not an instant vector` };
  if (result.length > 1) return { ok: false, problem: `the query returned ${result.length} series; aggregate it to one, e.g. with sum()` };
  const warnings = Array.isArray(doc.warnings) ? doc.warnings.filter((w): w is string => typeof w === 'string') : [];
  if (result.length === 0) return { ok: true, value: undefined, warnings };
  const pair = isObject(result[0]) ? result[0].value : undefined;
  const value = Array.isArray(pair) && pair.length === 2 ? sampleValue(pair[1]) : undefined;
  if (value === undefined) return { ok: false, problem: `${where} answered a sample without a [time, "value"] pair` };
  return { ok: true, value, warnings };
}

type Reader = ReturnType<typeof reader>;

/** Instant queries, each asked once per run; a Prometheus that did not answer is not asked again. */
function reader(o: PowerOptions) {
  const doFetch = o.fetch ?? fetch;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const answers = new Map<string, Promise<Answer>>();
  const down = new Map<string, string>();
  const ask = async (url: string, token: string | undefined, promql: string): Promise<Answer> => {
    const where = `Prometheus at ${shown(url)}`;
    const known = down.get(url);
    if (known) return { ok: false, problem: known };
    const params = new URLSearchParams({ query: promql, timeout: `${Math.max(1, Math.ceil(timeoutMs / 1000))}s` });
    if (o.now !== undefined) params.set('time', (o.now / 1000).toFixed(3));
    try {
      const res = await doFetch(`${url.replace(/\/+$/, '')}/api/v1/query?${params.toString()}`, {
        headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      return readEnvelope(res.status, await res.text(), where);
    } catch (e) {
      const err = e as Error & { cause?: { message?: string } };
      const problem =
        err.name === 'TimeoutError'
          ? `${where}: no answer within ${formatDuration(timeoutMs)}`
          : `${where} is unreachable: ${err.cause?.message ?? err.message}`;
      down.set(url, problem);
      return { ok: false, problem };
    }
  };
  return {
    ask(url: string, token: string | undefined, promql: string): Promise<Answer> {
      const key = `${url}\n${token ?? ''}\n${promql}`;
      if (!answers.has(key)) answers.set(key, ask(url, token, promql));
      return answers.get(key)!;
    },
  };
}

type Source = { errors: string; requests: string; control: string | string[]; before: string; alpha: number; power: number; url?: string; tokenEnv?: string };
type Counts = { ok: true; requests: number | undefined; errors: number; warnings: string[] } | { ok: false; problem: string };

/** A region's requests (undefined: no series) and errors over the history; no error series counts as none, as the check does. */
async function counts(read: Reader, s: Source, token: string | undefined, service: string, region: string, history: number): Promise<Counts> {
  const warnings: string[] = [];
  const one = async (template: string, what: string): Promise<number | undefined | string> => {
    let promql: string;
    try {
      promql = renderPromQL(template, { service, region, version: '', window: promDuration(history) });
    } catch (e) {
      if (e instanceof TemplateError) return `bad ${what} query: ${e.message}`;
      throw e;
    }
    const a = await read.ask(s.url!, token, promql);
    if (!a.ok) return `${region} ${what}: ${a.problem}`;
    warnings.push(...a.warnings.map((w) => `${region} ${what}: ${clip(w)}`));
    if (a.value !== undefined && !(Number.isFinite(a.value) && a.value >= 0)) return `the ${what} query for ${region} returned ${a.value}, which is no count`;
    return a.value;
  };
  const requests = await one(s.requests, 'requests');
  if (typeof requests === 'string') return { ok: false, problem: requests };
  if (!requests) return { ok: true, requests, errors: 0, warnings };
  const errors = await one(s.errors, 'errors');
  if (typeof errors === 'string') return { ok: false, problem: errors };
  // increase() extrapolates each counter on its own: errors may come out a hair above requests.
  return { ok: true, requests, errors: Math.min(errors ?? 0, requests), warnings };
}

/** The shortest soak (whole seconds) whose counts can tell the threshold, or null within LONGEST_SOAK_MS. */
function neededSoak(tells: (soakMs: number) => boolean): number | null {
  if (!tells(LONGEST_SOAK_MS)) return null;
  // More requests only ever shrink the detectable ratio, so the soaks that tell are one interval up to 7 days.
  let lo = 0;
  let hi = LONGEST_SOAK_MS;
  while (hi - lo > 1000) {
    const mid = (lo + hi) / 2;
    if (tells(mid)) hi = mid;
    else lo = mid;
  }
  return Math.ceil(hi / 1000) * 1000;
}

async function checkPower(read: Reader, plan: NormalizedPlan, i: number, j: number, o: PowerOptions): Promise<RegionPower> {
  const r = plan.regions[i]!;
  const c = r.gate.checks[j]!;
  const s = c.source as Source;
  const h = o.history;
  const base: RegionPower = {
    region: r.name,
    check: c.name,
    path: `regions[${i}].gate.checks[${j}]`,
    historyMs: h,
    soakMs: r.soakMs,
    maxSoakMs: r.maxSoakMs,
    threshold: c.threshold,
    enough: false,
  };
  const problem = (text: string): RegionPower => ({ ...base, problem: text });
  const url = s.url ?? plan.prometheus?.url;
  if (!url) return problem('the check names no Prometheus (source.url or the plan prometheus.url)');
  const env = o.env ?? process.env;
  const token = s.tokenEnv ? env[s.tokenEnv] : undefined;
  if (s.tokenEnv && !token) return problem(`$${s.tokenEnv} is not set: the check reads Prometheus with that token (the worker has it); set it here to measure`);
  const src = { ...s, url };
  const here = await counts(read, src, token, plan.service, r.name, h);
  if (!here.ok) return problem(here.problem);
  if (here.requests === undefined) return problem(`the requests query for ${r.name} returned no series over the last ${formatDuration(h)}`);
  if (here.requests === 0) return problem(`${r.name} served no requests over the last ${formatDuration(h)}: nothing to measure its soak by`);
  // `auto` is resolved by normalization; an older plan may still carry it.
  const candidates = Array.isArray(s.control) ? s.control : s.control === 'auto' ? plan.regions.slice(i + 1).map((x) => x.name) : [s.control];
  // The first candidate that served requests, as the check picks its control; a candidate
  // Prometheus cannot say anything about leaves the choice unknown.
  let there: Extract<Counts, { ok: true }> | undefined;
  let control: string | undefined;
  for (const name of candidates) {
    const x = await counts(read, src, token, plan.service, name, h);
    if (!x.ok) return problem(x.problem);
    if (!x.requests) continue;
    [there, control] = [x, name];
    break;
  }
  if (!there || !control) return problem(`no control served requests over the last ${formatDuration(h)} (candidates: ${candidates.join(', ') || 'none'})`);
  const traffic = (region: string, x: { requests?: number; errors: number }): Traffic => {
    const requests = x.requests ?? 0; // > 0 for both: checked above
    return { region, requestsPerSecond: requests / (h / 1000), errorRatio: x.errors / requests };
  };
  const t = traffic(r.name, here);
  const k = traffic(control, there);
  const warnings = [...here.warnings, ...there.warnings];
  // The check's window before the deploy, at these rates: how well it will know the regions'
  // relationship bounds what any soak can tell.
  const beforeMs = parseDuration(s.before) ?? 3_600_000;
  const expected = (x: Traffic, ms: number) => {
    const requests = (x.requestsPerSecond * ms) / 1000;
    return { requests, errors: requests * x.errorRatio };
  };
  const ratioAt = (soakMs: number) =>
    detectableRatio({
      treatmentRequests: (t.requestsPerSecond * soakMs) / 1000,
      controlRequests: (k.requestsPerSecond * soakMs) / 1000,
      treatmentErrorRate: t.errorRatio,
      controlErrorRate: k.errorRatio,
      alpha: s.alpha,
      beta: 1 - s.power,
      targetRatio: c.threshold,
      treatmentBefore: expected(t, beforeMs),
      controlBefore: expected(k, beforeMs),
    });
  try {
    const ratio = ratioAt(r.soakMs);
    return {
      ...base,
      here: t,
      control: k,
      detectableRatio: Number.isFinite(ratio) ? ratio : null,
      enough: ratio <= c.threshold,
      neededSoakMs: neededSoak((ms) => ratioAt(ms) <= c.threshold),
      // However long the soak, the window before the deploy bounds how well the regions'
      // relationship is known: said apart, since its fix is a longer `before`, not a soak.
      beforeFloor: { before: s.before, ratio: ratioAt(7 * 24 * 3_600_000) },
      ...(warnings.length ? { warnings } : {}),
    };
  } catch (e) {
    return problem(`the power formula refused the counts: ${(e as Error).message}`);
  }
}

/**
 * Per region and comparison check, in plan order: the traffic of the region and its control
 * over `opts.history`, the smallest ratio the region's soak can tell at that traffic, and the
 * soak needed to tell the check's threshold. Never throws for Prometheus: its failures are
 * each entry's `problem`.
 */
export async function soakPower(plan: NormalizedPlan, opts: PowerOptions): Promise<RegionPower[]> {
  const read = reader(opts);
  const out: RegionPower[] = [];
  // One check after another: the answers are shared (a control is often every region's), and
  // a 50-region plan should not send Prometheus 200 week-long queries at once.
  for (const [i, r] of plan.regions.entries()) {
    for (const [j, c] of r.gate.checks.entries()) if (c.source.type === 'comparison') out.push(await checkPower(read, plan, i, j, opts));
  }
  return out;
}
