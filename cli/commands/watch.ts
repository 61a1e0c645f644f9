// `mrcd watch <rollout>`: follows a running rollout to its verdict.
import { rolloutWorkflowId } from '../../domain/definitions';
import { getStatus, RolloutNotFoundError, type MrcdClient } from '../../client/rollouts';
import { withClient, type CommandInput } from '../command-helpers';
import { following, timeoutMs, waitAndReport, type WaitOpts } from '../follow';

export async function watch({ args: [rollout], options: o, global: g }: CommandInput<WaitOpts>): Promise<void> {
  timeoutMs(o);
  const rolloutId = rollout.startsWith('rollout-') ? rollout : rolloutWorkflowId(rollout);
  await following(g, rolloutId, false, (shown) => withClient(g, async (m) => waitAndReport(m, await watchedService(m, rollout), g, o, shown)));
}

/**
 * The service `mrcd watch` means: its argument names a service, or a rollout by its id
 * (`rollout-<service>`, as `status.rolloutId`, the Web UI and NDJSON events show it).
 */
async function watchedService(m: MrcdClient, rollout: string): Promise<string> {
  try {
    await getStatus(m, rollout);
    return rollout;
  } catch (e) {
    const service = rollout.replace(/^rollout-/, '');
    if (!(e instanceof RolloutNotFoundError) || service === rollout) throw e;
    await getStatus(m, service);
    return service;
  }
}
