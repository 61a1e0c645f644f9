// `npm start`: the embedded default stack. A real Temporal dev server (SQLite under .data/,
// Web UI), the region simulator, a worker, then the sample rollout with progress region by
// region. The stack stays up for the operator until Ctrl-C, which stops everything it started.
//   MRCD_DEMO_EXIT=1   exit after the rollout with its verdict (CI)
//   MRCD_PLAN=file     roll out another plan instead of examples/demo.yaml
//   MRCD_DEMO=bad      roll out a bad version: its first region breaches, is rolled back, and
//                      the rollout halts with the runbook link (the failure path in a minute)
//   MRCD_DEMO=kubernetes  the same rollout onto real Deployments: a local Kubernetes control
//                      plane (dev/kube-demo.ts), one namespace per region
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer } from 'node:net';
import { loadPlanDocument, parsePlan } from '../plan';
import { startTemporal } from './temporal-server';
import { startSimulator, type Simulator } from './simulator';
import { createWorker } from '../worker/create';
import { createLogger } from '../worker/logger';
import { installRuntime } from '../worker/runtime';
import { payloadKeysFromEnv } from '../common/payload-codec';
import { act, connectClient, followRollout, getStatus, rolloutHandle, startRollout, waitForVerdict, type MrcdClient } from '../client/rollouts';
import { progressLines } from '../client/progress';
import { freePort } from './ports';
import { demoKubernetesDeployer, startKubeDemo } from './kube-demo';
import { TASK_QUEUE_DEFAULT, rolloutWorkflowId } from '../domain/definitions';
import { TERMINAL_STATES } from '../domain/state';
import { runbookLink } from '../domain/runbook';

const ROOT = resolve(__dirname, '..');
const say = (line: string) => process.stdout.write(`${line}\n`);

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function preferred(port: number): Promise<number> {
  return (await portFree(port)) ? port : freePort();
}

