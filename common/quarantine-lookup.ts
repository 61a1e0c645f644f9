// Finds the quarantine records of a version through Temporal visibility: used by the
// workflow's checkQuarantine activity and by the client library before a start.
import type { Client } from '@temporalio/client';
import type { QuarantineQuery, QuarantineRecord } from '../domain/activity-contract';
import { quarantineQuery } from '../domain/quarantine';
import { SA_QUARANTINE, SA_STATE } from '../domain/search-attributes';

/**
 * Lists the rollouts that quarantined this version, newest first. Visibility is eventually
 * consistent: a rollout that ended a second ago may not be listed yet (docs/rollout-states.md).
 */
export async function findQuarantine(client: Client, q: QuarantineQuery): Promise<QuarantineRecord[]> {
  const found: QuarantineRecord[] = [];
  for await (const w of client.workflow.list({ query: quarantineQuery(q.service, q.version) })) {
    if (q.runId && w.runId === q.runId) continue;
    const region = w.typedSearchAttributes.get(SA_QUARANTINE);
    if (!region) continue;
    const state = w.typedSearchAttributes.get(SA_STATE);
    found.push({
      workflowId: w.workflowId,
      runId: w.runId,
      region,
      ...(w.closeTime ? { closedAt: w.closeTime.getTime() } : {}),
      ...(state ? { state } : {}),
    });
    if (found.length >= 20) break;
  }
  return found;
}
