// Reaching a service's rollout: the connection, its workflow handle, and its whole status,
// running or ended (an ended rollout's status is read from its result, with no worker).
import { Client, WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { connectTemporal, type ConnectionConfig } from '../common/connection';
import { payloadCodecs } from '../common/payload-codec';
import { rolloutWorkflowId, statusQuery } from '../domain/definitions';
import type { RolloutStatus } from '../domain/state';
import { RolloutNotFoundError } from './errors';

export interface MrcdClient {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

/** Connects to Temporal with the given settings (connectionConfigFromEnv in common/connection.ts reads them from the environment). */
export async function connectClient(c: ConnectionConfig): Promise<MrcdClient> {
  const connection = await connectTemporal(c);
  // The same codec as the workers: plans, statuses and actions are encrypted when keys are set.
  const client = new Client({ connection, namespace: c.namespace, dataConverter: { payloadCodecs: payloadCodecs(c.payloadKeys) } });
  return { client, taskQueue: c.taskQueue, close: () => connection.close() };
}

export function rolloutHandle(m: MrcdClient, service: string): WorkflowHandle {
  return m.client.workflow.getHandle(rolloutWorkflowId(service));
}

/** The whole state of a service's latest rollout, running or ended. */
export async function getStatus(m: MrcdClient, service: string): Promise<RolloutStatus> {
  const handle = rolloutHandle(m, service);
  let desc;
  try {
    desc = await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new RolloutNotFoundError(service);
    throw e;
  }
  if (desc.status.name === 'RUNNING') return handle.query(statusQuery);
  // An ended rollout carries its final status in its result or its failure's details,
  // so reading it needs no worker.
  try {
    return (await handle.result()) as RolloutStatus;
  } catch (e) {
    const fromFailure = statusFromFailure(e);
    if (fromFailure) return fromFailure;
    throw e;
  }
}

/** Extracts the final RolloutStatus a failed rollout attaches to its failure. */
export function statusFromFailure(e: unknown): RolloutStatus | undefined {
  const cause = e instanceof WorkflowFailedError ? e.cause : e;
  if (cause instanceof ApplicationFailure && Array.isArray(cause.details) && cause.details[0] && typeof cause.details[0] === 'object') {
    const d = cause.details[0] as Partial<RolloutStatus>;
    if (typeof d.state === 'string' && Array.isArray(d.regions)) return d as RolloutStatus;
  }
  return undefined;
}
