// The production Temporal server (built by scripts/build-temporal-server.js) on the private
// PostgreSQL of postgres.ts: schema set up with temporal-sql-tool from the module's own
// versioned schema directories, a config file generated from the module's
// config/development-postgres12.yaml with every port moved to a free 127.0.0.1 port, the
// namespace and our search attributes registered with the Temporal CLI, as an operator
// would (docs/operations.md). start() may be called again after kill9() to restart the
// same cluster on the same ports and database.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Connection } from '@temporalio/client';
import { freePort } from '../../dev/ports';
import { waitForTemporal } from '../../dev/temporal-server';
import { findTemporalCli, INSTALL_HINT } from '../../dev/temporal-binaries';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { missingSearchAttributes } from '../../worker/search-attributes';
import type { Postgres } from './postgres';
import { kill9, runOrThrow, startProcess, stopProcess, tail, type Proc } from './processes';

export interface ServerTools {
  server: string;
  sqlTool: string;
  /** .../schema/postgresql/v12 (temporal/ and visibility/ below it). */
  schema: string;
}

const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;

/** Creates both databases and brings their schemas to the newest version the module ships. */
export function setupSchema(tools: ServerTools, pg: Postgres): void {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
  };
  for (const [kind, db] of Object.entries(DATABASES)) {
    const dbEnv = { ...env, SQL_DATABASE: db };
    const sql = (what: string, args: string[]) => runOrThrow(`temporal-sql-tool ${what} (${db})`, tools.sqlTool, args, { env: dbEnv });
    sql('create-database', ['create-database']);
    sql('setup-schema', ['setup-schema', '-v', '0.0']);
    sql('update-schema', ['update-schema', '-d', join(tools.schema, kind, 'versioned')]);
  }
}

export interface ClusterPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

/** A free 127.0.0.1 port below 32768: cluster_membership stores membership ports as smallint. */
function freeLowPort(taken: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const attempt = (left: number) => {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (taken.includes(port)) return attempt(left);
      const srv = createServer();
      srv.once('error', () => (left > 0 ? attempt(left - 1) : reject(new Error('no free port below 32768 on 127.0.0.1'))));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(port)));
    };
    attempt(100);
  });
}

async function pickPorts(): Promise<ClusterPorts> {
  const ports: number[] = [];
  // gRPC, HTTP and metrics ports anywhere; the membership ports (PostgreSQL smallint) below 32768.
  const pick = async (low = false) => {
    let p: number;
    do p = low ? await freeLowPort(ports) : await freePort();
    while (ports.includes(p));
    ports.push(p);
    return p;
  };
  return {
    frontend: await pick(),
    frontendHttp: await pick(),
    frontendMembership: await pick(true),
    history: await pick(),
    historyMembership: await pick(true),
    matching: await pick(),
    matchingMembership: await pick(true),
    worker: await pick(),
    workerMembership: await pick(true),
    metrics: await pick(),
  };
}

