// `MRCD_DEMO=kubernetes npm start`: the demo rollout against real Deployments. A local
// control plane (dev/kube-control-plane.ts: a real API server, the Deployment controller,
// kwok's fake nodes) with one namespace per region of the plan, the service's Deployment in
// each on the version the simulator plays, and the plan's deployer swapped for the
// kubernetes deployer. The gate still reads the simulator's health endpoint: kwok's pods run
// nothing that could answer.
import { startKubeControlPlane, type KubeControlPlane } from './kube-control-plane';

/** The worker's variable naming the demo's kubeconfig (the plan names it, never a path). */
export const DEMO_KUBECONFIG_ENV = 'MRCD_DEMO_KUBECONFIG';
export const DEMO_IMAGE = 'registry.example.com/{{service}}:{{version}}';

/** The plan's deployer for the demo: each region a namespace of its own name. */
export function demoKubernetesDeployer(): Record<string, unknown> {
  return {
    type: 'kubernetes',
    kubeconfigEnv: DEMO_KUBECONFIG_ENV,
    namespace: '{{region}}',
    image: DEMO_IMAGE,
    timeout: '2m',
    pollInterval: '500ms',
  };
}

/** Starts the control plane with the service's Deployment in every region, running `version`. */
export async function startKubeDemo(service: string, regions: string[], version: string, say: (line: string) => void): Promise<KubeControlPlane> {
  const kube = await startKubeControlPlane({ regions, say: (line) => say(`[mrcd] ${line}`) });
  try {
    const labels = { app: service };
    for (const namespace of regions) {
      const res = await kube.request('POST', `/apis/apps/v1/namespaces/${namespace}/deployments`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: service, labels },
        spec: {
          replicas: 3,
          // Slow enough to watch: each new pod counts as available two seconds after it is ready.
          minReadySeconds: 2,
          progressDeadlineSeconds: 60,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: service, image: DEMO_IMAGE.replace('{{service}}', service).replace('{{version}}', version) }] },
          },
        },
      });
      if (res.status !== 201) throw new Error(`creating Deployment ${namespace}/${service}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    }
    process.env[DEMO_KUBECONFIG_ENV] = kube.kubeconfigPath;
    return kube;
  } catch (e) {
    await kube.stop();
    throw e;
  }
}
