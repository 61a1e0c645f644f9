// The live terminal view of `mrcd deploy --follow` and `mrcd watch`: one frame for a status
// at a moment. Pure (no I/O, the clock comes in as `nowMs`) so every frame can be tested;
// client/follow-output.ts redraws it in place.
import type { CheckResult, GateResult } from '../domain/activity-contract';
import type { OperatorActionName, RegionState, RolloutStatus } from '../domain/state';
import { failingChecks } from '../domain/gate-text';
import { runbookLink } from '../domain/runbook';
import { actionSpec } from '../domain/operator-actions';

export interface LiveViewOptions {
  /** Prefix of the runbook link ($MRCD_RUNBOOK_BASE), as `mrcd status` uses it. */
  runbookBase?: string;
  /**
   * How the operator runs mrcd, with the connection flags they gave (e.g. `mrcd --address
   * host:7233`), so the commands shown can be pasted as they are. Default `mrcd`.
   */
  command?: string;
}

const clock = (ms: number | undefined): string => (ms ? new Date(ms).toISOString().slice(11, 19) + 'Z' : '');

/** A span as `1h 02m 03s`, `2m 05s` or `42s`: second by second, so a countdown visibly ticks. */
export function span(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (d) return `${d}d ${two(h)}h ${two(m)}m`;
  if (h) return `${h}h ${two(m)}m ${two(s)}s`;
  if (m) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

/** What a region is doing now, with a countdown where there is something to wait for. */
function regionDetail(r: RegionState, now: number): string {
  switch (r.status) {
    case 'soaking': {
      if (r.soakEndsAt === undefined) return r.waitingFor ?? '';
      const left = r.soakEndsAt - now;
      const soak = left > 0 ? `soak ends in ${span(left)} (${clock(r.soakEndsAt)})` : `soak over at ${clock(r.soakEndsAt)}, gate due`;
      return r.waitingFor ? `${soak}; ${r.waitingFor}` : soak;
    }
    case 'waiting-window': {
      const what = r.waitingFor ?? 'deploy window';
      return r.waitingUntil !== undefined ? `${what}: opens in ${span(r.waitingUntil - now)} (${clock(r.waitingUntil)})` : what;
    }
    case 'failed':
    case 'inconclusive':
      return r.lastGate
        ? failingChecks(r.lastGate)
            .map((c) => `${c.name} ${c.verdict}`)
            .join(', ')
        : (r.watchProblem ?? '');
    case 'promoted':
      return r.regressedAt ? `regressed at ${clock(r.regressedAt)}` : r.approvedBy ? `approved by ${r.approvedBy}` : '';
    default:
      return r.waitingFor ? `waiting for ${r.waitingFor}` : '';
  }
}

/** Columns padded to their widest cell; the last one is left as it is (it carries the countdown). */
function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** A measured value to four significant digits: 0.02384937238493724 reads 0.02385, as the gate's own detail says it. */
const num = (v: number | undefined): string => (v === undefined ? '?' : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));

const reading = (c: CheckResult): string[] => [
  `  ${c.name}`,
  `${num(c.value)} ${c.comparator} ${c.threshold}`,
  c.verdict,
  c.verdict === 'pass' ? '' : c.detail.slice(0, 80),
];

/** The newest gate evaluation of any region, with its region: what the SLOs said last. */
function latestGate(s: RolloutStatus): { region: string; gate: GateResult } | undefined {
  let best: { region: string; gate: GateResult } | undefined;
  for (const r of s.regions) if (r.lastGate && (!best || r.lastGate.at >= best.gate.at)) best = { region: r.name, gate: r.lastGate };
  return best;
}

/** Why the rollout is paused: the reason of the pause that holds it (the newest accepted one by whoever paused it). */
export function pauseReason(s: RolloutStatus): string | undefined {
  const pauses = s.actions.filter((a) => a.action === 'pause' && a.accepted);
  return (pauses.filter((a) => a.by === s.pausedBy).at(-1) ?? pauses.at(-1))?.reason;
}

