// `mrcd status <service>`: a service's latest rollout, as a table or JSON.
import Table from 'cli-table3';
import { failingChecks } from '../../domain/gate-text';
import { runbookLink } from '../../domain/runbook';
import { describeBlocker } from '../../domain/policy';
import type { RolloutStatus } from '../../domain/state';
import { holdLine } from '../../domain/summary';
import { getStatus } from '../../client/rollouts';
import { noWorkerLine, regionsWithoutWorker, type RegionWithoutWorker } from '../../client/region-workers';
import { out, withClient, type CommandInput } from '../command-helpers';

export async function status({ args: [service], global: g }: CommandInput<unknown>): Promise<void> {
  await withClient(g, async (m) => {
    const s = await getStatus(m, service);
    const stalled = await regionsWithoutWorker(m, s);
    out(g.json, stalled.length ? { ...s, regionsWithoutWorker: stalled } : s, () => statusTable(s, stalled));
  });
}

export function statusTable(s: RolloutStatus, stalled: RegionWithoutWorker[] = []): string {
  const t = new Table({ head: ['region', 'size', 'status', 'attempts', 'gate', 'detail'], style: { head: [], border: [] } });
  for (const r of s.regions) {
    const gate = r.lastGate ? r.lastGate.verdict : '';
    const detail =
      r.waitingFor ??
      (r.lastGate && r.lastGate.verdict !== 'pass'
        ? failingChecks(r.lastGate)
            .map((c) => c.detail)
            .join('; ')
        : '');
    t.push([r.name, String(r.size), r.status, String(r.attempts), gate, detail.slice(0, 80)]);
  }
  const lines = [
    `${s.service} ${s.version} — ${s.state}${s.pausedBy ? ` (paused by ${s.pausedBy})` : ''}`,
    `owner: ${s.owner.team} (${s.owner.contact})${s.owner.runbook ? `  runbook: ${s.owner.runbook}` : ''}`,
    s.summary,
    t.toString(),
  ];
  for (const w of stalled) lines.push(`waiting: ${noWorkerLine(w)}`);
  if (s.halt) lines.push(`halt${s.halt.cause ? ` [${s.halt.cause.kind}]` : ''}: ${s.halt.reason}`);
  const hold = holdLine(s);
  if (hold) lines.push(hold);
  // Only while no region shows it already (blocked, with what holds it).
  if (s.policy && !s.regions.some((r) => r.status === 'blocked'))
    lines.push(`fleet policy: the next step in ${s.policy.region} would wait for ${s.policy.blockers.map((b) => describeBlocker(b)).join('; ')}`);
  const runbook = runbookLink(s, process.env.MRCD_RUNBOOK_BASE);
  if (runbook) lines.push(`runbook: ${runbook}`);
  if (s.quarantine)
    lines.push(`quarantine: ${s.version} failed its gate in ${s.quarantine.region}; new rollouts of it are refused without --override-quarantine`);
  for (const o of s.overrides ?? []) lines.push(`override ${o.kind}${o.region ? ` (${o.region})` : ''} by ${o.by}: ${o.reason}`);
  lines.push(`legal actions now: ${s.legalActions.length ? s.legalActions.join(', ') : 'none (ended)'}`);
  const recent = s.actions.slice(-5);
  if (recent.length) {
    lines.push('recent operator actions:');
    for (const a of recent)
      lines.push(
        `  ${new Date(a.at).toISOString()} ${a.action} by ${a.by} via ${a.via}: ${a.accepted ? 'accepted' : 'rejected'}${a.note ? ` — ${a.note}` : ''} (reason: ${a.reason})`,
      );
  }
  return lines.join('\n');
}
