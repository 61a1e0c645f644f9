// `mrcd freeze create|list|lift`: stop the line for a scope (regions, services, teams),
// see what is frozen, and lift it. Held rollouts go on by themselves once a freeze lifts.
import Table from 'cli-table3';
import { readDuration } from '../../domain/duration';
import {
  describeBlocker,
  describeScope,
  freezeActive,
  freezeBlocker,
  freezeCovers,
  freezeRequestProblems,
  liftRequestProblems,
  overrideRequestProblems,
  type Freeze,
  type FreezeScope,
} from '../../domain/policy';
import { createFreeze, freezesFor, liftFreeze, overrideFreeze, showPolicy } from '../../client/policy';
import { rolloutWorkflowId } from '../../domain/definitions';
import type { MrcdClient } from '../../client/rollouts';
import type { NormalizedPlan } from '../../plan';
import { out, whoAmI, withClient, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';

export interface FreezeCreateOpts {
  region?: string[];
  service?: string[];
  team?: string[];
  reason?: string;
  until?: string;
  from?: string;
  by?: string;
}

const utc = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The flag each field of a request comes from. */
const FLAGS: Record<string, string> = {
  reason: '--reason',
  by: '--by',
  until: '--until',
  from: '--from',
  freezes: '--freeze',
  'scope.regions': '--region',
  'scope.services': '--service',
  'scope.teams': '--team',
};

/** Exit 2 with every problem of a request, each named with the flag it came from. */
function refuseProblems(what: string, problems: string[]): void {
  if (problems.length === 0) return;
  const named = problems.map((p) => {
    const field = /^[a-zA-Z.]+/.exec(p)?.[0] ?? '';
    return FLAGS[field] ? `${p} (${FLAGS[field]})` : p;
  });
  throw new ExitError(EXIT.invalid, `${what}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${named.map((p) => `  ${p}`).join('\n')}`);
}

/** `2h` from now, or a time: `2026-12-24T08:00:00Z`. */
export function timeOf(flag: string, v: string | undefined, now: number): number | undefined {
  if (v === undefined) return undefined;
  const ms = readDuration(v);
  if (ms !== undefined && ms > 0) return now + ms;
  const t = Date.parse(v);
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(t)) return t;
  throw new ExitError(EXIT.invalid, `${flag}: ${JSON.stringify(v)} must be a duration from now such as 2h, or a time such as 2026-12-24T08:00:00Z`);
}

export async function freezeCreate({ options: o, global: g }: CommandInput<FreezeCreateOpts>): Promise<void> {
  const now = Date.now();
  const scope: FreezeScope = {
    ...(o.region ? { regions: o.region } : {}),
    ...(o.service ? { services: o.service } : {}),
    ...(o.team ? { teams: o.team } : {}),
  };
  const from = timeOf('--from', o.from, now);
  const until = timeOf('--until', o.until, now);
  const req = { scope, reason: o.reason ?? '', by: o.by ?? whoAmI(), ...(from !== undefined ? { from } : {}), ...(until !== undefined ? { until } : {}) };
  // Refused before anything is sent: bad input is exit 2 whether or not Temporal is up.
  refuseProblems('freeze create', freezeRequestProblems(req, now));
  await withClient(g, async (m) => {
    const f = await createFreeze(m, req);
    const p = await showPolicy(m);
    // What it holds now: rollouts deploying or soaking in its scope, and those already waiting.
    const held = [...p.leases, ...p.waiting].filter((x) => freezeCovers(f, x));
    const rollouts = [...new Set(held.map((x) => `${x.rolloutId} (${x.region})`))];
    out(g.json, { freeze: f, holds: rollouts }, () =>
      [
        `${f.id} created: ${describeScope(f.scope)} frozen${f.from !== undefined ? ` from ${utc(f.from)}` : ''}${f.until !== undefined ? ` until ${utc(f.until)}` : ' until lifted'} — ${f.reason} (by ${f.by})`,
        rollouts.length
          ? `holds the next deploy or promotion of ${rollouts.length} rollout(s) in flight: ${rollouts.join(', ')}`
          : 'no rollout in flight is in its scope now',
        `lift it: mrcd freeze lift ${f.id} --reason "..."`,
      ].join('\n'),
    );
  });
}

