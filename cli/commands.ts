// Every mrcd command declared once, as data: its name, description, arguments and options,
// and the module that runs it. buildProgram() makes the commander program from this table
// in one loop, so what a command accepts and what its help says come from the same entry.
import { Command, Option } from 'commander';
import { actionSpec } from '../domain/operator-actions';
import { OPERATOR_ACTIONS, ROLLOUT_STATES } from '../domain/state';
import type { CommandInput, GlobalOpts } from './command-helpers';
import type { OperatorActionOpts } from './commands/operator-actions';

/*
 * Each command's module, required only when that command runs, so that a command loads what
 * it needs and no more: `mrcd validate` and `--help` never load the Temporal client, which
 * was half their start-up (M7 in docs/benchmarks.md). Literal paths, so esbuild bundles them.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const modules = {
  alertReceiver: () => require('./commands/alert-receiver') as typeof import('./commands/alert-receiver'),
  codecServer: () => require('./commands/codec-server') as typeof import('./commands/codec-server'),
  deploy: () => require('./commands/deploy') as typeof import('./commands/deploy'),
  fleet: () => require('./commands/fleet') as typeof import('./commands/fleet'),
  freeze: () => require('./commands/freeze') as typeof import('./commands/freeze'),
  history: () => require('./commands/history') as typeof import('./commands/history'),
  list: () => require('./commands/list') as typeof import('./commands/list'),
  operatorActions: () => require('./commands/operator-actions') as typeof import('./commands/operator-actions'),
  plan: () => require('./commands/plan') as typeof import('./commands/plan'),
  policy: () => require('./commands/policy') as typeof import('./commands/policy'),
  review: () => require('./commands/review') as typeof import('./commands/review'),
  status: () => require('./commands/status') as typeof import('./commands/status'),
  validate: () => require('./commands/validate') as typeof import('./commands/validate'),
  watch: () => require('./commands/watch') as typeof import('./commands/watch'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A command module, loaded on first use (node's require cache keeps it). */
export function commandModule<K extends keyof typeof modules>(name: K): ReturnType<(typeof modules)[K]> {
  return modules[name]() as ReturnType<(typeof modules)[K]>;
}

/** A command's run, its module required when it runs: `load` returns the function to call. */
function lazyRun<O>(load: () => (input: CommandInput<O>) => Promise<void>): (input: CommandInput<O>) => Promise<void> {
  return (input) => load()(input);
}

interface ArgumentSpec {
  /** As commander writes it: `<plan>` is required. */
  name: string;
  description?: string;
}

interface OptionSpec {
  /** As commander writes them: `--limit <n>`, `--allow-origin <urls...>`, `--json`. */
  flags: string;
  description: string;
  default?: string;
  required?: boolean;
}

interface CommandSpec<O = Record<string, unknown>> {
  name: string;
  description: string;
  arguments?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  run(input: CommandInput<O>): Promise<void>;
}

const PROGRAM = {
  name: 'mrcd',
  description: 'multi-region-cd: staged multi-region rollouts on Temporal',
  options: [
    { flags: '--address <host:port>', description: "Temporal frontend (default $TEMPORAL_ADDRESS, the profile's address or 127.0.0.1:7233)" },
    { flags: '--namespace <ns>', description: "Temporal namespace (default $TEMPORAL_NAMESPACE, the profile's namespace or default)" },
    { flags: '--task-queue <name>', description: 'task queue of the mrcd workers (default $MRCD_TASK_QUEUE or mrcd-rollouts)' },
    { flags: '--profile <name>', description: "profile of Temporal's client config file, as the temporal CLI's (default $TEMPORAL_PROFILE or default)" },
    {
      flags: '--config-file <path>',
      description: "Temporal's client config file (TOML; default $TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml)",
    },
    { flags: '--json', description: 'machine-readable output' },
  ],
} as const;

