// `mrcd plan <plan>`: what a rollout of the plan would do, without starting it.
import { parseDuration } from '../../domain/duration';
import { loadDoc, out, withClient, type CommandInput } from '../command-helpers';
import { freezeNotes } from './freeze';
import { EXIT, ExitError } from '../exit-codes';
import { lazy } from '../lazy';

export async function plan({ args: [file], options: o, global: g }: CommandInput<{ start?: string; deployTime: string; policy?: boolean }>): Promise<void> {
  const deployMs = parseDuration(o.deployTime);
  if (deployMs === undefined)
    throw new ExitError(EXIT.invalid, `--deploy-time: ${JSON.stringify(o.deployTime)} must be a duration such as "90s", "5m" or "1h"`);
  const startAt = o.start === undefined ? Date.now() : Date.parse(o.start);
  if (!Number.isFinite(startAt)) throw new ExitError(EXIT.invalid, `--start: ${JSON.stringify(o.start)} must be an ISO 8601 time such as 2026-12-07T09:00Z`);
  const { PlanError, validatePlan, formatProblem } = lazy('plan');
  const r = validatePlan(await loadDoc(file));
  if (!r.ok) {
    if (g.json) out(true, { valid: false, problems: r.problems }, () => '');
    throw new ExitError(EXIT.invalid, new PlanError(r.problems, file).message);
  }
  const { previewPlan, previewText } = lazy('planPreview');
  const preview = previewPlan(r.plan, r.warnings, { startAt, deployMs });
  // The policy lives in Temporal: read only when asked, so a plan is previewed offline (CI) as before.
  const frozen = o.policy ? await withClient(g, (m) => freezeNotes(m, r.plan)) : undefined;
  out(g.json, frozen ? { ...preview, policy: frozen } : preview, () =>
    [previewText(preview, formatProblem), ...(frozen ? (frozen.length ? frozen : ['fleet policy: no freeze covers this plan now']) : [])].join('\n'),
  );
}
