// Policy lints: rules across fields that a schema cannot say, each of which has burned
// someone in production (docs/plan-reference.md, "Lints", gives the reason for each).
import type { ParsedPlan } from './schema';
import { parseDuration } from './duration';
import type { PlanProblem } from './problem';

export function lintPlan(p: ParsedPlan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const seen = new Map<string, number>();
  p.regions.forEach((r, i) => {
    const prev = seen.get(r.name);
    if (prev !== undefined) add(`regions[${i}].name`, `duplicate region "${r.name}" (also regions[${prev}])`);
    else seen.set(r.name, i);
    if (i > 0 && r.size < p.regions[i - 1]!.size) {
      add(
        `regions[${i}].size`,
        `${r.size} is smaller than regions[${i - 1}] (${p.regions[i - 1]!.name}, ${p.regions[i - 1]!.size}): order regions smallest first, largest last`,
      );
    }
    const gate = r.gate ?? p.defaults.gate;
    if (!gate) add(`regions[${i}].gate`, 'no gate: set regions[].gate or defaults.gate (a region without SLO evidence never promotes)');
    const soak = parseDuration(r.soak ?? p.defaults.soak) ?? 0;
    const interval = parseDuration(r.checkInterval ?? p.defaults.checkInterval) ?? 0;
    if (r.maxSoak !== undefined && (parseDuration(r.maxSoak) ?? 0) < soak)
      add(`regions[${i}].maxSoak`, `must be at least the soak (${r.soak ?? p.defaults.soak})`);
    if (interval > soak)
      add(
        `regions[${i}].checkInterval`,
        `${r.checkInterval ?? p.defaults.checkInterval} is longer than the soak (${r.soak ?? p.defaults.soak}): the soak would see no check`,
      );
    if (gate) {
      const gatePath = r.gate ? `regions[${i}].gate` : 'defaults.gate';
      const names = new Set<string>();
      gate.checks.forEach((c, j) => {
        if (names.has(c.name)) add(`${gatePath}.checks[${j}].name`, `duplicate check "${c.name}"`);
        names.add(c.name);
        if (c.source.type === 'prometheus' && !c.source.url && !p.prometheus) {
          add(`${gatePath}.checks[${j}].source.url`, "no Prometheus URL: set source.url or the plan's prometheus.url");
        }
      });
    }
    r.window?.allow.forEach((a, j) => {
      if (a.start === a.end) add(`regions[${i}].window.allow[${j}]`, 'start and end are equal: the window is empty');
    });
  });

  const migrationNames = new Set<string>();
  p.migrations.forEach((m, i) => {
    if (migrationNames.has(m.name)) add(`migrations[${i}].name`, `duplicate migration "${m.name}"`);
    migrationNames.add(m.name);
    if (!m.revert && !m.irreversible) {
      add(`migrations[${i}]`, `"${m.name}" has no revert step: add revert, or mark it irreversible with a reason`);
    }
    if (m.revert && m.irreversible) add(`migrations[${i}].irreversible`, 'a migration with a revert step is not irreversible: remove one of the two');
  });
  return problems;
}
