// docker-compose.yml and the Dockerfile, checked without a container engine (none runs
// here): `docker-compose config` validates the compose file (Debian's docker-compose 1.29,
// installed with apt on first use when running as root), and the rest fails on drift
// between them and the code: the workers' variables against what worker/config.ts and
// common/connection.ts read, the registered search attributes against
// domain/search-attributes.ts, Prometheus against the workers' metrics port, the image's
// entry point and bundle against the files that exist. What can run without an engine runs:
// the workflow bundle script (its bundle replays the recorded histories), the one-shot setup
// scripts against a real dev server with the pinned CLI, and the image's entry point with
// the compose environment, which starts a worker from the prebuilt bundle.
// What stays unverified: that the images pull and build, and the stack's startup order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, posix } from 'node:path';
import { Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../../plan';
import { loadWorkerConfig, WORKER_ENV_KEYS } from '../../worker/config';
import { missingSearchAttributes } from '../../worker/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { TASK_QUEUE_DEFAULT } from '../../domain/definitions';
import { startDevServer } from '../../dev/temporal-server';
import { parseSimulatorArgs } from '../../dev/simulator-main';
import { findTemporalCli, INSTALL_HINT } from '../../dev/temporal-binaries';
import { freePort } from '../../dev/ports';
import { forTheFile, useTempDir } from '../support/temporal';

const ROOT = join(__dirname, '..', '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const APT_INSTALL = 'apt-get install -y --no-install-recommends docker-compose';

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // installed already
}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * docker-compose from PATH, else Debian's package installed now (root only). An apt install
 * rather than its .debs unpacked into .tools/: it is Python with a dozen python3-* packages
 * that must be importable by /usr/bin/python3, which an unpacked tree would need
 * PYTHONPATH surgery for. 1.29 validates without a daemon; compose v2 would do as well.
 */
function dockerCompose(): string {
  const found = onPath('docker-compose');
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`docker-compose is missing; install it: ${APT_INSTALL}`);
  process.stderr.write(`[mrcd] installing Debian's docker-compose to validate docker-compose.yml: ${APT_INSTALL}\n`);
  const apt = (...args: string[]) =>
    spawnSync('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', timeout: 300_000 });
  let r = apt('install', '-y', '-qq', '--no-install-recommends', 'docker-compose');
  if (r.status !== 0) {
    // Stale package lists: refresh them once.
    apt('update', '-qq');
    r = apt('install', '-y', '-qq', '--no-install-recommends', 'docker-compose');
  }
  const path = onPath('docker-compose');
  if (r.status !== 0 || !path) throw new Error(`installing docker-compose failed (${APT_INSTALL}):\n${`${r.stdout}${r.stderr}`.slice(-2000)}`);
  return path;
}

/** `docker-compose config`: the file validated, interpolated with defaults only, anchors resolved. */
function composeConfig(...extra: string[]): { code: number | null; out: string; err: string } {
  const bin = dockerCompose();
  // Only PATH and HOME: a developer's POSTGRES_PASSWORD or TEMPORAL_PORT must not change what is checked.
  const r = spawnSync(bin, ['--project-directory', ROOT, '-f', COMPOSE_FILE, ...extra, 'config'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | null>;
  entrypoint?: string[] | string;
  command?: string[] | string;
  volumes?: (string | { source: string; target: string })[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  profiles?: string[];
  deploy?: { replicas?: number };
  stop_grace_period?: string;
  user?: string;
}
let composed: { services: Record<string, Service> } | undefined;
function compose(): { services: Record<string, Service> } {
  if (!composed) {
    const r = composeConfig('--profile', 'demo');
    assert.equal(r.code, 0, `docker-compose config --profile demo failed:\n${r.err}`);
    composed = parseYaml(r.out) as { services: Record<string, Service> };
  }
  return composed;
}
const service = (name: string): Service => {
  const s = compose().services[name];
  assert.ok(s, `docker-compose.yml has no service ${name}`);
  return s;
};
const envOf = (s: Service): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
/** Bind mounts as source → target, from 1.29's short form or v2's long form. */
function mounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return { source: source!, target: target! };
  });
}
const conditionOn = (s: Service, dep: string): string | undefined => (Array.isArray(s.depends_on) ? undefined : s.depends_on?.[dep]?.condition);

