// `mrcd policy show|apply`: the fleet policy now (region slots, freezes, its log), and the
// policy file applied (region concurrency, freezes known ahead).
import Table from 'cli-table3';
import { applyPolicy, showPolicy, type PolicyState } from '../../client/policy';
import { regionLoad } from '../../domain/policy';
import { loadDoc, out, whoAmI, withClient, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';
import { lazy } from '../lazy';
import { freezeTable } from './freeze';

const utc = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function policyShow({ global: g }: CommandInput<unknown>): Promise<void> {
  await withClient(g, async (m) => {
    const p = await showPolicy(m);
    out(g.json, p, () => policyText(p, Date.now()));
  });
}

export function policyText(p: PolicyState, now: number): string {
  const regions = [...new Set([...Object.keys(p.concurrency), ...p.leases.map((l) => l.region), ...p.waiting.map((w) => w.region)])].sort();
  const t = new Table({ head: ['region', 'limit', 'deploying or soaking', 'waiting'], style: { head: [], border: [] } });
  for (const r of regions) {
    const load = regionLoad(p, r);
    t.push([
      r,
      load.limit !== undefined ? String(load.limit) : '-',
      load.holders.map((l) => l.service).join(', '),
      load.waiting.map((w) => `${w.service} (${w.step})`).join(', '),
    ]);
  }
  const lines = [regions.length ? t.toString() : 'no rollout in flight, no region limits', 'freezes:', freezeTable(p.freezes, now)];
  if (p.appliedBy) lines.push(`policy file applied by ${p.appliedBy.by} at ${utc(p.appliedBy.at)}: ${p.appliedBy.reason}`);
  const recent = p.log.slice(-10);
  if (recent.length) {
    lines.push('recent changes:');
    for (const e of recent) lines.push(`  ${utc(e.at)} ${e.action}${e.detail ? ` ${e.detail}` : ''} by ${e.by}: ${e.reason}`);
  }
  return lines.join('\n');
}

export async function policyApply({ args: [file], options: o, global: g }: CommandInput<{ reason?: string; by?: string }>): Promise<void> {
  const { policyFileProblems, applyRequestOf } = lazy('plan');
  const doc = await loadDoc(file!);
  const r = policyFileProblems(doc, Date.now());
  if (!r.ok) {
    if (g.json) out(true, { applied: false, problems: r.problems }, () => '');
    throw new ExitError(EXIT.invalid, `${file}: ${r.problems.length} problem(s):\n${r.problems.map((p) => `  ${p}`).join('\n')}`);
  }
  await withClient(g, async (m) => {
    const p = await applyPolicy(m, applyRequestOf(r.file, o.by ?? whoAmI(), o.reason ?? `applied ${file}`));
    out(
      g.json,
      p,
      () =>
        `${file} applied: ${Object.keys(p.concurrency).length} region limit(s), ${p.freezes.filter((f) => f.source === 'policy-file').length} freeze(s) from the file\n${policyText(p, Date.now())}`,
    );
  });
}
