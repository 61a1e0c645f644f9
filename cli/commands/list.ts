// `mrcd list`: rollouts through Temporal visibility, filtered.
import type { RolloutState } from '../../domain/state';
import { limitOf, listed, out, rowsTable, type CommandInput } from '../command-helpers';

export async function list({ options: o, global: g }: CommandInput<{ state?: string; owner?: string; service?: string; limit: string }>): Promise<void> {
  const states = o.state?.split(',').map((x) => x.trim()) as RolloutState[] | undefined;
  const rows = await listed(g, {
    ...(states ? { states } : {}),
    ...(o.owner ? { owner: o.owner } : {}),
    ...(o.service ? { service: o.service } : {}),
    limit: limitOf(o.limit),
  });
  out(g.json, rows, () => rowsTable(rows, true));
}
