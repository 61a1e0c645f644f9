// `mrcd fleet`: what runs where — a row per service, a column per region, the version each
// region ran when last verified, what is coming and where it stands, and the fleet
// policy's freezes and region slots.
import Table from 'cli-table3';
import { fleetView, type FleetCell } from '../../client/fleet';
import { describeScope } from '../../domain/policy';
import { out, withClient, type CommandInput } from '../command-helpers';
import { policyText } from './policy';

export async function fleet({ global: g }: CommandInput<unknown>): Promise<void> {
  await withClient(g, async (m) => {
    const v = await fleetView(m);
    out(g.json, v, () => {
      if (v.services.length === 0) return `no rollouts yet\n${policyText(v.policy, v.at)}`;
      const t = new Table({ head: ['service', ...v.regions, 'in flight'], style: { head: [], border: [] } });
      for (const s of v.services) {
        const flight = s.inFlight ? `${s.inFlight.version} ${s.inFlight.state}${s.inFlight.hold ? ` (${s.inFlight.hold})` : ''}` : '';
        t.push([s.service, ...v.regions.map((r) => cellText(s.regions[r])), flight]);
      }
      const freezes = v.freezes.map((f) => `  ${f.id} ${describeScope(f.scope)} — ${f.reason} (by ${f.by})`);
      return [t.toString(), freezes.length ? `frozen now:\n${freezes.join('\n')}` : 'no freeze holds now', policyText(v.policy, v.at)].join('\n');
    });
  });
}

function cellText(c: FleetCell | undefined): string {
  if (!c) return '';
  const now = c.version ?? '?';
  return c.incoming && c.incoming.version !== c.version ? `${now} → ${c.incoming.version} (${c.incoming.status})` : now;
}