// The Dockerfile, read into stages of instructions (continuation lines joined, comments dropped).
interface Instruction {
  op: string;
  args: string;
}
function dockerfileStages(): { name: string; from: string; instructions: Instruction[] }[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: { name: string; from: string; instructions: Instruction[] }[] = [];
  const args: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args[k!] = v ?? '';
    } else if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const from = f[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
      stages.push({ name: f[2] ?? String(stages.length), from, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op, args: rest });
  }
  return stages;
}
const runtimeStage = () => dockerfileStages().at(-1)!;
const instr = (stage: { instructions: Instruction[] }, op: string) => stage.instructions.filter((i) => i.op === op);
/** ENV lines of a stage: KEY=VALUE pairs (the form the Dockerfile uses). */
function envIn(stage: { instructions: Instruction[] }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of instr(stage, 'ENV')) for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  return env;
}
/** A stage's WORKDIR, inherited from the stage it is built FROM. */
function workdir(stage: { from: string; instructions: Instruction[] }): string {
  const own = instr(stage, 'WORKDIR').at(-1)?.args;
  if (own) return own;
  const parent = dockerfileStages().find((s) => s.name === stage.from);
  return parent ? workdir(parent) : '/';
}

const tmp = useTempDir('mrcd-compose-');
const bundlePath = () => join(tmp.path, 'workflow-bundle.js');
let bundled: Promise<void> | undefined;
/** scripts/bundle-workflows.js run as the Dockerfile runs it: plain node, an output path. */
function bundle(): Promise<void> {
  bundled ??= new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'bundle-workflows.js'), bundlePath()], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bundle-workflows.js exited ${code}:\n${out}`))));
  });
  return bundled;
}

test('docker-compose config accepts docker-compose.yml, with and without the demo profile', { timeout: 400_000 }, () => {
  const plain = composeConfig();
  assert.equal(plain.code, 0, plain.err);
  // 1.29 lists every service whatever the profile; compose v2 only the active ones.
  const services = Object.keys((parseYaml(plain.out) as { services: Record<string, unknown> }).services)
    .filter((s) => s !== 'simulator')
    .sort();
  assert.deepEqual(services, ['namespace', 'postgresql', 'prometheus', 'search-attributes', 'temporal', 'temporal-schema', 'temporal-ui', 'worker']);
  assert.ok(compose().services.simulator, 'the demo profile adds the simulator');
  assert.deepEqual(service('simulator').profiles, ['demo'], 'the simulator starts only with --profile demo');
  // 1.29 refuses a top-level `name:` anyway; said here so the reason is in the failure.
  assert.doesNotMatch(readFileSync(COMPOSE_FILE, 'utf8'), /^name:/m, 'no top-level name: Debian docker-compose 1.29 rejects it');
});

test('images are pinned: no latest, no untagged image except the one built here', () => {
  for (const [name, s] of Object.entries(compose().services)) {
    assert.ok(s.image, `${name} names its image`);
    if (s.build) {
      assert.equal(s.image, 'multi-region-cd:local', `${name} is built from the Dockerfile`);
      continue;
    }
    assert.match(s.image, /^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/, `${name}: ${s.image} is pinned to a version`);
  }
  const versionOf = (image: string) => image.split(':')[1];
  // The schema tool's version is the server's: a newer schema than the server's, or older, breaks it.
  assert.equal(versionOf(service('temporal-schema').image!), versionOf(service('temporal').image!));
});

test('the workers set only variables the worker reads, with values worker/config.ts accepts', () => {
  const worker = service('worker');
  const env = envOf(worker);
  const unknown = Object.keys(env).filter((k) => !WORKER_ENV_KEYS.includes(k));
  assert.deepEqual(unknown, [], `variables the worker does not read (worker/config.ts, common/connection.ts): ${unknown.join(', ')}`);
  // What a container needs set: the defaults point at 127.0.0.1, i.e. the container itself.
  for (const k of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'MRCD_TASK_QUEUE', 'MRCD_LOG_FORMAT', 'MRCD_METRICS_PORT'])
    assert.ok(env[k], `the worker service sets ${k}`);
  const imageEnv = envIn(runtimeStage());
  for (const k of Object.keys(imageEnv).filter((k) => k !== 'NODE_ENV'))
    assert.ok(WORKER_ENV_KEYS.includes(k), `the image sets ${k}, which the worker does not read`);

  const config = loadWorkerConfig({ ...imageEnv, ...env }, false);
  const [host, port] = config.connection.address.split(':');
  assert.ok(compose().services[host!], `TEMPORAL_ADDRESS names the compose service ${host}`);
  assert.equal(port, '7233', 'the frontend port inside the compose network');
  assert.equal(config.connection.taskQueue, TASK_QUEUE_DEFAULT, 'the queue mrcd on the host uses by default');
  assert.equal(config.workflowBundlePath, imageEnv.MRCD_WORKFLOW_BUNDLE);
  for (const oneShot of ['namespace', 'search-attributes']) {
    assert.equal(envOf(service(oneShot)).TEMPORAL_NAMESPACE, config.connection.namespace, `${oneShot} works on the workers' namespace`);
    assert.equal(envOf(service(oneShot)).TEMPORAL_ADDRESS, config.connection.address);
  }
  assert.equal(envOf(service('temporal-ui')).TEMPORAL_ADDRESS, config.connection.address);

  assert.ok((worker.deploy?.replicas ?? 0) >= 2, 'at least two workers (docs/operations.md: a single worker adds its restart to every rollout)');
  assert.ok(!worker.user || !/^(root|0)(:|$)/.test(worker.user), 'the workers do not run as root');
  const grace = parseDuration(worker.stop_grace_period ?? '10s')!;
  assert.ok(
    grace > config.shutdownGraceMs,
    `stop_grace_period (${worker.stop_grace_period}) outlasts MRCD_SHUTDOWN_GRACE, or docker kills activities mid-grace`,
  );
  assert.equal(conditionOn(worker, 'temporal'), 'service_healthy');
  assert.equal(conditionOn(worker, 'search-attributes'), 'service_completed_successfully', 'a worker refuses to start before the attributes exist');
});

