// Turns two successive statuses into the lines an operator wants to read: what changed.
import type { RegionState, RolloutStatus } from '../workflows/state';
import { checkText, failingChecks } from '../workflows/gate-text';

function time(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().slice(11, 19) + 'Z' : '?';
}

function regionLine(r: RegionState): string {
  switch (r.status) {
    case 'soaking':
      return `soaking until ${time(r.soakEndsAt)}${r.waitingFor ? ` (${r.waitingFor})` : ''}`;
    case 'waiting-window':
      return `waiting for ${r.waitingFor ?? 'its deploy window'} until ${time(r.waitingUntil)}`;
    case 'promoted': {
      const checks = r.lastGate?.checks.map((c) => `${c.name}=${c.value ?? '?'} ${c.comparator} ${c.threshold}`).join(', ');
      return `promoted${checks ? ` (gate pass: ${checks})` : ''}`;
    }
    case 'failed':
    case 'inconclusive':
      return `${r.status}: ${r.lastGate ? failingChecks(r.lastGate).map(checkText).join('; ') : ''}`;
    default:
      return r.waitingFor ? `${r.status}: waiting for ${r.waitingFor}` : r.status;
  }
}

/** Lines describing what changed from prev to s (everything, when prev is undefined). */
export function progressLines(s: RolloutStatus, prev?: RolloutStatus): string[] {
  const lines: string[] = [];
  if (!prev || prev.state !== s.state)
    lines.push(`rollout ${s.service} ${s.version}: ${s.state}${s.halt && s.state !== 'running' ? ` — ${s.halt.reason}` : ''}`);
  s.regions.forEach((r, i) => {
    const p = prev?.regions[i];
    if (!p || p.status !== r.status || p.waitingFor !== r.waitingFor) {
      if (!prev && r.status === 'pending') return;
      lines.push(`  [${r.name}] ${regionLine(r)}`);
    }
  });
  for (const a of s.actions.slice(prev?.actions.length ?? 0)) {
    lines.push(`  operator ${a.action} by ${a.by} (${a.via}): ${a.accepted ? (a.note ?? 'accepted') : `REJECTED — ${a.note}`}`);
  }
  return lines;
}
