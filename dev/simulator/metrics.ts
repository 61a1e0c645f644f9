// GET /metrics and /metrics/:region: the synthetic traffic and what each region runs, in
// Prometheus text format, for the SLO provider's Prometheus to scrape.
import type { FaultInjector } from './faults';
import type { Fleet, RunningVersion } from './fleet';
import { methodNotAllowed, noRoute, requireKnownRegion, type HttpCall } from './http';
import { LATENCY_BUCKETS_SECONDS, type LatencySeries } from './latency';
import type { RequestCounter, Traffic } from './traffic';

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The exposition text; `hidden` regions are left out. */
export function renderMetrics(
  counters: Iterable<RequestCounter>,
  running: Iterable<RunningVersion>,
  hidden: (region: string) => boolean,
  latency: Iterable<LatencySeries> = [],
): string {
  const lines: string[] = [
    '# HELP mrcd_sim_requests_total Synthetic requests served, by service, region, version and HTTP status code.',
    '# TYPE mrcd_sim_requests_total counter',
  ];
  const sorted = [...counters].sort((a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region) || a.version.localeCompare(b.version));
  for (const c of sorted) {
    if (hidden(c.region)) continue;
    const base = `service="${labelValue(c.service)}",region="${labelValue(c.region)}",version="${labelValue(c.version)}"`;
    // The 500 series is written even at zero so error-ratio queries have a numerator.
    lines.push(`mrcd_sim_requests_total{${base},code="200"} ${c.ok}`);
    lines.push(`mrcd_sim_requests_total{${base},code="500"} ${c.err}`);
  }
  lines.push('# HELP mrcd_sim_region_version_info The version each region runs for each service; always 1.', '# TYPE mrcd_sim_region_version_info gauge');
  const shown = [...running].filter((r) => !hidden(r.region));
  shown.sort((a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region));
  for (const r of shown) {
    lines.push(`mrcd_sim_region_version_info{service="${labelValue(r.service)}",region="${labelValue(r.region)}",version="${labelValue(r.version)}"} 1`);
  }
  renderLatency(lines, latency, hidden);
  return lines.join('\n') + '\n';
}

/** The latency histograms, after everything else; with no series, not even their HELP, so the default page is unchanged. */
function renderLatency(lines: string[], latency: Iterable<LatencySeries>, hidden: (region: string) => boolean): void {
  const shown = [...latency].filter((h) => !hidden(h.region));
  if (shown.length === 0) return;
  shown.sort((a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region) || a.version.localeCompare(b.version));
  const name = 'mrcd_sim_request_duration_seconds';
  lines.push(
    `# HELP ${name} Synthetic request latency, by service, region and version (regions with a latency traffic profile only).`,
    `# TYPE ${name} histogram`,
  );
  for (const h of shown) {
    const base = `service="${labelValue(h.service)}",region="${labelValue(h.region)}",version="${labelValue(h.version)}"`;
    LATENCY_BUCKETS_SECONDS.forEach((le, i) => lines.push(`${name}_bucket{${base},le="${le}"} ${h.cumulative[i]}`));
    lines.push(`${name}_bucket{${base},le="+Inf"} ${h.count}`, `${name}_sum{${base}} ${h.sumSeconds}`, `${name}_count{${base}} ${h.count}`);
  }
}

export class MetricsEndpoint {
  constructor(
    private readonly regions: ReadonlySet<string>,
    private readonly faults: FaultInjector,
    private readonly fleet: Fleet,
    private readonly traffic: Traffic,
  ) {}

  serve(call: HttpCall): void {
    const { res, segs, method } = call;
    if (segs.length > 2) throw noRoute(call);
    if (method !== 'GET') return methodNotAllowed(res, 'GET');
    const region = segs[1];
    // /metrics/:region lets Prometheus scrape each region as its own target, so a
    // regional metricsOutage shows up as that target being down.
    if (region !== undefined) requireKnownRegion(this.regions, region);
    if (this.faults.get(region, 'metricsOutage')) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics unavailable (injected)\n');
      return;
    }
    const hidden = (r: string) => (region !== undefined ? r !== region : this.faults.get(r, 'metricsOutage') === true);
    const text = renderMetrics(this.traffic.requestCounters(), this.fleet.running(), hidden, this.traffic.latencySeries());
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