test('the workers serve metrics on every interface of their container, on the port Prometheus scrapes', () => {
  const env = envOf(service('worker'));
  assert.ok(WORKER_ENV_KEYS.includes('MRCD_METRICS_PORT') && WORKER_ENV_KEYS.includes('MRCD_METRICS_HOST'));
  const config = loadWorkerConfig({ ...envIn(runtimeStage()), ...env }, false);
  // The worker's default host is loopback, which in a container is the container's own.
  assert.deepEqual(config.metrics, { host: '0.0.0.0', port: Number(env.MRCD_METRICS_PORT) });
  assert.equal(loadWorkerConfig({ MRCD_METRICS_PORT: env.MRCD_METRICS_PORT }, false).metrics?.host, '127.0.0.1', 'outside compose: loopback');
  assert.equal(loadWorkerConfig({}, false).metrics, undefined, 'no port, no endpoint');
});

test('the search attributes registered at start are those of domain/search-attributes.ts', () => {
  const sa = service('search-attributes');
  const listed = envOf(sa).MRCD_SEARCH_ATTRIBUTES!.trim().split(/\s+/);
  const registered = Object.fromEntries(listed.map((pair) => pair.split('=') as [string, string]));
  assert.deepEqual(registered, SEARCH_ATTRIBUTES);
  assert.equal(conditionOn(sa, 'namespace'), 'service_completed_successfully');
  // The one-shots run scripts from the mounted deploy/compose/temporal.
  for (const name of ['temporal-schema', 'namespace', 'search-attributes']) {
    const s = service(name);
    const entry = [s.entrypoint ?? []].flat();
    const script = entry.find((a) => a.endsWith('.sh'))!;
    const mount = mounts(s).find((m) => script.startsWith(`${m.target}/`));
    assert.ok(mount, `${name}: ${script} is in a mounted directory`);
    assert.ok(existsSync(join(mount.source, script.slice(mount.target.length + 1))), `${name}: ${script} exists under ${mount.source}`);
  }
});

