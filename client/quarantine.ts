// Quarantine: a version that a rollout rolled back for failing a gate is bad for its
// service. The record is the ended (or halted) rollout itself, found through its
// MrcdQuarantine search attribute, so there is no second store to keep in step.
import type { Client } from '@temporalio/client';
import type { QuarantineQuery, QuarantineRecord } from '../activities/types';
import { SA_QUARANTINE, SA_SERVICE, SA_STATE, SA_VERSION } from '../workflows/search-attributes';
import { WORKFLOW_TYPE } from '../workflows/definitions';

/** A visibility-query string literal; service and version are validated, this is belt and braces. */
function literal(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The visibility query that finds the rollouts that quarantined `service` `version`. */
export function quarantineQuery(service: string, version: string): string {
  return `WorkflowType = ${literal(WORKFLOW_TYPE)} AND ${SA_SERVICE.name} = ${literal(service)} AND ${SA_VERSION.name} = ${literal(version)} AND ${SA_QUARANTINE.name} != ""`;
}

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

/** One line per record, for error messages and the rollout's status. */
export function describeQuarantine(service: string, version: string, records: QuarantineRecord[]): string {
  const first = records[0];
  if (!first) return `${service} ${version} is not quarantined`;
  const when = first.closedAt ? ` (ended ${new Date(first.closedAt).toISOString()})` : '';
  const more = records.length > 1 ? ` and ${records.length - 1} more` : '';
  return `${service} ${version} is quarantined: rollout ${first.workflowId} run ${first.runId} rolled it back for failing its gate in ${first.region}${when}${more}`;
}
