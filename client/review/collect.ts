// The review's I/O: finished rollouts through one paged visibility query. A rollout that
// wrote its review memo (domain/review-memo.ts) is read from that listing alone; an older one,
// or one with overrides (their reasons are free text, kept out of the memo), from its close
// event (one small RPC per rollout, a bounded number in flight), never its whole history.
// Terminated and timed-out executions wrote neither: visibility alone tells them.
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { readReviewMemo, REVIEW_MEMO_KEY, type ReviewMemo } from '../../domain/review-memo';
import { rolloutQuery, rolloutRow, type RolloutFilter } from '../listing';
import type { MrcdClient } from '../rollouts';
import type { CollectedRollout, ReviewedStatus } from './types';

export interface CollectOptions {
  since: number;
  until: number;
  service?: string;
  owner?: string;
  /** Close events read at once (default 16). */
  concurrency?: number;
}

/** The visibility query of a review window: reuses `mrcd list`'s builder, so filter values are refused the same way. */
export function reviewQuery(o: Pick<CollectOptions, 'since' | 'until' | 'service' | 'owner'>): string {
  const f: RolloutFilter = { ended: true, closedFrom: o.since, closedBefore: o.until };
  if (o.service !== undefined) f.service = o.service;
  if (o.owner !== undefined) f.owner = o.owner;
  return rolloutQuery(f);
}

const statusOf = (value: unknown): ReviewedStatus | undefined =>
  value && typeof value === 'object' && typeof (value as ReviewedStatus).state === 'string' && Array.isArray((value as ReviewedStatus).regions)
    ? (value as ReviewedStatus)
    : undefined;

/**
 * The final status a closed run wrote: the result of a completed one, the first detail of a
 * failed one's ApplicationFailure. Reads the close event only.
 */
export async function finalStatus(m: MrcdClient, workflowId: string, runId: string): Promise<ReviewedStatus | undefined> {
  const { client } = m;
  const res = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    skipArchival: true,
  });
  const event = res.history?.events?.[0];
  const converter = client.options.loadedDataConverter;
  const completed = event?.workflowExecutionCompletedEventAttributes;
  if (completed) return statusOf(await decodeFromPayloadsAtIndex(converter, 0, completed.result?.payloads));
  const details = event?.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo?.details?.payloads;
  if (details?.length) return statusOf(await decodeFromPayloadsAtIndex(converter, 0, details));
  return undefined;
}

/** A memo's figures as the status the review reads (the same fields; no free text). */
export function statusFromMemo(m: ReviewMemo): ReviewedStatus {
  return {
    state: m.state,
    startedAt: m.startedAt,
    ...(m.endedAt !== undefined ? { endedAt: m.endedAt } : {}),
    ...(m.halt ? { halt: m.halt } : {}),
    holds: m.holds.map((h) => ({ ...h })),
    ...(m.hold ? { hold: { ...m.hold } } : {}),
    regions: m.regions.map(({ gate, ...r }) => ({
      ...r,
      ...(gate
        ? {
            lastGate: {
              verdict: gate.verdict,
              at: gate.at,
              checks: gate.checks.map(([name, verdict, shadow]) => ({ name, verdict, ...(shadow ? { shadow: true } : {}) })),
            },
          }
        : {}),
    })),
    ...(m.reminders ? { reminders: m.reminders } : {}),
    growthDeclared: m.growthDeclared,
  };
}

/** Runs fn over items with at most `limit` in flight; results in the items' order. */
async function pooled<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Executions that may carry a final status: the workflow itself completed or failed (a cancel becomes an abort, which fails it). */
const WROTE_STATUS = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Finished rollouts whose last run closed in [since, until), newest first, each with its final status when it wrote one. */
export async function collectRollouts(m: MrcdClient, o: CollectOptions): Promise<CollectedRollout[]> {
  const listed: WorkflowExecutionInfo[] = [];
  for await (const w of m.client.workflow.list({ query: reviewQuery(o), pageSize: 1000 })) listed.push(w);
  return pooled(listed, o.concurrency ?? 16, async (w): Promise<CollectedRollout> => {
    const row = rolloutRow(w);
    const memo = readReviewMemo(w.memo?.[REVIEW_MEMO_KEY]);
    const status =
      memo && memo.overrides === 0 ? statusFromMemo(memo) : WROTE_STATUS.has(row.execution) ? await finalStatus(m, row.workflowId, row.runId) : undefined;
    return {
      workflowId: row.workflowId,
      runId: row.runId,
      service: status?.service ?? row.service,
      owner: status?.owner?.team ?? row.owner,
      version: status?.version ?? row.version,
      execution: row.execution,
      runStartedAt: row.startedAt,
      closedAt: row.endedAt ?? w.closeTime?.getTime() ?? 0,
      ...(status ? { status } : {}),
    };
  });
}
