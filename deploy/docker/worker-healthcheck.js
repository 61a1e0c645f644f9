// The worker container's health: its metrics endpoint answers. Run by the Dockerfile's
// HEALTHCHECK and docker-compose.yml. The contract with the worker: it serves Prometheus
// metrics at http://<any interface>:$MRCD_METRICS_PORT/metrics. Without MRCD_METRICS_PORT
// there is nothing to probe and the container counts as healthy while its process runs.
'use strict';
const port = process.env.MRCD_METRICS_PORT;
if (!port) process.exit(0);
fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
