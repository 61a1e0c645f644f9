// The plan most integration tests roll out against the region simulator: its HTTP deployer,
// and a gate on the error ratio its health endpoint reports. Each test says what differs.

export interface SimulatorPlanOptions {
  service: string;
  version: string;
  regions: readonly string[];
  soak?: string;
  team?: string;
  /** Replaces the simulator's HTTP deployer. */
  deployer?: unknown;
  /** More fields of each region, by its index. */
  region?: (name: string, i: number) => Record<string, unknown>;
  /** More top-level fields (migrations, failurePolicy…). */
  extra?: Record<string, unknown>;
}

/** A plan for the simulator at `simUrl`: regions sized 10, 20, 30…, 500 ms checks, error ratio < 0.05. */
export function simulatorPlan(simUrl: string, o: SimulatorPlanOptions) {
  return {
    service: o.service,
    version: o.version,
    owner: { team: o.team ?? 'payments', contact: '#payments-oncall', runbook: `https://runbooks.example.com/${o.service}` },
    deployer: o.deployer ?? { type: 'http', baseUrl: simUrl, pollInterval: '100ms', timeout: '30s' },
    defaults: {
      soak: o.soak ?? '2s',
      checkInterval: '500ms',
      gate: {
        maxInconclusive: 20,
        checks: [
          {
            name: 'error-ratio',
            source: { type: 'http', url: `${simUrl}/health/{{region}}?service={{service}}`, path: 'errorRatio' },
            comparator: '<',
            threshold: 0.05,
          },
        ],
      },
    },
    regions: o.regions.map((name, i) => ({ name, size: (i + 1) * 10, ...o.region?.(name, i) })),
    ...o.extra,
  };
}
