// `mrcd validate <plan>`: CI's check of a plan file.
import { formatDuration } from '../../domain/duration';
import { exitError, loadDoc, out, unreadableProblems, type CommandInput } from '../command-helpers';
import { lazy } from '../lazy';

export async function validate({ args: [file], options: o, global: g }: CommandInput<{ strict?: boolean }>): Promise<void> {
  const { PlanError, validatePlan, formatProblem } = lazy('plan');
  // CI reads --json on stdout: a plan that cannot even be read answers there too.
  const doc = await loadDoc(file).catch((e: unknown) => {
    if (g.json && e instanceof lazy('exitCodes').ExitError)
      out(true, { valid: false, strict: Boolean(o.strict), problems: unreadableProblems(file, e) }, () => '');
    throw e;
  });
  const r = validatePlan(doc);
  const problems = r.ok ? r.warnings : r.problems;
  if (!r.ok || (o.strict && problems.length > 0)) {
    if (g.json) out(true, { valid: false, strict: Boolean(o.strict), problems }, () => '');
    throw exitError('invalid', new PlanError(problems, file).message + (r.ok ? '\n(--strict: warnings are errors)' : ''));
  }
  out(g.json, { valid: true, plan: r.plan, problems }, () =>
    [
      `${file}: valid — ${r.plan.service} ${r.plan.version}, owner ${r.plan.owner.team}`,
      ...r.plan.regions.map(
        (x, i) =>
          `  ${i + 1}. ${x.name} (size ${x.size}) soak ${formatDuration(x.soakMs)}, checks every ${formatDuration(x.checkIntervalMs)}, ${x.gate.checks.length} check(s)${x.approval === 'required' ? ', approval required' : ''}${x.window ? `, window ${x.window.timezone}` : ''}`,
      ),
      `  on failure: ${r.plan.failurePolicy}`,
    ].join('\n'),
  );
  if (!g.json && problems.length) process.stderr.write(`${file}: ${problems.length} warning(s):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
}
