// Human-readable progress for `status`, the CLI and the Temporal UI's current details.
import { runbookLink } from './runbook';
import type { RecordedAction, RegionState, RolloutStatus } from './state';

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
  blocked: '⛔',
};

/** Workflow time is deterministic, so an absolute UTC time is safe to render here. */
const utc = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const until = (r: RegionState) => (r.waitingUntil !== undefined ? ` until ${utc(r.waitingUntil)}` : '');

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

/** Who paused the rollout and why: the newest accepted pause (older ones may be folded out of `actions`). */
function pauseOf(s: RolloutStatus): RecordedAction | undefined {
  for (let i = s.actions.length - 1; i >= 0; i--) {
    const a = s.actions[i]!;
    if (a.action === 'pause' && a.accepted && a.by === s.pausedBy) return a;
  }
  return undefined;
}

/** What a region does now, in words; a soak says when it ends (details are not live, so no countdown). */
function regionLine(r: RegionState): string {
  const soakEnd = r.status === 'soaking' && r.soakEndsAt !== undefined ? ` — soak ends ${utc(r.soakEndsAt)}` : '';
  const extra = r.waitingFor ? ` — waiting for ${r.waitingFor}${until(r)}` : r.lastGate ? ` — gate ${r.lastGate.verdict}` : '';
  const attempts = r.attempts > 1 ? ` (attempt ${r.attempts})` : '';
  return `- ${ICON[r.status]} ${r.name} (size ${r.size}): ${r.status}${attempts}${soakEnd}${extra}`;
}

/** The runbook section for where the rollout is now, and the team's own runbook beside it. */
function runbookLine(s: RolloutStatus): string | undefined {
  const link = runbookLink(s);
  if (!link) return undefined;
  return `Runbook: ${link}${s.owner.runbook ? ` · team runbook: ${s.owner.runbook}` : ''}`;
}

/** Since when the rollout waits for a person, and whether its owner was reminded: a stale hold shows as one. */
export function holdLine(s: RolloutStatus): string | undefined {
  const h = s.hold;
  if (!h) return undefined;
  const reminded = h.reminders ? `; owner reminded ${h.reminders} time${h.reminders === 1 ? '' : 's'}` : '';
  const escalated = h.escalatedAt !== undefined ? `, escalated ${utc(h.escalatedAt)}` : '';
  return `Held (${h.kind}${h.region ? ` at ${h.region}` : ''}) since ${utc(h.since)}${reminded}${escalated}`;
}

/**
 * Markdown for the Temporal UI's "current details" panel: the state and the region in
 * flight, who paused and why, each region (a soak with its end as an absolute time), the
 * halt, and the actions legal now. Rendered at each change, not live. The payload is a code
 * span: the UI's Markdown turns plain quotes into curly ones, which are not JSON when pasted.
 */
export function renderDetails(s: RolloutStatus): string {
  const done = s.regions.filter((r) => r.status === 'promoted').length;
  const where = s.currentRegion ? ` in ${s.currentRegion}` : '';
  // "of", not "/": the UI's Markdown turns 1/3 into a fraction.
  const progress = s.regions.length ? ` (${done} of ${s.regions.length} regions promoted)` : '';
  const ended = s.endedAt !== undefined ? `, ended ${utc(s.endedAt)}` : '';
  const lines = [`**${s.service} ${s.version}** — ${s.state}${where}${progress}${ended}`, ''];
  if (s.state === 'paused') {
    const p = pauseOf(s);
    lines.push(
      p
        ? `Paused by ${p.by} at ${utc(p.at)}: ${p.reason} (the next promotion is held; soaks and SLO watches go on)`
        : `Paused by ${s.pausedBy ?? 'an operator'} (the next promotion is held; soaks and SLO watches go on)`,
      '',
    );
  }
  for (const r of s.regions) lines.push(regionLine(r));
  if (s.halt) {
    const cause = s.halt.cause ? ` [${s.halt.cause.kind}${s.halt.cause.region ? ` in ${s.halt.cause.region}` : ''}]` : '';
    lines.push('', `Halt${cause}: ${s.halt.reason}`);
  }
  const hold = holdLine(s);
  if (hold) lines.push('', hold);
  const runbook = runbookLine(s);
  if (runbook) lines.push('', runbook);
  if (s.legalActions.length) lines.push('', `Operator actions now: ${s.legalActions.join(', ')} (signal payload \`{"reason": "...", "by": "..."}\`)`);
  return lines.join('\n');
}
