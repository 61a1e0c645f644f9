// Rollouts found through Temporal visibility (the Mrcd* search attributes): `mrcd list` and
// `mrcd history`. One query, paged by the server; no history is fetched per rollout.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../domain/definitions';
import { SA_OWNER, SA_QUARANTINE, SA_REGION, SA_SERVICE, SA_STATE, SA_VERSION } from '../domain/search-attributes';
import { ROLLOUT_STATES, type RolloutState } from '../domain/state';
import type { MrcdClient } from './rollouts';

export interface RolloutFilter {
  service?: string;
  owner?: string;
  /** Any of these states (the state the rollout published last). */
  states?: RolloutState[];
  /** Only rollouts that ended (history) or only running ones. */
  ended?: boolean;
  /** Only runs that closed at or after this time (epoch ms). */
  closedFrom?: number;
  /** Only runs that closed before this time (epoch ms). */
  closedBefore?: number;
  /** At most this many, newest first (default 50). */
  limit?: number;
}

export interface RolloutRow {
  workflowId: string;
  runId: string;
  service: string;
  version: string;
  owner: string;
  state: string;
  /** The region in flight when it was last published. */
  region?: string;
  /** The region whose failed gate quarantined the version. */
  quarantine?: string;
  startedAt: number;
  endedAt?: number;
  /** Temporal's own status of the execution (Running, Completed, Failed, …). */
  execution: string;
}

/** A value of a visibility query: refused rather than escaped, so no filter can change the query's meaning. */
function literal(what: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@#+\-/ ]{0,199}$/.test(value)) {
    throw new RangeError(`${what} ${JSON.stringify(value)}: letters, digits and . _ : @ # + - / or spaces only`);
  }
  return `"${value}"`;
}

/** The visibility query of a filter; a continued-as-new run is the same rollout, so only its last run counts. */
export function rolloutQuery(f: RolloutFilter): string {
  const parts = [`WorkflowType = "${WORKFLOW_TYPE}"`, 'ExecutionStatus != "ContinuedAsNew"'];
  if (f.service !== undefined) parts.push(`${SA_SERVICE.name} = ${literal('service', f.service)}`);
  if (f.owner !== undefined) parts.push(`${SA_OWNER.name} = ${literal('owner', f.owner)}`);
  if (f.states?.length) {
    for (const s of f.states)
      if (!(ROLLOUT_STATES as readonly string[]).includes(s)) throw new RangeError(`state ${JSON.stringify(s)}: one of ${ROLLOUT_STATES.join(', ')}`);
    parts.push(`${SA_STATE.name} IN (${f.states.map((s) => `"${s}"`).join(', ')})`);
  }
  if (f.ended === true) parts.push('ExecutionStatus != "Running"');
  if (f.ended === false) parts.push('ExecutionStatus = "Running"');
  // Times are formatted here, never taken from input, so they need no refusing.
  if (f.closedFrom !== undefined) parts.push(`CloseTime >= "${new Date(f.closedFrom).toISOString()}"`);
  if (f.closedBefore !== undefined) parts.push(`CloseTime < "${new Date(f.closedBefore).toISOString()}"`);
  return parts.join(' AND ');
}

/** A visibility entry as a rollout row. */
export function rolloutRow(w: WorkflowExecutionInfo): RolloutRow {
  const sa = w.typedSearchAttributes;
  const region = sa.get(SA_REGION);
  const quarantine = sa.get(SA_QUARANTINE);
  return {
    workflowId: w.workflowId,
    runId: w.runId,
    service: sa.get(SA_SERVICE) ?? '?',
    version: sa.get(SA_VERSION) ?? '?',
    owner: sa.get(SA_OWNER) ?? '?',
    state: sa.get(SA_STATE) ?? '?',
    ...(region ? { region } : {}),
    ...(quarantine ? { quarantine } : {}),
    startedAt: w.startTime.getTime(),
    ...(w.closeTime ? { endedAt: w.closeTime.getTime() } : {}),
    execution: w.status.name,
  };
}

/** Rollouts matching the filter, newest first. Visibility is eventually consistent: one that changed a second ago may show its previous state. */
export async function listRollouts(m: MrcdClient, f: RolloutFilter = {}): Promise<RolloutRow[]> {
  const limit = f.limit ?? 50;
  const rows: RolloutRow[] = [];
  for await (const w of m.client.workflow.list({ query: rolloutQuery(f), pageSize: Math.min(limit, 1000) })) {
    rows.push(rolloutRow(w));
    if (rows.length >= limit) break;
  }
  return rows;
}