test('Prometheus scrapes every worker on its metrics port', () => {
  const prom = service('prometheus');
  const port = Number(envOf(service('worker')).MRCD_METRICS_PORT);
  assert.ok(Number.isInteger(port) && port > 0);
  const configTarget = [prom.command ?? []]
    .flat()
    .find((a) => a.startsWith('--config.file='))!
    .slice('--config.file='.length);
  const mount = mounts(prom).find((m) => m.target === configTarget);
  assert.ok(mount, `the Prometheus config ${configTarget} is mounted`);
  const config = parseYaml(readFileSync(mount.source, 'utf8')) as {
    scrape_configs: {
      job_name: string;
      metrics_path?: string;
      dns_sd_configs?: { names: string[]; type: string; port: number }[];
      static_configs?: { targets: string[] }[];
    }[];
  };
  const jobs = config.scrape_configs.filter((j) => j.dns_sd_configs?.some((d) => d.names.includes('worker')));
  assert.equal(jobs.length, 1, 'one job finds the worker replicas through DNS (a static target would reach one replica)');
  const sd = jobs[0]!.dns_sd_configs!.find((d) => d.names.includes('worker'))!;
  assert.equal(sd.port, port, 'scraped on MRCD_METRICS_PORT');
  assert.equal(sd.type, 'A');
  assert.equal(jobs[0]!.metrics_path ?? '/metrics', '/metrics');
  // promtool comes with Debian's prometheus package (.ci/run, or its copy in .tools/).
  const promtool = ['/usr/bin/promtool', ...findUnder(join(ROOT, '.tools'), /^prometheus-/, 'usr/bin/promtool')].find((p) => existsSync(p));
  if (promtool) {
    const r = spawnSync(promtool, ['check', 'config', '--syntax-only', mount.source], { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check config: ${r.stdout}${r.stderr}`);
  }
  // The healthcheck probes the same endpoint (deploy/docker/worker-healthcheck.js reads MRCD_METRICS_PORT).
  const health = [service('worker').healthcheck?.test ?? []].flat();
  assert.ok(health.includes('deploy/docker/worker-healthcheck.js'), `worker healthcheck: ${health.join(' ')}`);
});

function findUnder(dir: string, name: RegExp, rest: string): string[] {
  try {
    return readdirSync(dir)
      .filter((d) => name.test(d))
      .map((d) => join(dir, d, rest));
  } catch {
    return [];
  }
}

test('the Dockerfile: a non-root node:20-bookworm-slim runtime whose entry point, healthcheck and bundle exist', () => {
  const stages = dockerfileStages();
  assert.ok(stages.length >= 2, 'multi-stage');
  const runtime = runtimeStage();
  assert.equal(runtime.from, 'node:20-bookworm-slim');
  const user = instr(runtime, 'USER').at(-1)?.args;
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `the runtime runs as a non-root user (USER ${user})`);

  const entry = JSON.parse(instr(runtime, 'ENTRYPOINT').at(-1)!.args) as string[];
  assert.deepEqual(entry.slice(0, 3), ['node', '--import', 'tsx'], 'the worker runs its sources through tsx, like `npm run worker`');
  const main = entry[3]!;
  assert.ok(existsSync(join(ROOT, main)), `${main} exists`);
  assert.match(
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.worker!,
    new RegExp(`\\b${main.replace('.', '\\.')}$`),
    'the entry point is what `npm run worker` runs',
  );
  const health = instr(runtime, 'HEALTHCHECK').at(-1)!.args;
  const probe = /"(deploy\/docker\/[\w.-]+\.js)"/.exec(health)?.[1];
  assert.ok(probe && existsSync(join(ROOT, probe)), `the HEALTHCHECK's script exists: ${health}`);

  // Every file the runtime needs is copied in: the entry's directory, the probe, the bundle.
  const copied = instr(runtime, 'COPY').map((c) => c.args.replace(/--\S+\s+/g, '').split(/\s+/));
  const dest = (p: string) => copied.some((parts) => posix.normalize(parts.at(-1)!).replace(/\/$/, '') === p);
  assert.ok(dest(dirname(main)), `${dirname(main)}/ is copied into the image`);
  assert.ok(dest(dirname(probe)), `${dirname(probe)}/ is copied into the image`);
  const bundleEnv = envIn(runtime).MRCD_WORKFLOW_BUNDLE!;
  const relBundle = posix.relative(workdir(runtime), bundleEnv);
  const build = stages.find((s) => instr(s, 'RUN').some((r) => r.args.includes('scripts/bundle-workflows.js')));
  assert.ok(build, 'a stage runs scripts/bundle-workflows.js');
  assert.match(
    instr(build, 'RUN').find((r) => r.args.includes('bundle-workflows.js'))!.args,
    new RegExp(`bundle-workflows\\.js ${relBundle.replace('.', '\\.')}\\b`),
  );
  assert.equal(workdir(build), workdir(runtime));
  assert.ok(dest(dirname(relBundle)), `${dirname(relBundle)}/ (the bundle) is copied from the build stage`);
  // Every source directory of the project but the tests' and benchmarks' (tsconfig.json).
  const sources = (JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }).include.filter(
    (d) => !['test', 'bench'].includes(d),
  );
  for (const d of sources) assert.ok(dest(d), `${d}/ is copied into the image`);
  // Only production dependencies in the runtime.
  assert.ok(
    stages.some((s) => instr(s, 'RUN').some((r) => /npm ci --omit=dev/.test(r.args))),
    'a stage installs the production dependencies alone',
  );

  // Sources copied from the build context exist and are not excluded by .dockerignore.
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => new RegExp(`^${p.replace(/\/$/, '').replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}(/|$)`));
  for (const s of stages)
    for (const c of instr(s, 'COPY').filter((c) => !c.args.includes('--from='))) {
      for (const src of c.args.split(/\s+/).slice(0, -1)) {
        const p = posix.normalize(src).replace(/\/$/, '');
        assert.ok(existsSync(join(ROOT, p)), `COPY ${src}: exists`);
        assert.ok(!ignored.some((re) => re.test(p)), `COPY ${src}: excluded by .dockerignore`);
      }
    }
});

test("the demo profile: the simulator serves the demo plan's regions where the workers reach it", () => {
  const sim = service('simulator');
  const entry = [sim.entrypoint ?? []].flat();
  assert.ok(existsSync(join(ROOT, entry.at(-1)!)), `${entry.at(-1)} exists`);
  const opts = parseSimulatorArgs([], envOf(sim));
  assert.equal(opts.host, '0.0.0.0', 'listens beyond its own loopback');
  // docs/operations.md points the demo plan at it with one sed: 127.0.0.1:18480 -> simulator:<port>.
  const demo = readFileSync(join(ROOT, 'examples', 'demo.yaml'), 'utf8');
  assert.ok(demo.includes(`127.0.0.1:${opts.port}`), `examples/demo.yaml talks to 127.0.0.1:${opts.port}`);
  const plan = parseYaml(demo) as { service: string; regions: { name: string }[] };
  assert.deepEqual(
    plan.regions.map((r) => r.name),
    opts.regions,
    "the simulator plays the demo plan's regions",
  );
  assert.ok(opts.initialVersions?.[plan.service], `the simulator runs a version of ${plan.service} to start from`);
});

test('scripts/bundle-workflows.js writes a bundle that replays the recorded histories', { timeout: 120_000 }, async () => {
  await bundle();
  // Loaded as worker/create.ts loads MRCD_WORKFLOW_BUNDLE: the file's text as the bundle's code.
  const code = readFileSync(bundlePath(), 'utf8');
  assert.ok(code.length > 100_000, `a whole bundle (${code.length} bytes)`);
  const dir = join(ROOT, 'test', 'histories');
  const histories = ['happy-path.json', 'breach-halt-abort.json'].map((f) => ({ workflowId: f, history: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: { code } }, histories)) results.push(r);
  assert.equal(results.length, histories.length);
  for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
});

const server = forTheFile(
  () => startDevServer({ uiPort: false }),
  (s) => s.stop(),
);

test('the one-shot setup creates the namespace and the search attributes, and is safe to re-run', { timeout: 180_000 }, async () => {
  const cli = findTemporalCli();
  if (!cli) throw new Error(INSTALL_HINT);
  const namespace = 'mrcd-compose-setup';
  const run = (script: string, env: Record<string, string>) =>
    spawnSync('sh', [join(ROOT, 'deploy', 'compose', 'temporal', script)], {
      env: { PATH: `${dirname(cli.path)}${delimiter}${process.env.PATH}`, HOME: tmp.path, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
  // The compose services' own variables, pointed at this dev server and a namespace it lacks.
  const env = (name: string) => ({ ...envOf(service(name)), TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: namespace });
  for (const round of ['first run', 'second run']) {
    const ns = run('create-namespace.sh', env('namespace'));
    assert.equal(ns.status, 0, `${round}: create-namespace.sh\n${ns.stdout}${ns.stderr}`);
    const sa = run('register-search-attributes.sh', env('search-attributes'));
    assert.equal(sa.status, 0, `${round}: register-search-attributes.sh\n${sa.stdout}${sa.stderr}`);
    assert.match(sa.stdout, new RegExp(`search attributes registered in namespace ${namespace}`));
  }
  const conn = await Connection.connect({ address: server.address });
  try {
    assert.deepEqual(await missingSearchAttributes(conn, namespace), []);
  } finally {
    await conn.close();
  }
});

test("the image's entry point, with the workers' compose environment, starts a worker from the prebuilt bundle", { timeout: 180_000 }, async (t) => {
  await bundle();
  const runtime = runtimeStage();
  const [node, ...args] = JSON.parse(instr(runtime, 'ENTRYPOINT').at(-1)!.args) as string[];
  assert.equal(node, 'node');
  const metricsPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...envIn(runtime),
    ...envOf(service('worker')),
    // Where the container would have them: this dev server, this test's bundle, a free
    // port on loopback (tests listen on 127.0.0.1 only; compose's 0.0.0.0 is checked above).
    TEMPORAL_ADDRESS: server.address,
    MRCD_WORKFLOW_BUNDLE: bundlePath(),
    MRCD_METRICS_PORT: String(metricsPort),
    MRCD_METRICS_HOST: '127.0.0.1',
    MRCD_TASK_QUEUE: 'compose-entrypoint-test',
  };
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!/"msg":"worker started"/.test(out)) {
      assert.equal(child.exitCode, null, `the worker exited:\n${out}`);
      assert.ok(Date.now() < deadline, `no "worker started" within 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await t.test('its healthcheck passes: the metrics endpoint answers with the SDK metrics', async () => {
      const r = spawnSync(process.execPath, [join(ROOT, 'deploy', 'docker', 'worker-healthcheck.js')], { env, encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 0, `worker-healthcheck.js exited ${r.status}: ${r.stderr}`);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^temporal_\w+\{/m, 'the SDK runtime metrics are served');
    });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `the worker stops cleanly on SIGTERM:\n${out}`);
  assert.match(out, /"msg":"worker stopped"/);
});

test('the workers healthcheck counts as healthy only when the metrics endpoint answers', async () => {
  const probe = join(ROOT, 'deploy', 'docker', 'worker-healthcheck.js');
  const closed = await freePort();
  const r = spawnSync(process.execPath, [probe], { env: { MRCD_METRICS_PORT: String(closed) }, encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 1, 'nothing listening: unhealthy');
  const none = spawnSync(process.execPath, [probe], { env: {}, encoding: 'utf8', timeout: 10_000 });
  assert.equal(none.status, 0, 'no MRCD_METRICS_PORT: nothing to probe, healthy while the process runs');
  const { createServer } = await import('node:http');
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/metrics' ? 200 : 404);
    res.end('# metrics\n');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const port = (http.address() as { port: number }).port;
    // The worker's default host, the one compose sets (every interface: probed on loopback), and loopback by name.
    for (const host of [undefined, '0.0.0.0', '127.0.0.1']) {
      const ok = spawn(process.execPath, [probe], { env: { MRCD_METRICS_PORT: String(port), ...(host ? { MRCD_METRICS_HOST: host } : {}) } });
      assert.equal(await new Promise((resolve) => ok.once('exit', resolve)), 0, `GET /metrics answered (MRCD_METRICS_HOST=${host ?? 'unset'}): healthy`);
    }
  } finally {
    http.close();
  }
});

test('docs/operations.md says how to run the compose stack', () => {
  const ops = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  assert.match(ops, /^## Running with docker compose$/m);
  for (const s of ['--scale worker=', '--profile demo', 'search-attributes']) assert.ok(ops.includes(s), `docs/operations.md mentions ${s}`);
});
