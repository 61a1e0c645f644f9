// M7: `mrcd` wall time, process start to exit: `status` and `pause` against a local dev
// server, `validate` and `--help`, which need none. The shipped bundle (bin/mrcd.js →
// dist/mrcd.js), the same CLI from its TypeScript sources through tsx (how it ran before),
// and two references: an empty node process, and the Go `temporal` CLI doing the status
// query, for what a process start and one RPC cost here. The bundle's runs also report
// where their time went (MRCD_STARTUP_TIMES=1 of bin/mrcd.js).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findTemporalCli } from '../dev/temporal-binaries';
import { getStatus } from '../client/rollouts';
import { planDoc, withScriptedWorker, TEST_GATE, type TestServer } from '../test/support/rollout-harness';
import { ms, next, pct, QUICK, results, table } from './support';

const ROOT = join(__dirname, '..');

/** Wall time of one run, and the start-up phases bin/mrcd.js reported on stderr, if any. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; phases?: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('exit', (code) => {
      const took = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      const line = /^mrcd: start-up times \(ms\) (.*)$/m.exec(err);
      resolve({ ms: took, ...(line ? { phases: JSON.parse(line[1]!) as Record<string, number> } : {}) });
    });
  });
}

/** A phase as bin/mrcd.js names it, without what it says in brackets ("compile (code cache accepted)"). */
const phaseName = (k: string) => k.replace(/ \(.*\)$/, '');

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
  const phases: Record<string, Record<string, number>[]> = {};
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
    const commands = {
      status: ['status', service],
      pause: ['pause', service, '--reason', 'bench', '--by', 'bench'],
      validate: ['validate', 'examples/demo.yaml'],
      '--help': ['--help'],
    };
    const resume = ['resume', service, '--reason', 'bench', '--by', 'bench'];
    const variants: [string, NodeJS.ProcessEnv][] = [
      ['bundle', { MRCD_STARTUP_TIMES: '1' }],
      ['tsx sources', { MRCD_FROM_SOURCE: '1' }],
    ];
    for (const [name, env] of variants) {
      // One unmeasured run of each command: bin/mrcd.js adds a command's functions to the
      // code cache on its first run, as it would on a first install (tsx fills its cache too).
      for (const args of [...Object.values(commands), resume]) await mrcd(env, ...args);
      for (const [what, args] of Object.entries(commands)) {
        const xs: number[] = (rows[`${name}: mrcd ${what}`] = []);
        for (let i = 0; i < runs; i++) {
          const r = await mrcd(env, ...args);
          xs.push(r.ms);
          if (r.phases && name === 'bundle') (phases[what] ??= []).push(r.phases);
          if (what === 'pause') await mrcd(env, ...resume);
        }
      }
    }
    const bare: number[] = (rows['reference: node -e 0'] = []);
    for (let i = 0; i < runs; i++) bare.push((await timed(process.execPath, ['-e', '0'])).ms);
    const cli = findTemporalCli();
    if (cli) {
      const xs: number[] = (rows['reference: temporal workflow query'] = []);
      for (let i = 0; i < runs; i++)
        xs.push((await timed(cli.path, ['workflow', 'query', '--address', server.address, '--workflow-id', `rollout-${service}`, '--type', 'status'])).ms);
    }
    await server.client.workflow.getHandle(`rollout-${service}`).terminate('bench done');
  });
  results.m7 = rows;
  results.m7StartUp = phases;
  const t = table(['', 'p50 ms', 'p90 ms', 'max ms']);
  for (const [name, xs] of Object.entries(rows)) t.push([name, ms(pct(xs, 50)), ms(pct(xs, 90)), ms(Math.max(...xs))]);
  console.log(`\nM7 CLI wall time, process start to exit (dev server on loopback, ${runs} runs each; goal: < 300 ms)`);
  console.log(t.toString());
  const names = [...new Set(Object.values(phases).flatMap((runsOf) => runsOf.flatMap((p) => Object.keys(p).map(phaseName))))];
  const p = table(['bundle, median ms', ...names, 'code cache taken']);
  for (const [what, runsOf] of Object.entries(phases)) {
    const median = (n: string) =>
      pct(
        runsOf.map((r) => Object.entries(r).find(([k]) => phaseName(k) === n)?.[1] ?? NaN),
        50,
      );
    const taken = runsOf.filter((r) => Object.keys(r).some((k) => k.includes('accepted'))).length;
    p.push([`mrcd ${what}`, ...names.map((n) => ms(median(n))), `${taken}/${runsOf.length}`]);
  }
  console.log(
    "Where the time goes (bin/mrcd.js MRCD_STARTUP_TIMES=1): node = its own start before bin/mrcd.js runs; load = the bundle's top level; command = runCli",
  );
  console.log(p.toString());
}
