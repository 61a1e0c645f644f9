// `mrcd deploy <plan>`: starts a rollout; with --follow, follows it to its verdict.
import { rolloutWorkflowId } from '../../domain/definitions';
import { startRollout, type MrcdClient } from '../../client/rollouts';
import { loadDoc, out, whoAmI, withClient, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';
import { following, timeoutMs, waitAndReport, type WaitOpts } from '../follow';
import { lazy } from '../lazy';
import { freezeNotes, timeOf } from './freeze';
import { overrideFreeze } from '../../client/policy';

type DeployOpts = WaitOpts & {
  follow?: boolean;
  wait?: boolean;
  by?: string;
  overrideQuarantine?: string;
  overrideFreeze?: string;
  overrideUntil?: string;
  version?: string;
};

export async function deploy({ args: [file], options: o, global: g }: CommandInput<DeployOpts>): Promise<void> {
  const follow = Boolean(o.follow || o.wait);
  if ((o.timeout !== undefined || o.throughHalts) && !follow)
    throw new ExitError(EXIT.invalid, `${o.timeout !== undefined ? '--timeout' : '--through-halts'} needs --follow (or its alias --wait)`);
  timeoutMs(o);
  const { PlanError, validatePlan, formatProblem } = lazy('plan');
  const loaded = await loadDoc(file);
  // --version is validated with the plan, as if the file said it.
  const doc = o.version !== undefined && typeof loaded === 'object' && loaded !== null ? { ...loaded, version: o.version } : loaded;
  const r = validatePlan(doc);
  if (!r.ok) throw new ExitError(EXIT.invalid, new PlanError(r.problems, o.version !== undefined ? `${file} with --version ${o.version}` : file).message);
  if (!g.json && r.warnings.length)
    process.stderr.write(`${file}: ${r.warnings.length} warning(s):\n${r.warnings.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
  if (o.overrideQuarantine !== undefined && !o.overrideQuarantine.trim()) throw new ExitError(EXIT.invalid, '--override-quarantine needs a reason');
  if (o.overrideFreeze !== undefined && !o.overrideFreeze.trim()) throw new ExitError(EXIT.invalid, '--override-freeze needs a reason');
  if (o.overrideUntil !== undefined && o.overrideFreeze === undefined) throw new ExitError(EXIT.invalid, '--override-until needs --override-freeze');
  const overrideUntil = timeOf('--override-until', o.overrideUntil, Date.now());
  const by = o.by ?? whoAmI();
  const start = async (m: MrcdClient) => {
    // The override first: the rollout's first question to the policy must find it.
    if (o.overrideFreeze !== undefined) {
      const ov = await overrideFreeze(m, {
        service: r.plan.service,
        rolloutId: rolloutWorkflowId(r.plan.service),
        reason: o.overrideFreeze,
        by,
        ...(overrideUntil !== undefined ? { until: overrideUntil } : {}),
      });
      if (!g.json) process.stderr.write(`override ${ov.id}: ${r.plan.service} goes past every freeze until ${new Date(ov.until).toISOString()}\n`);
    }
    const handle = await startRollout(m, doc, {
      startedBy: by,
      onWaiting: (note) => process.stderr.write(`${note}\n`),
      ...(o.overrideQuarantine ? { overrideQuarantine: { reason: o.overrideQuarantine, by } } : {}),
    });
    if (!g.json) process.stdout.write(`started ${handle.workflowId} (${r.plan.service} ${r.plan.version})\n`);
    // Up front: the regions a freeze will hold, and until when (the rollout waits there as blocked).
    for (const line of await freezeNotes(m, r.plan)) process.stderr.write(`${line}\n`);
    return handle;
  };
  if (!follow)
    return withClient(g, async (m) => {
      const handle = await start(m);
      if (g.json) out(true, { workflowId: handle.workflowId, started: true }, () => '');
    });
  await following(g, rolloutWorkflowId(r.plan.service), true, (shown) =>
    withClient(g, async (m) => {
      await start(m);
      await waitAndReport(m, r.plan.service, g, o, shown);
    }),
  );
}
