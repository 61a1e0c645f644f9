// mrcd — the operator and CI command line (the commands: ./commands.ts; exit codes:
// ./exit-codes.ts). bin/mrcd.js runs runCli, from dist/mrcd.js (this file bundled by
// scripts/build-cli.js) or from the sources; `tsx cli/main.ts` runs it too.
import { CommanderError } from 'commander';
import { buildProgram } from './commands';
import { EXIT, exitCodeOf } from './exit-codes';

export { buildProgram } from './commands';
export { EXIT } from './exit-codes';
export { statusTable } from './commands/status';

/** Runs the CLI with argv; returns the exit code instead of exiting (for tests). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error is invalid input
      return e.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    if ((e as Error).message) process.stderr.write(`mrcd: ${(e as Error).message}\n`);
    return exitCodeOf(e);
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