/** The server config: development-postgres12.yaml's shape, loopback ports of our choosing, archival off. */
export function serverConfig(pg: Postgres, ports: ClusterPorts, dynamicConfigFile: string, numHistoryShards = 4): unknown {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${pg.host}:${pg.port}`,
      connectProtocol: 'tcp',
      user: pg.user,
      password: pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards,
      datastores: { 'postgres-default': store(DATABASES.temporal, 20), 'postgres-visibility': store(DATABASES.visibility, 2) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: 0 },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` } },
    },
    services: {
      frontend: rpc(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
      history: rpc(ports.history, ports.historyMembership),
      matching: rpc(ports.matching, ports.matchingMembership),
      worker: rpc(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** Dynamic config: the module's development-sql.yaml's relevant keys (updates and versioning APIs are on by default in 1.32). */
const DYNAMIC_CONFIG = {
  'limit.maxIDLength': [{ value: 255, constraints: {} }],
  'frontend.enableUpdateWorkflowExecution': [{ value: true }],
  'frontend.workerVersioningWorkflowAPIs': [{ value: true }],
  'history.hostLevelCacheMaxSize': [{ value: 8192 }],
};

export interface TemporalCluster {
  address: string;
  namespace: string;
  ports: ClusterPorts;
  configFile: string;
  /** The running server process (replaced by each start()). */
  proc(): Proc | undefined;
  /** Starts the server and waits until its frontend answers; returns how long that took. */
  start(): Promise<number>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** numHistoryShards is fixed for the life of the database: a cluster restarted on it must pass the same. */
export async function createCluster(tools: ServerTools, pg: Postgres, dir: string, namespace = 'default', numHistoryShards = 4): Promise<TemporalCluster> {
  const ports = await pickPorts();
  const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfigFile, stringify(DYNAMIC_CONFIG));
  const configFile = join(dir, 'temporal-server.yaml');
  writeFileSync(configFile, stringify(serverConfig(pg, ports, dynamicConfigFile, numHistoryShards)), { mode: 0o600 });
  const address = `127.0.0.1:${ports.frontend}`;
  let proc: Proc | undefined;
  let starts = 0;
  return {
    address,
    namespace,
    ports,
    configFile,
    proc: () => proc,
    async start() {
      const t0 = Date.now();
      starts += 1;
      proc = startProcess(
        `temporal-server#${starts}`,
        tools.server,
        ['--config-file', configFile, '--allow-no-auth', 'start'],
        join(dir, 'temporal-server.log'),
        { cwd: dir },
      );
      try {
        await waitForTemporal(address, 60_000, proc.child);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- temporal-server log (last lines) ---\n${tail(proc, 6)}`, { cause: e });
      }
      return Date.now() - t0;
    },
    async kill9() {
      if (proc) await kill9(proc);
    },
    async stop() {
      if (proc) await stopProcess(proc, 'SIGTERM', 15_000);
    },
  };
}

/** Retries fn until it succeeds or timeoutMs passes (a new namespace takes a cache refresh, ~2 s, to be usable everywhere). */
async function retry<T>(what: string, timeoutMs: number, fn: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Registers the namespace and our search attributes the way docs/operations.md tells an
 * operator to: `temporal operator namespace create` and `temporal operator search-attribute
 * create`, then waits until the server lists them.
 */
export async function registerNamespace(cluster: TemporalCluster, retention = '24h'): Promise<void> {
  const cli = findTemporalCli();
  if (!cli) throw new Error(INSTALL_HINT);
  const temporal = (args: string[]) => {
    const r = spawnSync(cli.path, [...args, '--address', cluster.address], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`temporal ${args.join(' ')}: ${`${r.stdout}${r.stderr}`.trim() || r.error?.message}`);
    return r.stdout;
  };
  const exists = () => spawnSync(cli.path, ['operator', 'namespace', 'describe', '--namespace', cluster.namespace, '--address', cluster.address]).status === 0;
  if (!exists()) temporal(['operator', 'namespace', 'create', '--namespace', cluster.namespace, '--retention', retention]);
  // One call per attribute: given several --name, CLI 1.9 registers only the first.
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    await retry(`temporal operator search-attribute create --name ${name}`, 30_000, () =>
      temporal(['operator', 'search-attribute', 'create', '--namespace', cluster.namespace, '--name', name, '--type', type]),
    );
  }
  const conn = await Connection.connect({ address: cluster.address });
  try {
    await retry('listing the search attributes', 30_000, async () => {
      const missing = await missingSearchAttributes(conn, cluster.namespace);
      if (missing.length) throw new Error(`missing ${missing.join(', ')}`);
    });
  } finally {
    await conn.close();
  }
  // Every service's namespace cache refreshes every 2 s (system.namespaceCacheRefreshInterval):
  // the attributes' aliases reach history, which validates upserts, within that.
  await new Promise((r) => setTimeout(r, 2500));
}
