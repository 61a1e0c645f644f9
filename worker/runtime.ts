// The SDK's runtime: installed once per process, before any connection or worker exists
// (a second install throws in the SDK). It routes the SDK's logs through our logger and,
// when the worker is asked to, serves Prometheus metrics: the SDK's own (workers, polls,
// workflow and activity tasks, requests: temporal_*) and the rollout metrics
// (domain/metrics.ts: mrcd_*) on one endpoint. Only worker/main.ts asks: the dev stack
// and the tests run several workers in one process, and a port is the process's.
import type { Logger } from 'pino';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { METRIC_BUCKETS } from '../domain/metrics';
import type { MetricsEndpoint } from './config';

const SDK_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

export interface RuntimeOptions {
  shutdownSignals?: NodeJS.Signals[];
  /** Serve /metrics here; no endpoint without it. */
  metrics?: MetricsEndpoint;
}

/** host:port as the exporter parses it: an IPv6 address in brackets. */
export function bindAddress({ host, port }: MetricsEndpoint): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

let installed = false;
/** Installs the runtime once per process; throws when the metrics port cannot be bound. */
export function installRuntime(logger: Logger, { shutdownSignals = ['SIGINT', 'SIGTERM'], metrics }: RuntimeOptions = {}): void {
  if (installed) return;
  const forward = new DefaultLogger(SDK_LEVEL[logger.level] ?? 'INFO', (entry) => {
    const method =
      entry.level === 'TRACE' ? 'trace' : entry.level === 'DEBUG' ? 'debug' : entry.level === 'WARN' ? 'warn' : entry.level === 'ERROR' ? 'error' : 'info';
    logger[method]({ ...(entry.meta ?? {}) }, entry.message);
  });
  Runtime.install({
    logger: forward,
    shutdownSignals,
    ...(metrics
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: bindAddress(metrics),
                // Prometheus' conventions (counters end in _total, durations in seconds with the
                // unit in the name), which are also the names Temporal's SDK dashboards query.
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
                histogramBucketOverrides: METRIC_BUCKETS,
              },
            },
          },
        }
      : {}),
  });
  installed = true;
}
