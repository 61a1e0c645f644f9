// mrcd — the operator and CI command line (the commands: ./commands.ts; exit codes:
// ./exit-codes.ts). bin/mrcd.js runs runCli, from dist/mrcd.js (this file bundled by
// scripts/build-cli.js) or from the sources; `tsx cli/main.ts` runs it too.
import { CommanderError } from 'commander';
import { buildProgram, commandModule } from './commands';
import { lazy } from './lazy';

export { buildProgram } from './commands';

/**
 * EXIT.ok. ./exit-codes.ts is loaded only when a run fails: it imports the Temporal client
 * for the client's error classes, which `validate`, an offline `plan` and `--help` never need.
 */
const OK = 0;

/** `mrcd status`'s table (tests draw it without a server); its module is loaded on first use, as the command's is. */
export const statusTable: typeof import('./commands/status').statusTable = (...args) => commandModule('status').statusTable(...args);

let ran: string | undefined;

/** The command the last runCli ran (`status`, `freeze create`), if any: bin/mrcd.js keeps its code cache per command. */
export function commandRan(): string | undefined {
  return ran;
}

/** Runs the CLI with argv; returns the exit code instead of exiting (for tests). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  ran = undefined;
  program.hook('preAction', (_, command) => {
    ran = command.parent === program ? command.name() : `${command.parent?.name()} ${command.name()}`;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error is invalid input
      return e.exitCode === 0 ? OK : lazy('exitCodes').EXIT.invalid;
    }
    if ((e as Error).message) process.stderr.write(`mrcd: ${(e as Error).message}\n`);
    return lazy('exitCodes').exitCodeOf(e);
  }
}

/**
 * Exits once everything written has reached stdout and stderr. process.exit() right after
 * a write to a pipe drops what the pipe has not taken yet (`mrcd --json status | jq` got
 * 64 KiB of a 1 MB status).
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => --pending === 0 && process.exit(code);
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then(exitWhenFlushed);
}
