// Human-readable progress for `status`, the CLI and the Temporal UI's current details.
import type { RegionState, RolloutStatus } from './state';

const ICON: Record<RegionState['status'], string> = {
  pending: '·',
  'waiting-window': '⏳',
  deploying: '→',
  soaking: '~',
  gating: '?',
  'awaiting-approval': '✋',
  'awaiting-resume': '⏸',
  promoted: '✓',
  failed: '✗',
  inconclusive: '!',
  'rolling-back': '↩',
  'rolled-back': '↩',
  'rollback-failed': '✗↩',
};

/** Workflow time is deterministic, so an absolute UTC time is safe to render here. */
const until = (r: RegionState) => (r.waitingUntil !== undefined ? ` until ${new Date(r.waitingUntil).toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '');

export function summarize(s: RolloutStatus): string {
  const done = s.regions.filter((r) => r.status === 'promoted').length;
  const head = `${s.service} ${s.version}: ${s.state}`;
  const where = s.currentRegion ? ` in ${s.currentRegion}` : '';
  const progress = s.regions.length ? ` (${done}/${s.regions.length} regions promoted)` : '';
  const cur = s.regions.find((r) => r.name === s.currentRegion);
  const waiting = cur?.waitingFor ? `; waiting for ${cur.waitingFor}${until(cur)}` : '';
  const halt = s.halt && s.state !== 'running' && s.state !== 'paused' ? `; ${s.halt.reason}` : '';
  return head + where + progress + waiting + halt;
}

/** Markdown for the Temporal UI's "current details" panel. */
export function renderDetails(s: RolloutStatus): string {
  const lines = [`**${s.service} ${s.version}** — ${s.state}`, ''];
  for (const r of s.regions) {
    const extra = r.waitingFor ? ` — waiting for ${r.waitingFor}${until(r)}` : r.lastGate ? ` — gate ${r.lastGate.verdict}` : '';
    lines.push(`- ${ICON[r.status]} ${r.name} (size ${r.size}): ${r.status}${extra}`);
  }
  if (s.halt) lines.push('', `Halt: ${s.halt.reason}`);
  if (s.legalActions.length) lines.push('', `Operator actions now: ${s.legalActions.join(', ')} (signal payload {"reason": "...", "by": "..."})`);
  return lines.join('\n');
}
