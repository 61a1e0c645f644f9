// `mrcd plan <plan>`: what a rollout of the plan would do, without starting it.
import { parseDuration } from '../../domain/duration';
import { exitError, loadDoc, out, withClient, type CommandInput } from '../command-helpers';
import { lazy } from '../lazy';

/**
 * ./freeze.ts, required only with --policy: it loads the Temporal client, which a plan
 * previewed offline (CI) never needs. Not in ../lazy.ts: freeze.ts reaches that module
 * (through ../command-helpers.ts), so a require there would be an import cycle.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const freezeCommand = () => require('./freeze') as typeof import('./freeze');

type PlanOptions = { start?: string; deployTime: string; policy?: boolean; power?: boolean; history: string };

/** A duration flag's value, or exit 2 naming the flag. */
function durationFlag(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw exitError('invalid', `${flag}: ${JSON.stringify(text)} must be a duration such as "90s", "5m" or "1h"`);
  return ms;
}

export async function plan({ args: [file], options: o, global: g }: CommandInput<PlanOptions>): Promise<void> {
  const deployMs = durationFlag('--deploy-time', o.deployTime);
  // Checked with or without --power: a typo is refused before anything is read.
  const historyMs = durationFlag('--history', o.history);
  const startAt = o.start === undefined ? Date.now() : Date.parse(o.start);
  if (!Number.isFinite(startAt)) throw exitError('invalid', `--start: ${JSON.stringify(o.start)} must be an ISO 8601 time such as 2026-12-07T09:00Z`);
  const { PlanError, validatePlan, formatProblem } = lazy('plan');
  const r = validatePlan(await loadDoc(file));
  if (!r.ok) {
    if (g.json) out(true, { valid: false, problems: r.problems }, () => '');
    throw exitError('invalid', new PlanError(r.problems, file).message);
  }
  const { previewPlan, previewText, powerText, powerProblems } = lazy('planPreview');
  let preview = previewPlan(r.plan, r.warnings, { startAt, deployMs });
  // Prometheus is read only with --power, so a plan is still previewed offline (CI) without it.
  // Its failures are in each entry (a warning, exit 0 like any lint warning), never a crash.
  const power = o.power ? await lazy('comparisonPower').soakPower(r.plan, { history: historyMs }) : undefined;
  if (power) preview = { ...preview, power, problems: [...preview.problems, ...powerProblems(power)] };
  // The policy lives in Temporal: read only when asked, so a plan is previewed offline (CI) as before.
  const frozen = o.policy ? await withClient(g, (m) => freezeCommand().freezeNotes(m, r.plan)) : undefined;
  out(g.json, frozen ? { ...preview, policy: frozen } : preview, () =>
    [
      previewText(preview, formatProblem),
      ...(power ? [powerText(power)] : []),
      ...(frozen ? (frozen.length ? frozen : ['fleet policy: no freeze covers this plan now']) : []),
    ].join('\n'),
  );
}
