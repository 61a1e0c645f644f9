// A private, throwaway PostgreSQL cluster for the cluster test: Debian's server binaries
// (/usr/lib/postgresql/<major>/bin), initdb into a temporary directory, listening on
// 127.0.0.1 and a free port only, its unix socket in that directory. initdb and postgres
// refuse to run as root, so as root they run as the `postgres` user (the Debian package
// creates it) in a directory it owns. Stopped and deleted by stop().
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../dev/ports';
import { runOrThrow, startProcess, stopProcess, tail, type Proc } from './processes';

export interface Postgres {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** The server's major version (15 on Debian bookworm). */
  major: number;
  dir: string;
  proc: Proc;
  stop(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';
const INSTALL = 'apt-get install -y --no-install-recommends postgresql';

/** The newest installed server's bin directory, or undefined. */
function findServerBin(): { bin: string; major: number } | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const majors = readdirSync(PG_ROOT)
    .map(Number)
    .filter((n) => Number.isInteger(n) && existsSync(join(PG_ROOT, String(n), 'bin', 'postgres')) && existsSync(join(PG_ROOT, String(n), 'bin', 'initdb')))
    .sort((a, b) => b - a);
  return majors[0] ? { bin: join(PG_ROOT, String(majors[0]), 'bin'), major: majors[0] } : undefined;
}

/** Debian's PostgreSQL server: found, or installed now when running as root (one line), else one clear error. */
export function ensurePostgresServer(say: (line: string) => void): { bin: string; major: number } {
  const found = findServerBin();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`no PostgreSQL server in ${PG_ROOT}/*/bin (the cluster test runs a private one). Run: sudo ${INSTALL}`);
  say(`[mrcd] provisioning PostgreSQL with \`${INSTALL}\` (first use; a minute)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['-qq', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'postgresql'], { encoding: 'utf8', env });
  if (r.status !== 0 && /Unable to locate package|has no installation candidate/.test(`${r.stdout}${r.stderr}`)) {
    spawnSync('apt-get', ['-qq', 'update'], { env });
    r = spawnSync('apt-get', ['-qq', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'postgresql'], { encoding: 'utf8', env });
  }
  const after = findServerBin();
  if (!after)
    throw new Error(
      `no PostgreSQL server in ${PG_ROOT}/*/bin and \`${INSTALL}\` failed: ${`${r.stdout}${r.stderr}`.trim().split('\n').pop() ?? r.error?.message}`,
    );
  return after;
}

/** Who runs the cluster: ourselves, or (as root) the postgres user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as (initdb refuses root)');
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

async function waitReady(bin: string, port: number, proc: Proc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running()) throw new Error(`PostgreSQL exited before it was ready:\n${tail(proc)}`);
    const r = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1'], { encoding: 'utf8' });
    if (r.status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`PostgreSQL on 127.0.0.1:${port} was not ready after ${timeoutMs} ms:\n${tail(proc)}`);
}

/** initdb + postgres on 127.0.0.1:<free port>, one superuser with a password (scram over TCP). */
export async function startPostgres(say: (line: string) => void): Promise<Postgres> {
  const { bin, major } = ensurePostgresServer(say);
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-cluster-pg-'));
  const data = join(dir, 'data');
  const user = 'temporal';
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  mkdirSync(data, { mode: 0o700 });
  if (as) for (const p of [dir, data, pwfile]) chownSync(p, as.uid, as.gid);
  let proc: Proc | undefined;
  try {
    runOrThrow(
      'initdb',
      join(bin, 'initdb'),
      ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      { cwd: dir, ...(as ?? {}) },
    );
    rmSync(pwfile);
    const port = await freePort();
    // max_connections: 4 services × (20 + 2) pooled connections, plus a restart's new ones
    // while the killed server's are being noticed. Durability settings stay at their defaults.
    proc = startProcess(
      'postgres',
      join(bin, 'postgres'),
      ['-D', data, '-c', 'listen_addresses=127.0.0.1', '-p', String(port), '-k', dir, '-c', 'max_connections=300', '-c', 'log_min_messages=warning'],
      join(dir, 'postgres.log'),
      { cwd: dir, ...(as ?? {}) },
    );
    await waitReady(bin, port, proc, 30_000);
    const p = proc;
    return {
      host: '127.0.0.1',
      port,
      user,
      password,
      major,
      dir,
      proc,
      stop: async () => {
        // SIGINT: PostgreSQL's fast shutdown (sessions end, a clean checkpoint).
        await stopProcess(p, 'SIGINT', 15_000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (proc) await stopProcess(proc, 'SIGINT', 5_000);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
