// M7: `mrcd status` and `mrcd pause` wall time, process start to exit, against a local dev
// server: the shipped bundle (bin/mrcd.js → dist/mrcd.js), the same CLI from its TypeScript
// sources through tsx (how it ran before), and the Go `temporal` CLI doing the same query
// as a reference for what a process start and one RPC cost here.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findTemporalCli } from '../dev/temporal-binaries';
import { getStatus } from '../client/rollouts';
import { planDoc, withScriptedWorker, TEST_GATE, type TestServer } from '../test/support/rollout-harness';
import { ms, next, pct, QUICK, results, table } from './support';

const ROOT = join(__dirname, '..');

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

export async function m7(server: TestServer): Promise<void> {
  const runs = QUICK ? 3 : 20;
  // The bundle as `npm install` leaves it: built from the sources as they are now, or
  // bin/mrcd.js would fall back to tsx and the "bundle" rows would measure tsx.
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-cli.js')], { cwd: ROOT, stdio: 'ignore' });
  const loader = spawnSync(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--help'], { cwd: ROOT, env: { ...process.env, MRCD_SHOW_LOADER: '1' } })
    .stderr.toString()
    .trim();
  if (loader !== 'mrcd: from dist/mrcd.js') throw new Error(`M7 would not measure the bundle: ${loader}`);
  const service = next('m7');
  const rows: Record<string, number[]> = {};
  await withScriptedWorker(server, {}, async (m) => {
    await server.client.workflow.start('rolloutWorkflow', {
      taskQueue: m.taskQueue,
      workflowId: `rollout-${service}`,
      args: [{ plan: planDoc({ service, defaults: { soak: '30m', checkInterval: '15s', gate: TEST_GATE } }, [{ name: 'r1', size: 1 }]), startedBy: 'bench' }],
    });
    for (;;) {
      const s = await getStatus(m, service).catch(() => undefined);
      if (s?.regions?.[0]?.status === 'soaking') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const mrcd = (env: NodeJS.ProcessEnv, ...args: string[]) => timed(process.execPath, [join(ROOT, 'bin/mrcd.js'), '--address', server.address, ...args], env);
    const variants: [string, NodeJS.ProcessEnv][] = [
      ['bundle', {}],
      ['tsx sources', { MRCD_FROM_SOURCE: '1' }],
    ];
    for (const [name, env] of variants) {
      // One unmeasured run each: it writes the code cache (and tsx's) as a first install would.
      await mrcd(env, 'status', service);
      for (const what of ['status', 'pause'] as const) {
        const xs: number[] = (rows[`${name}: mrcd ${what}`] = []);
        for (let i = 0; i < runs; i++) {
          if (what === 'status') xs.push(await mrcd(env, 'status', service));
          else {
            xs.push(await mrcd(env, 'pause', service, '--reason', 'bench', '--by', 'bench'));
            await mrcd(env, 'resume', service, '--reason', 'bench', '--by', 'bench');
          }
        }
      }
    }
    const cli = findTemporalCli();
    if (cli) {
      const xs: number[] = (rows['reference: temporal workflow query'] = []);
      for (let i = 0; i < runs; i++)
        xs.push(await timed(cli.path, ['workflow', 'query', '--address', server.address, '--workflow-id', `rollout-${service}`, '--type', 'status']));
    }
    await server.client.workflow.getHandle(`rollout-${service}`).terminate('bench done');
  });
  results.m7 = rows;
  const t = table(['', 'p50 ms', 'p90 ms', 'max ms']);
  for (const [name, xs] of Object.entries(rows)) t.push([name, ms(pct(xs, 50)), ms(pct(xs, 90)), ms(Math.max(...xs))]);
  console.log(`\nM7 CLI wall time, process start to exit (dev server on loopback, ${runs} runs each; goal: < 300 ms)`);
  console.log(t.toString());
}
