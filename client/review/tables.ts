// The review's tables as rows of text, shared by the Markdown and the HTML renderings so
// both show the same figures in the same order.
import { humanDuration, isoMinute, percent } from './format';
import { STAGES, type GroupFigures, type ReviewReport } from './types';

export interface TextTable {
  title: string;
  /** The footnote (key of FOOTNOTES) each column refers to, by header. */
  head: string[];
  rows: string[][];
  notes: string[];
  /** The first row is the total of the rows after it. */
  totalFirst?: boolean;
}

/** "#1: 3, #2: 1": problems first caught per region number (1 = first), regions that caught none left out. */
const caught = (g: GroupFigures) =>
  g.problems
    ? g.caughtAt
        .map((n, i) => (n ? `#${i + 1}: ${n}` : ''))
        .filter(Boolean)
        .join(', ')
    : '–';

function verdictTable(title: string, groups: GroupFigures[]): TextTable {
  return {
    title,
    head: [
      '',
      'rollouts',
      'succeeded',
      'rolled back',
      'aborted',
      'failed',
      'terminated / timed out',
      'ever halted',
      'problems',
      'caught at region',
      'first region caught',
    ],
    rows: groups.map((g) => [
      g.key,
      String(g.rollouts),
      `${g.verdicts.succeeded} (${percent(g.rates.succeeded)})`,
      `${g.verdicts['rolled-back']} (${percent(g.rates['rolled-back'])})`,
      `${g.verdicts.aborted} (${percent(g.rates.aborted)})`,
      `${g.verdicts.failed} (${percent(g.rates.failed)})`,
      `${g.verdicts.terminated + g.verdicts['timed-out']}${g.verdicts['no-status'] ? ` (+${g.verdicts['no-status']} no status)` : ''}`,
      String(g.everHalted),
      String(g.problems),
      caught(g),
      g.problems ? `${g.caughtInFirstRegion} (${percent(g.firstRegionRate)})` : '–',
    ]),
    notes: ['verdicts', 'rates', 'everHalted', 'problems', 'caughtAt', 'firstRegion'],
    totalFirst: true,
  };
}

function timeTable(title: string, groups: GroupFigures[]): TextTable {
  return {
    title,
    head: [
      '',
      'paused (rollouts, total)',
      'halted (rollouts, total)',
      ...STAGES.map((s) => `${s} mean / p95`),
      'overrides',
      'stale holds',
      'reminders sent / escalated',
      '>2 regions, no reason',
    ],
    rows: groups.map((g) => [
      g.key,
      `${g.paused.rollouts}, ${humanDuration(g.paused.totalMs)}`,
      `${g.halted.rollouts}, ${humanDuration(g.halted.totalMs)}`,
      ...STAGES.map((s) => (g.stages[s].n ? `${humanDuration(g.stages[s].meanMs)} / ${humanDuration(g.stages[s].p95Ms)}` : '–')),
      String(g.overrides),
      String(g.staleHolds),
      g.reminders.rollouts ? `${g.reminders.sent} / ${g.reminders.escalated}` : '–',
      String(g.undeclaredGrowth),
    ]),
    notes: ['paused', 'halted', 'deploy', 'soak', 'hold', 'region', 'rollout', 'stages', 'overrides', 'staleHolds', 'undeclaredGrowth'],
    totalFirst: true,
  };
}

/** Every table of the review, in reading order. */
export function reviewTables(r: ReviewReport): TextTable[] {
  const groups = [r.total, ...r.byService];
  return [
    verdictTable('Verdicts by service', groups),
    verdictTable('Verdicts by owner', [r.total, ...r.byOwner]),
    timeTable('Time by service', groups),
    timeTable('Time by owner', [r.total, ...r.byOwner]),
    {
      title: 'Overrides',
      head: ['when', 'service', 'version', 'kind', 'region', 'by', 'why'],
      rows: r.overrides.map((o) => [isoMinute(o.at), o.service, o.version, o.kind, o.region ?? '', o.by, o.reason]),
      notes: ['overrides'],
    },
    {
      title: 'Gate checks',
      head: ['check', 'seen', 'evaluated', 'failed', 'note'],
      rows: r.checks.map((c) => [
        c.name,
        String(c.seen),
        String(c.evaluated),
        String(c.failed),
        c.evaluated === 0 ? 'never evaluated' : c.failed === 0 ? 'never failed' : '',
      ]),
      notes: ['checks'],
    },
    {
      title: 'Shadow checks against the gate',
      head: ['check', 'compared', 'agreed', 'would fail', 'would pass', 'undecided'],
      rows: r.shadow.map((c) => [c.name, String(c.compared), String(c.agreed), String(c.wouldFail), String(c.wouldPass), String(c.undecided)]),
      notes: ['shadow'],
    },
    {
      title: `Stale holds (longer than ${humanDuration(r.window.staleAfterMs)})`,
      head: ['service', 'version', 'kind', 'region', 'from', 'lasted', 'note'],
      rows: r.staleHolds.map((h) => [
        h.service,
        h.version,
        h.kind,
        h.region ?? '',
        isoMinute(h.from),
        humanDuration(h.durationMs),
        h.endedWithRollout ? 'open when the rollout ended' : '',
      ]),
      notes: ['staleHolds'],
    },
    {
      title: 'More than two regions without a declared reason',
      head: ['service', 'version', 'regions', 'workflow'],
      rows: r.undeclaredGrowth.map((g) => [g.service, g.version, String(g.regions), g.workflowId]),
      notes: ['undeclaredGrowth'],
    },
  ];
}

/** The one-line heading of a review. */
export function reviewTitle(r: ReviewReport): string {
  const scope = [r.filter.service && `service ${r.filter.service}`, r.filter.owner && `owner ${r.filter.owner}`].filter(Boolean).join(', ');
  return `Rollout review ${isoMinute(r.window.since)} – ${isoMinute(r.window.until)}${scope ? ` (${scope})` : ''}`;
}