async function main(): Promise<number> {
  const planFile = resolve(process.env.MRCD_PLAN ?? `${ROOT}/examples/demo.yaml`);
  const demo = process.env.MRCD_DEMO ?? 'good';
  if (demo !== 'good' && demo !== 'bad' && demo !== 'kubernetes')
    throw new Error(`MRCD_DEMO must be "good", "bad" or "kubernetes", not ${JSON.stringify(demo)}`);
  const doc = loadPlanDocument(planFile) as Record<string, unknown>;
  // A version of its own per run: a bad version is quarantined once it fails its gate, and
  // the same one started again would be refused before it showed the breach.
  if (demo === 'bad') doc.version = `${String(doc.version)}-bad.${Date.now()}`;
  if (demo === 'kubernetes') doc.deployer = demoKubernetesDeployer();
  const plan = parsePlan(doc, planFile);
  const simUrl = new URL(plan.deployer.type === 'http' ? plan.deployer.baseUrl : 'http://127.0.0.1:18480');

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e) => say(`(while stopping: ${(e as Error).message})`));
  };
  let stopping = false;
  const stopped = new Promise<void>((res) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      say('\nstopping the stack…');
      res();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  try {
    const grpcPort = await preferred(7233);
    const uiPort = await preferred(8233);
    say(process.env.TEMPORAL_ADDRESS ? `using Temporal at ${process.env.TEMPORAL_ADDRESS}` : 'starting the Temporal dev server…');
    const server = await startTemporal({ dbFile: `${ROOT}/.data/temporal.db`, port: grpcPort, uiPort });
    stops.push(() => server.stop());
    say(`Temporal ${server.kind} at ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl.replace('127.0.0.1', 'localhost')}` : ''}`);

    if (demo === 'kubernetes') {
      say('starting a local Kubernetes control plane (built once from the Go module proxy, ~7 minutes; then seconds)…');
      const kube = await startKubeDemo(
        plan.service,
        plan.regions.map((r) => r.name),
        '1.9.0',
        say,
      );
      stops.push(() => kube.stop());
      say(`Kubernetes API server at ${kube.server}: Deployment ${plan.service} on 1.9.0 in namespaces ${plan.regions.map((r) => r.name).join(', ')}`);
      say(`  watch it: kubectl --kubeconfig ${kube.kubeconfigPath} get deploy -A -w`);
    }

    let sim: Simulator | undefined;
    if (simUrl.hostname === '127.0.0.1' || simUrl.hostname === 'localhost') {
      sim = await startSimulator({ regions: plan.regions.map((r) => r.name), port: Number(simUrl.port), initialVersions: { [plan.service]: '1.9.0' } });
      stops.push(() => sim!.close());
      say(`region simulator at ${sim.url} playing ${plan.regions.length} regions (${plan.service} 1.9.0 running everywhere)`);
      if (demo === 'bad') {
        sim.markBad(plan.version, plan.service);
        say(`${plan.service} ${plan.version} is bad: the simulator answers 30% errors wherever it runs`);
      }
    }

    // Payload encryption as the worker process and mrcd have it (MRCD_PAYLOAD_KEY_ID: docs/operations.md).
    const encryption = payloadKeysFromEnv(process.env);
    if (encryption.problems.length) throw new Error(encryption.problems.join('\n'));
    const connection = {
      address: server.address,
      namespace: server.namespace,
      taskQueue: process.env.MRCD_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
      ...(encryption.keys ? { payloadKeys: encryption.keys } : {}),
    };
    const logger = createLogger(process.env.MRCD_LOG_LEVEL ?? 'warn', 'pretty');
    installRuntime(logger, { shutdownSignals: [] });
    const { worker, connection: native } = await createWorker({ connection });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await native.close();
    });
    say(`worker polling task queue ${connection.taskQueue}`);

    const m: MrcdClient = await connectClient(connection);
    stops.push(() => m.close());
    const existing = await getStatus(m, plan.service).catch(() => undefined);
    const unfinished = existing && !TERMINAL_STATES.has(existing.state);
    if (unfinished && !sim) {
      say(`resuming the rollout of ${plan.service} ${existing.version} already in progress (${existing.state})`);
    } else {
      if (unfinished) {
        // The regions it deployed lived in the simulator of an earlier `npm start`, gone with
        // it: resumed, it would find every region back on 1.9.0 and halt, and nothing is left
        // to roll back. A real fleet outlives the stack; this one does not.
        await rolloutHandle(m, plan.service).terminate('npm start: the simulated fleet of this rollout ended with the npm start that began it');
        say(
          `ended the unfinished rollout of ${plan.service} ${existing.version} (${existing.state}) left by an earlier npm start: its simulated regions are gone`,
        );
      }
      await startRollout(m, doc, { startedBy: `npm start (${process.env.USER ?? 'local'})` });
      say(`started ${rolloutWorkflowId(plan.service)}: ${plan.service} ${plan.version} → ${plan.regions.map((r) => r.name).join(' → ')}`);
    }
    const env = server.address === '127.0.0.1:7233' ? '' : `TEMPORAL_ADDRESS=${server.address} `;
    say('');
    say('Operate it while it runs:');
    say(`  ${env}npx mrcd pause ${plan.service} --reason "look at the graphs"     (and: resume, abort, status, watch)`);
    say(
      `  .tools/temporal-cli/bin/temporal workflow signal --address ${server.address} --workflow-id ${rolloutWorkflowId(plan.service)} --name pause --input '{"reason":"check","by":"me"}'`,
    );
    if (server.uiUrl)
      say(`  Web UI: ${server.uiUrl.replace('127.0.0.1', 'localhost')}/namespaces/${server.namespace}/workflows/${rolloutWorkflowId(plan.service)}`);
    say('');

    // With MRCD_DEMO_EXIT=1 a halt ends the demo too (nobody is there to act on it).
    const stopAtHalt = process.env.MRCD_DEMO_EXIT === '1';
    // Ctrl-C stops following before the connections close: a status read still in flight on a
    // closed channel is an uncaught error of the client library, not a clean stop.
    const unfollow = new AbortController();
    const follow = followRollout(m, plan.service, (s, prev) => progressLines(s, prev).forEach(say), { intervalMs: 500, stopAtHalt, signal: unfollow.signal });
    stops.push(async () => {
      unfollow.abort(new Error('the stack is stopping'));
      await follow.catch(() => undefined);
    });
    const verdict = await Promise.race([follow, stopped.then(() => undefined)]);
    if (verdict) {
      say('');
      say(verdict.succeeded ? `✓ ${verdict.status.summary}` : `✗ ${verdict.status.summary}`);
      const runbook = runbookLink(verdict.status);
      if (runbook) say(`what to do now: ${runbook} (mrcd status ${plan.service} shows the cause; mrcd retry or mrcd abort act on it)`);
      if (process.env.MRCD_DEMO_EXIT === '1') {
        // Nobody is left to act on a halt: abort it, so the next `npm start` begins afresh
        // instead of following a rollout that waits for an operator.
        if (verdict.outcome === 'halted') {
          await act(m, plan.service, 'abort', { reason: 'the demo ended at its halt (MRCD_DEMO_EXIT=1)', by: 'npm start' });
          const ended = await waitForVerdict(rolloutHandle(m, plan.service));
          say(`aborted: ${ended.status.summary}`);
        }
        return verdict.succeeded ? 0 : 1;
      }
      say('');
      say(
        `The stack stays up: start another rollout with \`${env}npx mrcd deploy examples/demo.yaml --wait\` (edit version first), look at the Web UI, or press Ctrl-C to stop everything.`,
      );
      await stopped;
    }
    return 0;
  } finally {
    await stopAll();
  }
}

if (!existsSync(resolve(ROOT, 'node_modules'))) {
  say('run `npm install` first');
  process.exit(2);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`npm start: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