const planFile = { name: '<plan>', description: 'plan file (.yaml, .yml or .json)' };

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'validate',
    description: 'check a plan file: exit 2 and every problem when it has errors; warnings alone print and exit 0',
    arguments: [planFile],
    options: [{ flags: '--strict', description: 'warnings are errors too (exit 2): for CI' }],
    run: lazyRun(() => commandModule('validate').validate),
  },
  {
    name: 'plan',
    description: 'preview a rollout without starting it: region order, soaks, gates, approvals, windows, migrations, ETA, lints',
    arguments: [planFile],
    options: [
      { flags: '--start <time>', description: 'when the rollout would start (ISO 8601; default now)' },
      { flags: '--deploy-time <duration>', description: 'how long one deploy is assumed to take', default: '5m' },
      { flags: '--policy', description: 'also read the fleet policy from Temporal: which regions a freeze would hold, and until when' },
      {
        flags: '--power',
        description:
          "also read recent traffic from Prometheus: the smallest error ratio each comparison check's soak can tell, a warning when not its threshold",
      },
      { flags: '--history <duration>', description: 'with --power: how far back traffic is read', default: '7d' },
    ],
    run: lazyRun(() => commandModule('plan').plan),
  },
  {
    name: 'deploy',
    description: 'start a rollout of a plan; with --follow, follow it and exit 0 only if it succeeded',
    arguments: [{ name: '<plan>', description: 'plan file' }],
    options: [
      {
        flags: '--follow',
        description:
          'follow the rollout until it ends (exit 0 succeeded, 1 not, 5 halted): a live view on a terminal, lines in logs, NDJSON events with --json',
      },
      { flags: '--wait', description: 'the same as --follow' },
      { flags: '--timeout <duration>', description: 'with --follow: stop following after this long (exit 6); the rollout goes on' },
      { flags: '--through-halts', description: 'with --follow: keep following while the rollout is halted for an operator' },
      { flags: '--by <who>', description: 'who starts it (default $MRCD_USER or your user name)' },
      { flags: '--override-quarantine <reason>', description: 'start a version an earlier rollout quarantined for failing its gate (recorded)' },
      {
        flags: '--override-freeze <reason>',
        description: 'go past the freezes over this service (an incident fix): an override of the fleet policy, recorded, expiring (--override-until)',
      },
      { flags: '--override-until <when>', description: 'when --override-freeze ends: a duration from now or a time (default 1h, at most 24h)' },
      { flags: '--version <version>', description: "ship this version instead of the plan file's (the file is not changed)" },
    ],
    run: lazyRun(() => commandModule('deploy').deploy),
  },
  {
    name: 'status',
    description: "show a service's latest rollout",
    arguments: [{ name: '<service>' }],
    run: lazyRun(() => commandModule('status').status),
  },
  {
    name: 'list',
    description: 'rollouts through Temporal visibility, newest first: filter by state, owner, service',
    options: [
      { flags: '--state <states>', description: `comma-separated, any of: ${ROLLOUT_STATES.join(', ')}` },
      { flags: '--owner <team>', description: "the plan's owner.team" },
      { flags: '--service <name>', description: 'one service' },
      { flags: '--limit <n>', description: 'at most this many', default: '50' },
    ],
    run: lazyRun(() => commandModule('list').list),
  },
  {
    name: 'history',
    description: "a service's past rollouts with their verdicts, newest first",
    arguments: [{ name: '<service>' }],
    options: [{ flags: '--limit <n>', description: 'at most this many', default: '20' }],
    run: lazyRun(() => commandModule('history').history),
  },
  {
    name: 'review',
    description: 'the rollout-quality review of finished rollouts: verdicts, where problems were caught, holds, stage times, overrides (docs/review.md)',
    options: [
      { flags: '--since <when>', description: 'start of the window: a duration ago ("90d") or an ISO 8601 time', required: true },
      { flags: '--until <when>', description: 'end of the window: a duration ago or an ISO 8601 time (default now)' },
      { flags: '--service <name>', description: 'one service' },
      { flags: '--owner <team>', description: "one owner (the plan's owner.team)" },
      { flags: '--format <format>', description: 'md, html (self-contained, with charts) or json', default: 'md' },
      { flags: '--stale-after <duration>', description: 'a pause, halt or approval wait longer than this is a stale hold', default: '1h' },
      { flags: '--out <file>', description: 'write the review to this file instead of stdout' },
    ],
    run: lazyRun(() => commandModule('review').review),
  },
  {
    name: 'watch',
    description: 'follow a rollout until it ends (a live view on a terminal, NDJSON events with --json); exit 0 succeeded, 1 not, 5 halted for an operator',
    arguments: [{ name: '<rollout>', description: 'the service, or its rollout id (rollout-<service>)' }],
    options: [
      { flags: '--timeout <duration>', description: 'stop following after this long (exit 6); the rollout goes on' },
      { flags: '--through-halts', description: 'keep following while the rollout is halted for an operator' },
    ],
    run: lazyRun(() => commandModule('watch').watch),
  },
  ...OPERATOR_ACTIONS.map((action): CommandSpec<OperatorActionOpts> => ({
    name: action,
    description: actionSpec(action).summary,
    arguments: [{ name: '<service>' }],
    options: [
      { flags: '--reason <text>', description: 'why (recorded in the rollout and the quarterly review)', required: true },
      { flags: '--by <who>', description: 'who acts (default $MRCD_USER or your user name)' },
      { flags: '--region <name>', description: 'the region meant (approve, skip-soak)' },
    ],
    run: (input) => commandModule('operatorActions').operatorAction(action, input),
  })),
  {
    name: 'fleet',
    description: 'what runs where: every service × region with the version last verified there, rollouts in flight and their holds, freezes and region slots',
    run: lazyRun(() => commandModule('fleet').fleet),
  },
  {
    name: 'freeze create',
    description: 'stop the line: hold every deploy and promotion in a scope (regions, services, teams; all when none is given) until lifted or --until',
    options: [
      { flags: '--region <names...>', description: 'regions it covers' },
      { flags: '--service <names...>', description: 'services it covers' },
      { flags: '--team <names...>', description: "owner teams it covers (the plan's owner.team)" },
      { flags: '--reason <text>', description: 'why: an incident, a peak (recorded, shown to every rollout it holds)', required: true },
      { flags: '--until <when>', description: 'when it ends by itself: a duration from now (2h) or a time (2026-12-24T08:00:00Z); default until lifted' },
      { flags: '--from <when>', description: 'when it starts (a time, or a duration from now); default now' },
      { flags: '--by <name>', description: 'who freezes (default $MRCD_USER or the login name)' },
    ],
    run: lazyRun(() => commandModule('freeze').freezeCreate),
  },
  {
    name: 'freeze list',
    description: 'the freezes active and scheduled (with --all, the ended ones too)',
    options: [{ flags: '--all', description: 'also lifted and expired freezes' }],
    run: lazyRun(() => commandModule('freeze').freezeList),
  },
  {
    name: 'freeze lift',
    description: 'lift a freeze: the rollouts it held go on by themselves',
    arguments: [{ name: '<id>', description: 'the freeze, e.g. F-3 (mrcd freeze list)' }],
    options: [
      { flags: '--reason <text>', description: 'why it may go on now', required: true },
      { flags: '--by <name>', description: 'who lifts (default $MRCD_USER or the login name)' },
    ],
    run: lazyRun(() => commandModule('freeze').freezeLift),
  },
  {
    name: 'freeze override',
    description:
      'let a service past freezes (all, or --freeze) until the override expires: for the fix of an incident; recorded in the rollout, the policy log and the review',
    arguments: [{ name: '<service>' }],
    options: [
      { flags: '--reason <text>', description: 'why it must ship now', required: true },
      { flags: '--freeze <ids...>', description: 'only these freezes (default every freeze over it)' },
      { flags: '--until <when>', description: 'when the override ends: a duration from now or a time (default 1h, at most 24h)' },
      { flags: '--by <name>', description: 'who overrides (default $MRCD_USER or the login name); the policy file may name who may' },
    ],
    run: lazyRun(() => commandModule('freeze').freezeOverride),
  },
  {
    name: 'alert-receiver',
    description:
      "receive Alertmanager's webhook: an alert with mrcd_region, mrcd_service or mrcd_team labels blocks deploys and promotions in its scope until it resolves and a cool-down has passed (docs/alert-blockers.md); runs until interrupted",
    options: [
      {
        flags: '--listen <host:port>',
        description: 'address to listen on (a bare port: loopback; port 0 picks one); whoever reaches it can stop deploys',
        default: '127.0.0.1:9095',
      },
      { flags: '--cooldown <duration>', description: 'how long a blocker outlives its alert once resolved (90s, 5m, 0s)', default: '5m' },
      {
        flags: '--token-env <name>',
        description: 'environment variable holding the bearer token Alertmanager must send (the token itself never goes on the command line)',
      },
    ],
    run: lazyRun(() => commandModule('alertReceiver').alertReceiver),
  },
  {
    name: 'policy show',
    description: 'the fleet policy now: region limits with who deploys or soaks and who waits, freezes, recent changes',
    run: lazyRun(() => commandModule('policy').policyShow),
  },
  {
    name: 'policy apply',
    description:
      "apply a policy file (region concurrency, freezes known ahead): replaces the previous file's part; exit 2 and every problem when it is invalid",
    arguments: [{ name: '<file>', description: 'policy file (.yaml, .yml or .json; docs/policy.md)' }],
    options: [
      { flags: '--reason <text>', description: 'why (default: applied <file>)' },
      { flags: '--by <name>', description: 'who applies (default $MRCD_USER or the login name)' },
    ],
    run: lazyRun(() => commandModule('policy').policyApply),
  },
  {
    name: 'codec-server',
    description: "serve the Temporal Web UI's and CLI's codec endpoint (POST /decode, /encode) with this environment's payload keys; runs until interrupted",
    options: [
      { flags: '--port <n>', description: 'port to listen on (0: any free one)', default: '8081' },
      { flags: '--host <address>', description: 'address to listen on; whoever reaches it can decrypt payloads', default: '127.0.0.1' },
      {
        flags: '--allow-origin <urls...>',
        description: "browser origins allowed (the Web UI's, e.g. http://localhost:8233); default any http origin on loopback",
      },
      { flags: '--only-namespace <names...>', description: 'refuse requests for other namespaces (X-Namespace)' },
    ],
    run: lazyRun(() => commandModule('codecServer').codecServer),
  },
];

