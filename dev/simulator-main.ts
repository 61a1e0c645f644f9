// Runs the region simulator on its own, for demos and for pointing a hand-started worker
// at it. Prints only the URL on stdout (chatter goes to stderr) so a script can read it.
import { parseArgs } from 'node:util';
import { startSimulator, type SimulatorOptions } from './simulator';

const DEFAULT_REGIONS = 'us-east,eu-west,ap-south';

const USAGE = `usage: tsx dev/simulator-main.ts [--port N] [--regions a,b,c] [--host H] [--token T] [--initial svc=ver,...]
               [--deploy-delay-ms N] [--tick-ms N]
env fallbacks: MRCD_SIM_PORT MRCD_SIM_REGIONS MRCD_SIM_HOST MRCD_SIM_TOKEN MRCD_SIM_INITIAL MRCD_SIM_DEPLOY_DELAY_MS MRCD_SIM_TICK_MS`;

function intOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Flags win over environment variables; both are optional. */
export function parseSimulatorArgs(argv: string[], env: NodeJS.ProcessEnv): SimulatorOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      regions: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      initial: { type: 'string' },
      'deploy-delay-ms': { type: 'string' },
      'tick-ms': { type: 'string' },
    },
  });
  const regions = list(values.regions ?? env.MRCD_SIM_REGIONS ?? DEFAULT_REGIONS);
  if (regions.length === 0) throw new Error('--regions must name at least one region');
  const opts: SimulatorOptions = { regions };
  const port = intOption('--port', values.port ?? env.MRCD_SIM_PORT);
  if (port !== undefined) {
    if (port > 65535) throw new Error(`--port must be at most 65535, got ${port}`);
    opts.port = port;
  }
  const host = values.host ?? env.MRCD_SIM_HOST;
  if (host) opts.host = host;
  const token = values.token ?? env.MRCD_SIM_TOKEN;
  if (token) opts.requireToken = token;
  const initial = values.initial ?? env.MRCD_SIM_INITIAL;
  if (initial) {
    const versions: Record<string, string> = {};
    for (const pair of list(initial)) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) throw new Error(`--initial entries must look like service=version, got "${pair}"`);
      versions[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    opts.initialVersions = versions;
  }
  const deployDelayMs = intOption('--deploy-delay-ms', values['deploy-delay-ms'] ?? env.MRCD_SIM_DEPLOY_DELAY_MS);
  if (deployDelayMs !== undefined) opts.deployDelayMs = deployDelayMs;
  const tickMs = intOption('--tick-ms', values['tick-ms'] ?? env.MRCD_SIM_TICK_MS);
  if (tickMs !== undefined) {
    // setInterval(fn, 0) would spin the event loop.
    if (tickMs === 0) throw new Error('--tick-ms must be at least 1');
    opts.tickMs = tickMs;
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: SimulatorOptions;
  try {
    opts = parseSimulatorArgs(process.argv.slice(2), process.env);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const sim = await startSimulator(opts);
  console.log(sim.url);
  console.error(`region simulator for ${opts.regions.join(', ')} listening on ${sim.url} (Ctrl-C to stop)`);
  const stop = (signal: NodeJS.Signals) => {
    console.error(`${signal}: closing simulator`);
    sim.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
