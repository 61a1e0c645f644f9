// The rollouts' side of the fleet policy: asking it before a step, and telling it which
// slot holders have ended (the policy cannot describe workflows itself).
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ConsultAnswer, ConsultRequest } from '../domain/policy';
import { consultUpdate } from '../domain/policy-definitions';
import { updatePolicy } from '../common/policy-access';
import { calendarOccurrences, type CalendarOccurrence, type FreezeCalendar } from '../plan/calendars';

/** Asks the policy of this worker's fleet (the rollout's task queue) whether the step may go. */
export async function consultPolicy(req: ConsultRequest): Promise<ConsultAnswer> {
  const ctx = Context.current();
  return updatePolicy(ctx.client, ctx.info.taskQueue, consultUpdate, req);
}

/** Which of these rollouts no longer run (ended, terminated, or never existed). */
export async function endedRollouts(ids: string[]): Promise<string[]> {
  const client = Context.current().client;
  const ended: string[] = [];
  for (const id of ids) {
    try {
      const d = await client.workflow.getHandle(id).describe();
      if (d.status.name !== 'RUNNING') ended.push(id);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) ended.push(id);
      else throw e;
    }
  }
  return ended;
}

/** The periods the policy's calendars freeze in [from, to), in each calendar's own timezone. */
export async function calendarPeriods(input: { calendars: FreezeCalendar[]; from: number; to: number }): Promise<CalendarOccurrence[]> {
  return Promise.resolve(calendarOccurrences(input.calendars, input.from, input.to));
}