function optionOf(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description);
  if (spec.default !== undefined) option.default(spec.default);
  return option.makeOptionMandatory(Boolean(spec.required));
}

const GROUPS: Record<string, string> = {
  freeze: 'freezes of the fleet policy: stop the line for regions, services or teams (create, list, lift)',
  policy: 'the fleet policy: freezes, region concurrency, its log (show, apply)',
};

export function buildProgram(): Command {
  const program = new Command(PROGRAM.name).description(PROGRAM.description);
  for (const o of PROGRAM.options) program.addOption(optionOf(o));
  // Set before the commands are added: each command inherits them.
  program.exitOverride().showHelpAfterError();
  const groups = new Map<string, Command>();
  for (const spec of COMMANDS) {
    // `freeze create`: a subcommand of a group the first of its kind creates.
    const [group, sub] = spec.name.includes(' ') ? spec.name.split(' ') : [undefined, spec.name];
    let parent: Command = program;
    if (group) {
      if (!groups.has(group)) groups.set(group, program.command(group).description(GROUPS[group] ?? group));
      parent = groups.get(group)!;
    }
    const command = parent.command(sub!).description(spec.description);
    for (const a of spec.arguments ?? []) command.argument(a.name, a.description);
    for (const o of spec.options ?? []) command.addOption(optionOf(o));
    command.action(async (...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      await spec.run({ args: self.processedArgs as string[], options: self.opts(), global: program.opts<GlobalOpts>() });
    });
  }
  return program;
}
