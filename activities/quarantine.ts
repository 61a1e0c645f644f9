// The workflow's own quarantine check, so a rollout started from the Temporal UI or the
// `temporal` CLI (which skip the client library's check) is refused too.
import { Context } from '@temporalio/activity';
import type { QuarantineQuery, QuarantineRecord } from '../domain/activity-contract';
import { findQuarantine } from '../common/quarantine-lookup';

export async function checkQuarantine(q: QuarantineQuery): Promise<QuarantineRecord[]> {
  return findQuarantine(Context.current().client, q);
}
