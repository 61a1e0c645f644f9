// The quarantine rule, once, as pure code: the workflow applies it to every start (so a
// start from the Web UI or `temporal` is refused too) and the client library applies it
// before starting anything, with the same words. A version is quarantined for a service
// when a rollout rolled it back for failing a gate; the records are those rollouts, found
// through their MrcdQuarantine search attribute (common/quarantine-lookup.ts).
import type { QuarantineRecord } from './activity-contract';
import { WORKFLOW_TYPE } from './definitions';
import { SA_QUARANTINE, SA_SERVICE, SA_VERSION } from './search-attributes';
import { payloadProblem } from './state';

/** A visibility-query string literal; service and version are validated, this is belt and braces. */
function literal(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The visibility query that finds the rollouts that quarantined `service` `version`. */
export function quarantineQuery(service: string, version: string): string {
  return `WorkflowType = ${literal(WORKFLOW_TYPE)} AND ${SA_SERVICE.name} = ${literal(service)} AND ${SA_VERSION.name} = ${literal(version)} AND ${SA_QUARANTINE.name} != ""`;
}

/** One line per record, for error messages and the rollout's status. */
export function describeQuarantine(service: string, version: string, records: QuarantineRecord[]): string {
  const first = records[0];
  if (!first) return `${service} ${version} is not quarantined`;
  const when = first.closedAt ? ` (ended ${new Date(first.closedAt).toISOString()})` : '';
  const more = records.length > 1 ? ` and ${records.length - 1} more` : '';
  return `${service} ${version} is quarantined: rollout ${first.workflowId} run ${first.runId} rolled it back for failing its gate in ${first.region}${when}${more}`;
}

export interface QuarantineOverride {
  reason: string;
  by: string;
}

export type QuarantineDecision =
  | { kind: 'clear' }
  /** Quarantined, and a valid override (recorded) lets it start. */
  | { kind: 'overridden'; what: string; override: QuarantineOverride }
  /** Quarantined, and no valid override: `why` says which. */
  | { kind: 'refused'; what: string; why: string };

/** May this version of this service start, given the quarantine records and an override? */
export function quarantineDecision(service: string, version: string, records: QuarantineRecord[], override?: QuarantineOverride): QuarantineDecision {
  if (records.length === 0) return { kind: 'clear' };
  const what = describeQuarantine(service, version, records);
  const problem = override === undefined ? undefined : payloadProblem(override);
  if (override === undefined) return { kind: 'refused', what, why: 'no override given' };
  if (problem !== undefined) return { kind: 'refused', what, why: `override invalid: ${problem}` };
  return { kind: 'overridden', what, override };
}
