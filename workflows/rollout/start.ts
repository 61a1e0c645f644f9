// The start of a rollout: the plan validated by the same code `mrcd validate` uses, and the
// quarantine rule ("may this version start?"). Either failing ends the rollout before any
// region is touched.
import { upsertSearchAttributes } from '@temporalio/workflow';
import { ACTIVITY_FAILURE, ROLLOUT_FAILURE } from '../../domain/failures';
import { causeWithDetail } from '../../domain/halt-cause';
import { quarantineDecision } from '../../domain/quarantine';
import { SA_OWNER, SA_SERVICE, SA_VERSION } from '../../domain/search-attributes';
import { payloadProblem } from '../../domain/state';
import type { QuarantineRecord } from '../../domain/activity-contract';
import { prepActs, prepLocalActs, PREPARE_LOCAL_ATTEMPTS } from './activities';
import { causeMessage } from './outcomes';
import type { RolloutRun } from './run';

/** Validates and normalizes the plan as written (first activity), then checks quarantine. A continued run has it already. */
export async function preparePlan(run: RolloutRun): Promise<void> {
  if (run.hasPlan) return;
  const { status, input } = run;
  let plan;
  let lookup: () => Promise<QuarantineRecord[]>;
  try {
    if (run.gen.oneStepStartAndMemo) {
      // Both in the first workflow task (a local activity), which then goes on to the first deploy.
      const prepared = await prepLocalActs.prepareRollout({ plan: input.plan, runId: run.info.runId, lastAttempt: PREPARE_LOCAL_ATTEMPTS });
      plan = prepared.plan;
      const q = prepared.quarantine;
      lookup = () => ('records' in q ? Promise.resolve(q.records) : Promise.reject(new Error(q.error)));
    } else {
      plan = await prepActs.preparePlan(input.plan);
      const { service, version } = plan;
      lookup = () => prepActs.checkQuarantine({ service, version, runId: run.info.runId });
    }
  } catch (e) {
    return run.failBeforeDeploy(`invalid plan: ${causeMessage(e)}`, causeWithDetail({ kind: 'invalid-plan' }, causeMessage(e)), ACTIVITY_FAILURE.invalidPlan);
  }
  run.plan = plan;
  status.service = plan.service;
  status.version = plan.version;
  status.owner = plan.owner;
  status.failurePolicy = plan.failurePolicy;
  status.regions = plan.regions.map((r) => ({
    name: r.name,
    size: r.size,
    status: 'pending',
    attempts: 0,
    ...(r.taskQueue ? { taskQueue: r.taskQueue } : {}),
  }));
  if (plan.growthReason) status.growthReason = plan.growthReason;
  upsertSearchAttributes([
    { key: SA_SERVICE, value: plan.service },
    { key: SA_VERSION, value: plan.version },
    { key: SA_OWNER, value: plan.owner.team },
  ]);
  run.publish();
  await checkQuarantineAtStart(run, lookup);
  run.notify(
    'started',
    `rollout of ${plan.service} ${plan.version} started by ${input.startedBy ?? 'unknown'} over ${plan.regions.map((r) => r.name).join(' → ')}`,
  );
}

/** A version that failed its gate before starts only with an override (the rule is domain/quarantine.ts). */
async function checkQuarantineAtStart(run: RolloutRun, lookup: () => Promise<QuarantineRecord[]>): Promise<void> {
  const { status, input, plan } = run;
  const override = input.overrides?.quarantine;
  let records;
  try {
    records = await lookup();
  } catch (e) {
    if (override !== undefined && payloadProblem(override) === undefined) {
      // Someone decided to ship whatever the record says: honour it, and say what was unknown.
      status.overrides!.push({
        kind: 'quarantine',
        by: override.by,
        reason: override.reason,
        at: Date.now(),
        detail: `quarantine could not be checked: ${causeMessage(e)}`,
      });
      return;
    }
    // Fail closed: a version that cannot be cleared of quarantine does not ship.
    return run.failBeforeDeploy(
      `could not check whether ${plan.service} ${plan.version} is quarantined: ${causeMessage(e)}; nothing was deployed, start it again when Temporal visibility answers`,
      causeWithDetail({ kind: 'quarantine-check-failed' }, causeMessage(e)),
      ROLLOUT_FAILURE.quarantineCheckFailed,
    );
  }
  const decision = quarantineDecision(plan.service, plan.version, records, override);
  if (decision.kind === 'clear') return;
  if (decision.kind === 'refused') {
    return run.failBeforeDeploy(
      `${decision.what}; refused (${decision.why}). Fix the version, or start it with an override and a reason (mrcd deploy --override-quarantine "...")`,
      causeWithDetail({ kind: 'quarantine-refused', ...(records[0] ? { region: records[0].region } : {}) }, decision.why),
      ROLLOUT_FAILURE.versionQuarantined,
    );
  }
  status.overrides!.push({ kind: 'quarantine', by: decision.override.by, reason: decision.override.reason, at: Date.now(), detail: decision.what });
  run.notify('override', `quarantine of ${plan.version} overridden by ${decision.override.by}: ${decision.override.reason} (${decision.what})`);
}
