// `mrcd pause|resume|abort|approve|retry|skip-soak <service>`: one operator action on a
// rollout, the same way for every action of domain/state.ts's OPERATOR_ACTIONS.
import { payloadProblem, type OperatorActionName } from '../../domain/state';
import { act } from '../../client/rollouts';
import { out, whoAmI, withClient, type CommandInput } from '../command-helpers';
import { EXIT, ExitError } from '../exit-codes';

export type OperatorActionOpts = { reason: string; by?: string; region?: string };

export async function operatorAction(action: OperatorActionName, { args: [service], options: o, global: g }: CommandInput<OperatorActionOpts>): Promise<void> {
  if (!o.reason.trim()) throw new ExitError(EXIT.invalid, '--reason must not be empty');
  // Dropped, an empty region would act on whatever region is current.
  if (o.region !== undefined && !o.region.trim())
    throw new ExitError(EXIT.invalid, `${action}: --region: must name a region (leave it out for the current one)`);
  const payload = { reason: o.reason, by: o.by ?? whoAmI(), ...(o.region !== undefined ? { region: o.region } : {}) };
  // The rollout refuses these too; refusing here names the flag.
  const problem = payloadProblem(payload);
  if (problem) throw new ExitError(EXIT.invalid, `${action}: ${problem.replace(/^reason:/, '--reason:').replace(/^by:/, '--by:')}`);
  await withClient(g, async (m) => {
    const res = await act(m, service, action, payload);
    out(g.json, res, () => `${action} ${service}: ${res.note} (state now ${res.state})`);
  });
}
