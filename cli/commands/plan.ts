// `mrcd plan <plan>`: what a rollout of the plan would do, without starting it.
import { parseDuration } from '../../domain/duration';
import { loadDoc, out, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';
import { lazy } from '../lazy';

export async function plan({ args: [file], options: o, global: g }: CommandInput<{ start?: string; deployTime: string }>): Promise<void> {
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
  out(g.json, preview, () => previewText(preview, formatProblem));
}
