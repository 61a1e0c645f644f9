// How a gate's checks read as text: one rule for the workflow's halt reasons and
// notifications and for mrcd's progress lines and status table. Pure, so workflow code and
// the client library can both import it.
import type { CheckResult, GateResult } from './activity-contract';

/** The checks that kept the gate from passing (fail, inconclusive, error); shadow checks never do. */
export function failingChecks(g: GateResult): CheckResult[] {
  return g.checks.filter((c) => c.verdict !== 'pass' && !c.shadow);
}

/** One check as `name verdict: detail` (`name (shadow) verdict: …` for a shadow check). */
export function checkText(c: CheckResult): string {
  return `${c.name}${c.shadow ? ' (shadow)' : ''} ${c.verdict}: ${c.detail}`;
}

/** The failing checks of a gate (all of them when none failed), as one line for halts and notifications. */
export function describeGate(g: GateResult): string {
  const bad = failingChecks(g);
  return (bad.length ? bad : g.checks).map(checkText).join('; ') || g.verdict;
}
