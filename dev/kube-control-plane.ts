// A real Kubernetes control plane for tests, without containers: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok (fake kubelets: nodes that turn Ready and
// pods that turn Running/Ready without running anything), built from the Go module proxy by
// scripts/build-kube-control-plane.js (once per machine; ensured here, so a first use may
// build for ~7 minutes or copy from the outer cache in seconds). Every server binds
// 127.0.0.1 on a port picked now; every file (etcd's data, the serving certificate the
// apiserver generates for itself, the service-account keys, the token file, the
// kubeconfig) is in one temporary directory, removed by stop().
//
// Regions are namespaces: by default one API server and two regions, `region-a` and
// `region-b`, each a kubeconfig context of the same name whose default namespace is the
// region's own (created at start). `clusters: 2` gives each region an API server (and etcd,
// controller manager, scheduler, kwok) of its own instead, round robin. Authentication is by
// static tokens (--token-auth-file): `admin` (group system:masters, all rights) and `nobody`
// (authenticated, no RBAC rights beyond discovery: the `forbidden` context, for RBAC-forbidden
// answers). Authorization is RBAC only.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { pollUntil } from './poll';
import { apiRequest, fakeNode, NODE_ANNOTATION, writeKubeconfig } from './kube-api';
import { ProcessGroup } from './process-group';
export { livePids } from './process-group';