/** An action legal now as the command that does it: an action with a target region names it. */
export function actionCommand(s: RolloutStatus, action: OperatorActionName, command = 'mrcd'): string {
  const target = actionSpec(action).target;
  const region = target ? s.regions.find((r) => r.status === target.status)?.name : undefined;
  return `${command} ${action} ${s.service}${region ? ` --region ${region}` : ''} --reason "..."`;
}

/** One frame of the live view: the rollout at `nowMs` (countdowns and elapsed time are computed from it). */
export function renderLiveView(s: RolloutStatus, nowMs: number, opts: LiveViewOptions = {}): string {
  const lines: string[] = [];
  const ended = s.endedAt !== undefined;
  const elapsed = (s.endedAt ?? nowMs) - s.startedAt;
  lines.push(
    `${s.service} ${s.version} — ${s.state}   started by ${s.startedBy ?? 'unknown'} at ${clock(s.startedAt)}   ${ended ? 'took' : 'elapsed'} ${span(elapsed)}`,
  );
  lines.push(s.summary);
  lines.push('');

  if (s.regions.length === 0) lines.push('(the plan is being prepared: no regions yet)');
  else
    lines.push(
      ...columns([
        ['region', 'size', 'status', 'attempts', 'deployed', 'promoted', 'now'],
        ...s.regions.map((r) => [
          r.name,
          String(r.size),
          r.status,
          String(r.attempts),
          clock(r.deployedAt),
          clock(r.promotedAt),
          regionDetail(r, nowMs).slice(0, 100),
        ]),
      ]),
    );

  const last = latestGate(s);
  if (last) {
    lines.push('');
    lines.push(`SLO readings (${last.region}, gate ${last.gate.verdict} at ${clock(last.gate.at)}):`);
    lines.push(...columns(last.gate.checks.map(reading)));
  }

  if (s.state === 'paused' || s.pausedBy) {
    lines.push('');
    const why = pauseReason(s);
    lines.push(`paused by ${s.pausedBy ?? 'unknown'}${why ? `: ${why}` : ''} (soaks and SLO watches go on; the next promotion waits)`);
  }
  if (s.halt && s.state !== 'running' && s.state !== 'succeeded') {
    lines.push('');
    lines.push(`halt${s.halt.cause ? ` [${s.halt.cause.kind}]` : ''}${s.halt.region ? ` in ${s.halt.region}` : ''}: ${s.halt.reason}`);
  }
  if (s.hold && !ended) {
    const h = s.hold;
    const reminded = h.reminders ? `; owner reminded ${h.reminders === 1 ? 'once' : `${h.reminders} times`}` : '';
    const escalated = h.escalatedAt !== undefined ? `, escalated at ${clock(h.escalatedAt)}` : '';
    lines.push(`held (${h.kind}${h.region ? ` at ${h.region}` : ''}) for ${span(nowMs - h.since)} since ${clock(h.since)}${reminded}${escalated}`);
  }
  const runbook = runbookLink(s, opts.runbookBase);
  if (runbook) lines.push(`runbook: ${runbook}`);

  lines.push('');
  if (s.legalActions.length) {
    lines.push('what you can do now:');
    for (const a of s.legalActions) lines.push(`  ${actionCommand(s, a, opts.command)}`);
  } else lines.push(ended ? `ended: ${s.state}` : 'no operator action is possible now');

  const recent = s.actions.slice(-3);
  if (recent.length) {
    lines.push('');
    lines.push('recent operator actions:');
    for (const a of recent)
      lines.push(`  ${clock(a.at)} ${a.action} by ${a.by}: ${a.accepted ? 'accepted' : `REJECTED (${a.note ?? 'refused'})`} — ${a.reason}`.slice(0, 160));
  }
  return lines.join('\n');
}
