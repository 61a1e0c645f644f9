// What the commands share: the global options and the connection they name, who acts,
// output (JSON or text), the plan file, and the rollout table of `list` and `history`.
import Table from 'cli-table3';
import { userInfo } from 'node:os';
import { formatDuration } from '../domain/duration';
import type { PlanProblem } from '../plan/problem';
import type { ConnectionConfig } from '../common/connection';
import type { MrcdClient } from '../client/rollouts';
import type { RolloutFilter, RolloutRow } from '../client/listing';
import type { EXIT, ExitError } from './exit-codes';
import { lazy } from './lazy';

/** The options every command accepts before its name (`mrcd --json status x`). */
export interface GlobalOpts {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  profile?: string;
  configFile?: string;
  json?: boolean;
}

/** What a command's module is run with: its arguments in declared order, its options, the global ones. */
export interface CommandInput<O> {
  args: string[];
  options: O;
  global: GlobalOpts;
}

/**
 * A command's verdict (./exit-codes.ts's ExitError, the exit code by its name). That module
 * is loaded only here and when a run fails: it imports the Temporal client for the client's
 * error classes, which `validate`, an offline `plan` and `--help` never need.
 */
export function exitError(code: keyof typeof EXIT, message: string, options?: ErrorOptions): ExitError {
  const codes = lazy('exitCodes');
  return new codes.ExitError(codes.EXIT[code], message, options);
}

export function connectionFrom(opts: GlobalOpts): ConnectionConfig {
  const { ConfigError, connectionConfigFromEnv } = lazy('connection');
  try {
    const env = { ...process.env };
    if (opts.address) env.TEMPORAL_ADDRESS = opts.address;
    if (opts.namespace) env.TEMPORAL_NAMESPACE = opts.namespace;
    if (opts.taskQueue) env.MRCD_TASK_QUEUE = opts.taskQueue;
    if (opts.profile) env.TEMPORAL_PROFILE = opts.profile;
    if (opts.configFile) env.TEMPORAL_CONFIG_FILE = opts.configFile;
    return connectionConfigFromEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) throw exitError('invalid', e.message);
    throw e;
  }
}

export async function withClient<T>(opts: GlobalOpts, fn: (m: MrcdClient) => Promise<T>): Promise<T> {
  const c = connectionFrom(opts);
  let m: MrcdClient;
  try {
    m = await lazy('rollouts').connectClient(c);
  } catch (e) {
    const from = c.profile ? `, profile ${c.profile.name} of ${c.profile.file}` : '';
    throw exitError('unreachable', `cannot reach Temporal at ${c.address} (namespace ${c.namespace}${from}): ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    return await fn(m);
  } finally {
    await m.close();
  }
}

export function whoAmI(): string {
  if (process.env.MRCD_USER) return process.env.MRCD_USER;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function out(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

export async function loadDoc(file: string): Promise<unknown> {
  const { loadPlanDocument, PlanError } = lazy('plan');
  try {
    return loadPlanDocument(file);
  } catch (e) {
    if (e instanceof PlanError) throw exitError('invalid', e.message, { cause: e });
    throw exitError('invalid', `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The problems of a plan loadDoc refused: the syntax problems it found, or the file it could not read. */
export function unreadableProblems(file: string, e: ExitError): PlanProblem[] {
  const { PlanError } = lazy('plan');
  if (e.cause instanceof PlanError) return e.cause.problems;
  return [{ id: 'file', severity: 'error', path: '(file)', message: e.message.replace(`${file}: `, '') }];
}

export function limitOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw exitError('invalid', `--limit: ${JSON.stringify(v)} must be a whole number from 1 to 1000`);
  return n;
}

export async function listed(g: GlobalOpts, f: RolloutFilter): Promise<RolloutRow[]> {
  const { listRollouts, rolloutQuery } = lazy('listing');
  // A bad filter is refused before anything is sent (exit 2), naming the flag's value.
  try {
    rolloutQuery(f);
  } catch (e) {
    throw exitError('invalid', (e as Error).message);
  }
  return withClient(g, (m) => listRollouts(m, f));
}

export function rowsTable(rows: RolloutRow[], withService: boolean): string {
  const t = new Table({
    head: [...(withService ? ['service'] : []), 'version', 'state', 'region', 'owner', 'started', 'ended', 'took'],
    style: { head: [], border: [] },
  });
  const at = (ms?: number) => (ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  for (const r of rows) {
    const region = r.quarantine ? `${r.region ?? ''} (quarantined in ${r.quarantine})`.trim() : (r.region ?? '');
    const took = r.endedAt !== undefined ? formatDuration(r.endedAt - r.startedAt) : '';
    t.push([...(withService ? [r.service] : []), r.version, r.state, region, r.owner, at(r.startedAt), at(r.endedAt), took]);
  }
  return rows.length ? t.toString() : '(none)';
}
