// `mrcd history <service>`: a service's ended rollouts.
import { limitOf, listed, out, rowsTable, type CommandInput } from '../command-helpers';

export async function history({ args: [service], options: o, global: g }: CommandInput<{ limit: string }>): Promise<void> {
  const rows = await listed(g, { service, ended: true, limit: limitOf(o.limit) });
  out(g.json, rows, () => `${service}: ${rows.length} ended rollout(s)\n${rowsTable(rows, false)}`);
}
