// Temporal's client config file: the TOML profiles the `temporal` CLI reads and writes
// (`temporal config set --profile prod ...`). Parsed with the SDK's own loader
// (@temporalio/envconfig) so that a profile means to mrcd what it means to the CLI; only
// locating the file is ours, because every problem must name the file it is in, and the
// SDK's loader neither says which file it read nor tells a missing file from an empty one.
// connection.ts validates the values and lays the environment over them.
import { readFileSync } from 'node:fs';
import { platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { loadClientConfig, toTomlProfile, type ClientConfig } from '@temporalio/envconfig';

export const DEFAULT_PROFILE = 'default';

export interface SelectedProfile {
  file: string;
  name: string;
  /** The profile as written, under the file's own key names (address, api_key, tls.client_cert_path, ...). */
  values: Record<string, unknown>;
}

/**
 * Where the CLI looks without TEMPORAL_CONFIG_FILE: `temporalio/temporal.toml` in the user's
 * config directory (Go's os.UserConfigDir, which the SDK's loader mirrors too).
 */
export function defaultConfigFile(env: Record<string, string | undefined>, os: string = platform()): string | undefined {
  let dir: string | undefined;
  if (os === 'win32') dir = env.APPDATA || undefined;
  else if (os === 'darwin') dir = env.HOME ? join(env.HOME, 'Library', 'Application Support') : undefined;
  else if (env.XDG_CONFIG_HOME) dir = isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  else dir = env.HOME ? join(env.HOME, '.config') : undefined;
  return dir === undefined ? undefined : join(dir, 'temporalio', 'temporal.toml');
}

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * The profile to connect with: `profile` (TEMPORAL_PROFILE) or "default", from `file`
 * (TEMPORAL_CONFIG_FILE) or the default file. Undefined when none applies: no file at the
 * default place, or no "default" profile in it. A profile asked for by name must exist, and a
 * file named explicitly must be readable; each problem is pushed, naming the variable or file.
 */
export function selectProfile(
  asked: { file?: string; profile?: string },
  env: Record<string, string | undefined>,
  problems: string[],
): SelectedProfile | undefined {
  const file = asked.file ?? defaultConfigFile(env);
  const name = asked.profile ?? DEFAULT_PROFILE;
  const noFile = (why: string) => {
    if (asked.profile !== undefined) problems.push(`TEMPORAL_PROFILE: no profile ${JSON.stringify(name)}: ${why}`);
    return undefined;
  };
  if (file === undefined) return noFile('no config file (TEMPORAL_CONFIG_FILE is not set, and neither HOME nor XDG_CONFIG_HOME says where the default one is)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (asked.file !== undefined) {
      problems.push(`TEMPORAL_CONFIG_FILE: cannot read ${file} (${codeOf(e)})`);
      return undefined;
    }
    // The default file is optional, as for the CLI; one that exists but cannot be read is not.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return noFile(`there is no config file (${file} does not exist; TEMPORAL_CONFIG_FILE names another)`);
    problems.push(`${file}: cannot read the default Temporal config file (${codeOf(e)})`);
    return undefined;
  }
  let config: ClientConfig;
  try {
    config = loadClientConfig({ configSource: { data: text } });
  } catch (e) {
    const { line, column } = e as { line?: number; column?: number };
    // The SDK's loader fails with a TypeError on a file without any profile table (an empty
    // file, say); TOML has no null, so that is the only way to reach one. No profiles, then.
    if (e instanceof TypeError) config = { profiles: {} };
    else {
      const where = line !== undefined ? ` (line ${line}, column ${column})` : '';
      problems.push(`${file}: ${(e as Error).message.split('\n')[0]}${where}`);
      return undefined;
    }
  }
  const profile = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
  if (!profile) {
    const names = Object.keys(config.profiles);
    return noFile(`${file} has ${names.length ? `only ${names.map((n) => JSON.stringify(n)).join(', ')}` : 'no profiles'}`);
  }
  // Back to the file's key names, so a bad value is reported under the key its author wrote.
  return { file, name, values: toTomlProfile(profile) as Record<string, unknown> };
}