interface ProvisionedControlPlane {
  dir: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
  stagesDir: string;
  stageFiles: string[];
  versions: { kube: string; etcd: string; kwok: string };
  from: 'present' | 'cache' | 'built';
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JS shared with `node scripts/build-kube-control-plane.js`, as in dev/temporal-binaries.ts
const builder = require('../scripts/build-kube-control-plane.js') as {
  KUBE_VERSION: string;
  ensureKubeControlPlane(opts?: { say?: (line: string) => void }): Promise<ProvisionedControlPlane>;
};

export interface KubeControlPlaneOptions {
  /** The regions: one namespace and one kubeconfig context each, of this name. Default region-a, region-b. */
  regions?: string[];
  /** API servers (each with its own etcd, controller manager, scheduler and kwok); regions are spread over them round robin. Default 1. */
  clusters?: number;
  /** Fake (kwok) nodes per API server. Default 1. */
  nodes?: number;
  /** How long start-up may take once the binaries are there. Default 60 s. */
  readyTimeoutMs?: number;
  /** Where the one provisioning line goes (default: stderr, prefixed [mrcd]). */
  say?: (line: string) => void;
}

export interface KubeContext {
  /** The context's name in the kubeconfig (a region's name, `admin`, `forbidden`, or `admin-<cluster>`). */
  name: string;
  cluster: string;
  user: 'admin' | 'nobody';
  namespace: string;
  server: string;
}

export interface KubeCluster {
  /** kube-1, kube-2, … */
  name: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM of the CA that signed the apiserver's serving certificate (it generated both). */
  caPem: string;
  caFile: string;
  etcdUrl: string;
  nodes: string[];
}

export interface KubeControlPlane {
  kubeconfigPath: string;
  /** Every context of the kubeconfig: the regions first, then admin and forbidden (and admin-<cluster> with 2+ clusters). */
  contexts: KubeContext[];
  /** The region contexts, by region name. */
  regions: Record<string, KubeContext>;
  clusters: KubeCluster[];
  /** The first cluster's API server URL. */
  server: string;
  /** Bearer token of `admin` (system:masters). */
  adminToken: string;
  /** Bearer token of `nobody`: authenticated, no RBAC rights. */
  forbiddenToken: string;
  versions: { kube: string; etcd: string; kwok: string };
  /** Milliseconds from the first process spawned until every cluster was ready (the build not counted). */
  startupMs: number;
  /** Pids of the processes started (each the leader of its own process group). */
  pids(): number[];
  /** A raw API request as admin (or `nobody`) to a cluster (default the first): the status code and parsed JSON body. */
  request(method: string, path: string, body?: unknown, opts?: { cluster?: string; user?: 'admin' | 'nobody' }): Promise<{ status: number; body: unknown }>;
  /** Kills every process started (SIGTERM, SIGKILL after 5 s) and removes the temporary directory. */
  stop(): Promise<void>;
}

export async function startKubeControlPlane(opts: KubeControlPlaneOptions = {}): Promise<KubeControlPlane> {
  const regions = opts.regions ?? ['region-a', 'region-b'];
  const clusterCount = Math.max(1, opts.clusters ?? 1);
  const nodesPerCluster = Math.max(1, opts.nodes ?? 1);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const say = opts.say ?? ((line: string) => process.stderr.write(`[mrcd] ${line}\n`));
  const bin = await builder.ensureKubeControlPlane({ say });

  const dir = mkdtempSync(join(tmpdir(), 'mrcd-kube-'));
  const adminToken = randomBytes(24).toString('hex');
  const forbiddenToken = randomBytes(24).toString('hex');
  const tokens = { admin: adminToken, nobody: forbiddenToken };

  const group = new ProcessGroup(dir, process.env.MRCD_KUBE_KEEP_DIR === '1');
  const startProc = (name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv) => group.start(name, cmd, args, env);
  const checkAlive = (): void => group.checkAlive();
  const stop = async (): Promise<void> => {
    await group.stop();
    if (process.env.MRCD_KUBE_KEEP_DIR === '1') say(`kept ${dir} (MRCD_KUBE_KEEP_DIR=1)`);
  };

  const started = Date.now();
  try {
    // Shared by every cluster: the static tokens, the service-account signing key pair.
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, `${adminToken},admin,admin,"system:masters"\n${forbiddenToken},nobody,nobody\n`, { mode: 0o600 });
    const sa = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const saKey = join(dir, 'sa.key');
    const saPub = join(dir, 'sa.pub');
    writeFileSync(saKey, sa.privateKey, { mode: 0o600 });
    writeFileSync(saPub, sa.publicKey);

    const clusters: KubeCluster[] = [];
    // The clusters start side by side: each waits only for its own processes.
    await Promise.all(
      Array.from({ length: clusterCount }, async (_, i) => {
        const name = `kube-${i + 1}`;
        const cdir = join(dir, name);
        mkdirSync(cdir);
        const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
        const etcdUrl = `http://127.0.0.1:${etcdClient}`;
        const server = `https://127.0.0.1:${securePort}`;

        startProc(`${name}-etcd`, bin.etcd, [
          `--name=${name}`,
          `--data-dir=${join(cdir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-cluster=${name}=http://127.0.0.1:${etcdPeer}`,
          '--log-level=warn',
          // A test cluster's data is thrown away: no fsync (much faster on a shared disk).
          '--unsafe-no-fsync',
        ]);
        await pollUntil(
          `${name}: etcd healthy at ${etcdUrl}`,
          async () => {
            checkAlive();
            const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(1000) });
            return res.ok ? true : undefined;
          },
          { timeoutMs: readyTimeoutMs, everyMs: 100 },
        );

        const certDir = join(cdir, 'certs');
        startProc(`${name}-kube-apiserver`, bin.kubeApiserver, [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${securePort}`,
          // It generates a self-signed CA and serving certificate here (apiserver.crt: both).
          `--cert-dir=${certDir}`,
          `--token-auth-file=${tokenFile}`,
          '--authorization-mode=RBAC',
          `--service-account-key-file=${saPub}`,
          `--service-account-signing-key-file=${saKey}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          // Loopback cannot be an endpoint of the `kubernetes` service.
          '--endpoint-reconciler-type=none',
          '--service-cluster-ip-range=10.96.0.0/24',
          // It taints every new node not-ready, for the node lifecycle controller to lift;
          // that controller is not run (it would taint and evict on a late kwok heartbeat).
          '--disable-admission-plugins=TaintNodesByCondition',
          '--profiling=false',
        ]);
        const caFile = join(certDir, 'apiserver.crt');
        await pollUntil(
          `${name}: kube-apiserver /readyz at ${server}`,
          async () => {
            checkAlive();
            if (!existsSync(caFile)) return undefined;
            const r = await apiRequest(server, readFileSync(caFile, 'utf8'), adminToken, 'GET', '/readyz');
            return r.status === 200 ? true : undefined;
          },
          { timeoutMs: readyTimeoutMs, everyMs: 200 },
        );
        const caPem = readFileSync(caFile, 'utf8');

        // The controllers, scheduler and kwok reach the apiserver as admin.
        const kubeconfig = join(cdir, 'admin.kubeconfig');
        writeKubeconfig(kubeconfig, {
          clusters: [{ name, server, caPem }],
          users: { admin: adminToken },
          contexts: [{ name, cluster: name, user: 'admin' }],
        });
        startProc(`${name}-kube-controller-manager`, bin.kubeControllerManager, [
          `--kubeconfig=${kubeconfig}`,
          // Deployments and their ReplicaSets; the default service account of each namespace
          // (pods are refused without it) and legacy token secrets; cascading deletes;
          // namespace deletion. No node lifecycle: kwok's nodes are never tainted away.
          '--controllers=deployment,replicaset,serviceaccount,serviceaccount-token,garbagecollector,namespace',
          `--service-account-private-key-file=${saKey}`,
          `--root-ca-file=${caFile}`,
          '--leader-elect=false',
          '--secure-port=0',
          '--profiling=false',
        ]);
        startProc(`${name}-kube-scheduler`, bin.kubeScheduler, [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0', '--profiling=false']);
        const kwokDir = join(cdir, 'kwok');
        mkdirSync(kwokDir);
        startProc(
          `${name}-kwok`,
          bin.kwok,
          [
            `--kubeconfig=${kubeconfig}`,
            '--manage-all-nodes=false',
            `--manage-nodes-with-annotation-selector=${NODE_ANNOTATION}=fake`,
            '--cidr=10.244.0.0/16',
            '--node-ip=127.0.0.1',
            ...bin.stageFiles.map((f) => `--config=${f}`),
          ],
          // Its config directory (default ~/.kwok): an empty one of its own.
          { ...process.env, KWOK_WORKDIR: kwokDir },
        );

        const nodes = Array.from({ length: nodesPerCluster }, (_, n) => `${name}-node-${n + 1}`);
        const api = (method: string, path: string, body?: unknown) => apiRequest(server, caPem, adminToken, method, path, body);
        for (const node of nodes) {
          const r = await api('POST', '/api/v1/nodes', fakeNode(node));
          if (r.status !== 201) throw new Error(`${name}: creating node ${node}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
        }
        for (const region of regions.filter((_, k) => k % clusterCount === i)) {
          const r = await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: region } });
          if (r.status !== 201) throw new Error(`${name}: creating namespace ${region}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
          // The controller manager creates each namespace's default service account.
          await pollUntil(
            `${name}: service account ${region}/default (kube-controller-manager)`,
            async () => {
              checkAlive();
              return (await api('GET', `/api/v1/namespaces/${region}/serviceaccounts/default`)).status === 200 ? true : undefined;
            },
            { timeoutMs: readyTimeoutMs },
          );
        }
        // kwok marks its nodes Ready.
        for (const node of nodes) {
          await pollUntil(
            `${name}: node ${node} Ready (kwok)`,
            async () => {
              checkAlive();
              const r = await api('GET', `/api/v1/nodes/${node}`);
              const conditions = (r.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
              return conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
            },
            { timeoutMs: readyTimeoutMs },
          );
        }
        clusters[i] = { name, server, caPem, caFile, etcdUrl, nodes };
      }),
    );

    const clusterOf = (k: number) => clusters[k % clusterCount];
    const contexts: KubeContext[] = [
      ...regions.map((region, k): KubeContext => ({ name: region, cluster: clusterOf(k).name, user: 'admin', namespace: region, server: clusterOf(k).server })),
      { name: 'admin', cluster: clusters[0].name, user: 'admin', namespace: 'default', server: clusters[0].server },
      { name: 'forbidden', cluster: clusters[0].name, user: 'nobody', namespace: regions[0] ?? 'default', server: clusters[0].server },
      ...(clusterCount > 1
        ? clusters.map((c): KubeContext => ({ name: `admin-${c.name}`, cluster: c.name, user: 'admin', namespace: 'default', server: c.server }))
        : []),
    ];
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, { clusters, users: tokens, contexts });
    const startupMs = Date.now() - started;
    return {
      kubeconfigPath,
      contexts,
      regions: Object.fromEntries(contexts.filter((c) => regions.includes(c.name)).map((c) => [c.name, c])),
      clusters,
      server: clusters[0].server,
      adminToken,
      forbiddenToken,
      versions: bin.versions,
      startupMs,
      pids: () => group.procs.map((p) => p.pid),
      request: (method, path, body, o = {}) => {
        const c = o.cluster ? clusters.find((x) => x.name === o.cluster) : clusters[0];
        if (!c) throw new Error(`no cluster ${o.cluster} (there are ${clusters.map((x) => x.name).join(', ')})`);
        return apiRequest(c.server, c.caPem, tokens[o.user ?? 'admin'], method, path, body);
      },
      stop,
    };
  } catch (e) {
    const logs = group.tails();
    await stop();
    throw new Error(`the Kubernetes control plane did not start: ${(e as Error).message}\n${logs}`, { cause: e });
  }
}
