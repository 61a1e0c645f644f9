// Builds a worker for the rollout task queue. Used by worker/main.ts (the process), the
// dev stack (in-process) and the integration tests.
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { createActivities } from '../activities';
import type { RolloutActivities } from '../domain/activity-contract';
import { connectOptions, type ConnectionConfig } from '../common/connection';
import { payloadCodecs } from '../common/payload-codec';
import { defaultWorkflowTaskSlots } from './slots';

export interface CreateWorkerOptions {
  connection: ConnectionConfig;
  /** A prebuilt bundle (path to the code, or the bundle itself); otherwise workflows/ is bundled now. */
  workflowBundle?: WorkflowBundle | string;
  activities?: RolloutActivities;
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  shutdownGraceMs?: number;
  identity?: string;
  /** No workflow code: a region-local worker that runs its region's activities only. */
  activitiesOnly?: boolean;
}

export async function connectNative(c: ConnectionConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectOptions(c));
}

export async function createWorker(opts: CreateWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await connectNative(opts.connection);
  const bundle = opts.activitiesOnly
    ? {}
    : typeof opts.workflowBundle === 'string'
      ? { workflowBundle: { code: readFileSync(opts.workflowBundle, 'utf8') } }
      : opts.workflowBundle
        ? { workflowBundle: opts.workflowBundle }
        : { workflowsPath: require.resolve('../workflows') };
  try {
    const worker = await Worker.create({
      connection,
      namespace: opts.connection.namespace,
      taskQueue: opts.connection.taskQueue,
      ...bundle,
      activities: opts.activities ?? createActivities(),
      // Codecs run outside the workflow sandbox, so workflow code and replay are untouched.
      dataConverter: { payloadCodecs: payloadCodecs(opts.connection.payloadKeys) },
      ...(opts.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities } : {}),
      maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks ?? defaultWorkflowTaskSlots(),
      ...(opts.shutdownGraceMs ? { shutdownGraceTime: opts.shutdownGraceMs } : {}),
      ...(opts.identity ? { identity: opts.identity } : {}),
    });
    return { worker, connection };
  } catch (e) {
    await connection.close();
    throw e;
  }
}
