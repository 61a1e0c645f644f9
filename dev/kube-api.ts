// Talking to a local API server before any client library is configured: one HTTPS request
// verified against the server's own CA, and the fake Node objects kwok manages.
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { stringify } from 'yaml';

/** The annotation kwok selects its nodes by. */
export const NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/** A Node object for kwok to manage (its annotation), with room for many pods. */
export function fakeNode(name: string): unknown {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

/** One HTTPS request to an apiserver, verifying its certificate against its own CA. */
export function apiRequest(
  server: string,
  caPem: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      `${server}${path}`,
      {
        method,
        ca: caPem,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
        timeout: 5000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // /readyz answers plain text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Writes a kubeconfig (mode 600: it holds tokens): each cluster with its own CA embedded, so
 * TLS is verified; users by static token; the first context is the current one.
 */
export function writeKubeconfig(
  path: string,
  c: {
    clusters: { name: string; server: string; caPem: string }[];
    users: Record<string, string>;
    contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  },
): void {
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: c.clusters.map((x) => ({ name: x.name, cluster: { server: x.server, 'certificate-authority-data': Buffer.from(x.caPem).toString('base64') } })),
      users: Object.entries(c.users).map(([name, token]) => ({ name, user: { token } })),
      contexts: c.contexts.map((x) => ({ name: x.name, context: { cluster: x.cluster, user: x.user, ...(x.namespace ? { namespace: x.namespace } : {}) } })),
      'current-context': c.contexts[0]!.name,
    }),
    { mode: 0o600 },
  );
}