export async function freezeList({ options: o, global: g }: CommandInput<{ all?: boolean }>): Promise<void> {
  await withClient(g, async (m) => {
    const p = await showPolicy(m);
    const now = Date.now();
    const shown = o.all ? [...p.freezes, ...p.ended] : p.freezes;
    out(g.json, shown, () => freezeTable(shown, now));
  });
}

export function freezeTable(freezes: Freeze[], now: number): string {
  if (freezes.length === 0) return 'no freezes';
  const t = new Table({ head: ['id', 'state', 'scope', 'reason', 'by', 'from', 'until'], style: { head: [], border: [] } });
  for (const f of freezes) {
    const state = f.lifted ? `lifted by ${f.lifted.by}` : freezeActive(f, now) ? 'active' : (f.from ?? f.createdAt) > now ? 'scheduled' : 'ended';
    t.push([
      f.id,
      state,
      describeScope(f.scope),
      f.reason.slice(0, 60),
      f.by,
      utc(f.from ?? f.createdAt),
      f.until !== undefined ? utc(f.until) : 'until lifted',
    ]);
  }
  return t.toString();
}

export async function freezeLift({ args: [id], options: o, global: g }: CommandInput<{ reason?: string; by?: string }>): Promise<void> {
  const req = { id: id!, reason: o.reason ?? '', by: o.by ?? whoAmI() };
  refuseProblems('freeze lift', liftRequestProblems(req));
  await withClient(g, async (m) => {
    const f = await liftFreeze(m, req);
    const lifted = f.lifted;
    out(g.json, f, () =>
      lifted
        ? `${f.id} lifted by ${lifted.by} (${lifted.reason}); rollouts it held go on by themselves`
        : `${f.id} had already ended (${describeBlocker(freezeBlocker(f))})`,
    );
  });
}

/** What the fleet policy will hold of a plan's rollout: a line per region a freeze covers, or why the policy could not be read. */
export async function freezeNotes(m: MrcdClient, plan: Pick<NormalizedPlan, 'service' | 'owner' | 'regions'>): Promise<string[]> {
  const now = Date.now();
  try {
    const p = await showPolicy(m);
    return freezesFor(
      p,
      plan.service,
      plan.owner.team,
      plan.regions.map((x) => x.name),
      now,
    ).map(
      ({ region, freezes }) =>
        `frozen: ${region} will wait (blocked) for ${freezes
          .map(
            (f) =>
              `${f.id} (${f.reason}, by ${f.by}${f.from !== undefined && f.from > now ? `, from ${utc(f.from)}` : ''}${f.until !== undefined ? `, until ${utc(f.until)}` : ', until lifted'})`,
          )
          .join(' and ')}`,
    );
  } catch (e) {
    return [`fleet policy: not read (${(e as Error).message}); a rollout waits while its policy cannot be read`];
  }
}

export interface FreezeOverrideOpts {
  reason?: string;
  freeze?: string[];
  until?: string;
  by?: string;
}

/** `mrcd freeze override <service>`: a held rollout of the service goes past the freezes (all, or --freeze), until the override expires. */
export async function freezeOverride({ args: [service], options: o, global: g }: CommandInput<FreezeOverrideOpts>): Promise<void> {
  const until = timeOf('--until', o.until, Date.now());
  const req = {
    service: service!,
    rolloutId: rolloutWorkflowId(service!),
    reason: o.reason ?? '',
    by: o.by ?? whoAmI(),
    ...(o.freeze ? { freezes: o.freeze } : {}),
    ...(until !== undefined ? { until } : {}),
  };
  refuseProblems('freeze override', overrideRequestProblems(req, Date.now()));
  await withClient(g, async (m) => {
    const ov = await overrideFreeze(m, req);
    out(g.json, ov, () =>
      [
        `${ov.id}: ${service} may go past ${ov.freezes ? ov.freezes.join(', ') : 'every freeze'} until ${utc(ov.until)} (by ${ov.by}: ${ov.reason})`,
        'a rollout it holds goes on by itself; the override is recorded in the rollout, the policy log and the review',
      ].join('\n'),
    );
  });
}
