// The worker container's health: its metrics endpoint answers. Run by the Dockerfile's
// HEALTHCHECK and docker-compose.yml. The contract with the worker (worker/config.ts): it
// serves Prometheus metrics at http://$MRCD_METRICS_HOST:$MRCD_METRICS_PORT/metrics, host
// 127.0.0.1 by default; an unspecified host (0.0.0.0, ::) is every interface, so the probe
// asks loopback. Without MRCD_METRICS_PORT there is nothing to probe and the container
// counts as healthy while its process runs.
'use strict';
const port = process.env.MRCD_METRICS_PORT;
if (!port) process.exit(0);
const host = (process.env.MRCD_METRICS_HOST ?? '').trim();
const probed = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
fetch(`http://${probed}:${port.trim()}/metrics`, { signal: AbortSignal.timeout(3000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
