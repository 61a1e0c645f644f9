// What runs where (`mrcd fleet`): every service × region with the version the region ran
// when a rollout last verified it, the rollouts in flight with their holds, and the fleet
// policy (freezes, region slots). Read from the rollouts' own statuses (a promotion is
// verified against the region: docs/architecture.md), newest rollout first, so a region a
// rollout never reached shows what an earlier one left there.
import { statusQuery } from '../domain/definitions';
import { freezeActive, type Freeze, type PolicyState } from '../domain/policy';
import type { RegionState, RolloutStatus } from '../domain/state';
import { TERMINAL_STATES } from '../domain/state';
import { listRollouts, type RolloutRow } from './listing';
import { showPolicy } from './policy';
import { statusFromFailure, type MrcdClient } from './rollout-handle';

/** One region of one service. */
export interface FleetCell {
  /** The version it runs as last verified; absent when no rollout read here knows. */
  version?: string;
  /** A rollout in flight changes it: the version coming, and where the region is in that rollout. */
  incoming?: { version: string; status: RegionState['status'] };
  /** When it was verified (a promotion, a rollback), epoch ms. */
  at?: number;
  /** The rollout that says so. */
  from?: string;
}

export interface FleetService {
  service: string;
  owner: string;
  /** Its rollout in flight, if any. */
  inFlight?: { workflowId: string; version: string; state: string; currentRegion?: string; hold?: string; summary: string };
  regions: Record<string, FleetCell>;
}

export interface FleetView {
  at: number;
  regions: string[];
  services: FleetService[];
  freezes: Freeze[];
  policy: PolicyState;
}

/** How many of a service's latest rollouts are read for regions the newest did not reach. */
const ROLLOUTS_PER_SERVICE = 5;

/** The fleet now. Visibility is eventually consistent: a rollout started a second ago may be missing. */
export async function fleetView(m: MrcdClient, opts: { limit?: number } = {}): Promise<FleetView> {
  const rows = await listRollouts(m, { limit: opts.limit ?? 1000 });
  const byService = new Map<string, RolloutRow[]>();
  for (const r of rows) {
    const list = byService.get(r.service) ?? [];
    if (list.length < ROLLOUTS_PER_SERVICE) list.push(r);
    byService.set(r.service, list);
  }
  const services: FleetService[] = [];
  const allRegions: string[] = [];
  for (const [service, list] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    const fs: FleetService = { service, owner: list[0]!.owner, regions: {} };
    for (const row of list.sort((a, b) => b.startedAt - a.startedAt)) {
      const s = await statusOf(m, row).catch(() => undefined);
      if (!s) continue;
      const running = !TERMINAL_STATES.has(s.state) && row.execution === 'RUNNING';
      if (running && !fs.inFlight)
        fs.inFlight = {
          workflowId: row.workflowId,
          version: s.version,
          state: s.state,
          ...(s.currentRegion ? { currentRegion: s.currentRegion } : {}),
          ...(s.hold ? { hold: `${s.hold.kind}${s.hold.region ? ` at ${s.hold.region}` : ''}` } : {}),
          summary: s.summary,
        };
      for (const r of s.regions) {
        if (!allRegions.includes(r.name)) allRegions.push(r.name);
        const cell = (fs.regions[r.name] ??= {});
        if (cell.version !== undefined) continue;
        known(cell, s, r, row.workflowId, running);
      }
    }
    services.push(fs);
  }
  const policy = await showPolicy(m);
  const now = Date.now();
  return { at: now, regions: allRegions, services, freezes: policy.freezes.filter((f) => freezeActive(f, now)), policy };
}

/** What this rollout knows of what the region runs; fills `cell` where it knows. */
function known(cell: FleetCell, s: RolloutStatus, r: RegionState, from: string, running: boolean): void {
  const deployed = r.deployedAt !== undefined;
  if (r.status === 'promoted') Object.assign(cell, { version: s.version, from, ...(r.promotedAt ? { at: r.promotedAt } : {}) });
  else if (r.status === 'rolled-back') {
    const back = r.baselineVersion ?? r.previousVersion;
    if (back !== undefined) Object.assign(cell, { version: back, from });
  } else if (running && deployed) {
    cell.incoming ??= { version: s.version, status: r.status };
    if (r.baselineVersion !== undefined) Object.assign(cell, { version: r.baselineVersion, from });
  } else if (running && r.status !== 'pending') cell.incoming ??= { version: s.version, status: r.status };
}

async function statusOf(m: MrcdClient, row: RolloutRow): Promise<RolloutStatus | undefined> {
  const handle = m.client.workflow.getHandle(row.workflowId, row.runId);
  if (row.execution === 'RUNNING') return handle.query(statusQuery);
  try {
    return (await handle.result()) as RolloutStatus;
  } catch (e) {
    return statusFromFailure(e);
  }
}
