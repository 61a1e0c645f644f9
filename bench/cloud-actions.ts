// M11 (issue 25, item 5): what a rollout costs on Temporal Cloud, in billable actions counted
// from real histories of our rollout workflow on the time-skipping server.
//
// What counts, from Temporal Cloud's own page (https://docs.temporal.io/cloud/actions, the
// source of docs/evaluate/cloud/actions.mdx in temporalio/documentation), by the event that
// shows it in a history:
// - workflow started (WorkflowExecutionStarted; a continue-as-new is billed as the next run's
//   start, so ContinuedAsNew is not counted again; a workflow started by a schedule adds 2);
// - each activity attempt: ActivityTaskScheduled is the first, and each retry one more. The
//   server writes no event per retry, only the last attempt's ActivityTaskStarted with its
//   `attempt` ("subtract 1, because the first attempt is not a retry");
// - local activities, patches and side effects are RecordMarker commands, billed once per
//   workflow task however many it records; local-activity retries are counted by the server
//   in WorkflowTaskCompleted's meteringMetadata.nonfirstLocalActivityExecutionAttempts;
// - timers started (also the implicit ones of `condition` with a timeout);
// - signals (received here; one a workflow sends to another is billed once, in the receiver's
//   history, so `signalsSent` is kept apart);
// - updates accepted (a rejected update is billed too but never written to history);
// - search attribute upserts, one per command whatever it sets, except one that sets only
//   TemporalChangeVersion (the patch bookkeeping), and never the attributes given at start;
// - child workflows (2: the intent and the start), workflow options updated, resets, Nexus
//   operations scheduled or cancelled.
// Not in history, so not counted here: queries (every `mrcd status` and every poll of
// `mrcd deploy --wait` / `watch`), activity heartbeats that reach the server, rejected
// updates, workflow task heartbeats of long local activities.
// Memo upserts (WorkflowPropertiesModified) are not on Cloud's page, but the OSS server's own
// `action` metric counts their command (common/rpc/interceptor/telemetry.go, which
// docs.temporal.io/cloud/migrate/estimate-actions calls close to Cloud pricing), so they are
// counted: an estimate errs high. A rollout writes one, its review memo at its end.
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { Duration } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { actionUpdates, statusQuery } from '../domain/definitions';
import { policyWorkflowId } from '../domain/policy';
import { loadPlanDocument, parseDuration } from '../plan';
import { planDoc, scriptedActivities, TEST_GATE } from '../test/support/rollout-harness';
import { onOwnTimeSkipping, workflowBundle } from '../test/support/temporal';
import { next, QUICK, regionsOf, results, table } from './support';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ET = temporal.api.enums.v1.EventType;

export interface ActionCount {
  workflowStarts: number;
  /** First attempts: one per ActivityTaskScheduled. */
  activitySchedules: number;
  /** Retries the history shows (ActivityTaskStarted.attempt − 1). */
  activityRetries: number;
  /**
   * Retries the history cannot show: an activity that ended without a Started event (cancelled,
   * or its workflow closed, while it waited for its next attempt) is given the attempts its
   * retry policy fits between its schedule and that end. Every promoted region's watch ends so.
   */
  activityRetriesEstimated: number;
  /** Workflow tasks that recorded markers (local activities, patches, side effects): one action each. */
  markerBatches: number;
  localActivityRetries: number;
  timers: number;
  signals: number;
  signalsSent: number;
  updates: number;
  searchAttributeUpserts: number;
  memoUpserts: number;
  childWorkflows: number;
  /** Workflow options updated, resets, Nexus operations, schedule starts. */
  other: number;
  total: number;
}

export const ACTION_KINDS = [
  'workflowStarts',
  'activitySchedules',
  'activityRetries',
  'activityRetriesEstimated',
  'markerBatches',
  'localActivityRetries',
  'timers',
  'signals',
  'signalsSent',
  'updates',
  'searchAttributeUpserts',
  'memoUpserts',
  'childWorkflows',
  'other',
] as const satisfies readonly Exclude<keyof ActionCount, 'total'>[];

const zero = (): ActionCount => ({ ...(Object.fromEntries(ACTION_KINDS.map((k) => [k, 0])) as Omit<ActionCount, 'total'>), total: 0 });

/** Counts of several histories (the runs of one workflow, or several workflows) added up. */
export function addCounts(...counts: ActionCount[]): ActionCount {
  const sum = zero();
  for (const c of counts) for (const k of [...ACTION_KINDS, 'total'] as const) sum[k] += c[k];
  return sum;
}

// Histories come as the client decodes them (enum numbers, Long seconds) or as JSON exports
// (enum names, ISO times, "60s" durations): both are read.
function typeOf(e: HistoryEvent): temporal.api.enums.v1.EventType {
  const t = e.eventType as unknown;
  if (typeof t === 'string') return (ET as unknown as Record<string, temporal.api.enums.v1.EventType>)[t] ?? ET.EVENT_TYPE_UNSPECIFIED;
  return typeof t === 'number' ? (t as temporal.api.enums.v1.EventType) : ET.EVENT_TYPE_UNSPECIFIED;
}

const num = (v: unknown): number =>
  v == null ? 0 : typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function' ? (v.toNumber as () => number)() : Number(v);

function timeMs(t: unknown): number | undefined {
  if (t == null) return undefined;
  if (typeof t === 'string') return Date.parse(t);
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'object' && 'seconds' in t) return num(t.seconds) * 1000 + num((t as { nanos?: unknown }).nanos) / 1e6;
  return undefined;
}

function durationMs(d: unknown): number | undefined {
  if (d == null) return undefined;
  if (typeof d === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d);
    return m ? Number(m[1]) * 1000 : undefined;
  }
  if (typeof d === 'object' && 'seconds' in d) return num(d.seconds) * 1000 + num((d as { nanos?: unknown }).nanos) / 1e6;
  return undefined;
}

const key = (id: unknown) => String(num(id));

/**
 * Attempts an activity had made by `endMs` when it was scheduled at `scheduledMs`, if every
 * attempt fails at once and the next waits as the retry policy says (the server's defaults
 * where it says nothing). Our checks ask for their next attempt with `nextRetryDelay` = the
 * check interval = the policy's initial interval, so for them this is the count.
 */
export function attemptsBy(retryPolicy: temporal.api.common.v1.IRetryPolicy | null | undefined, scheduledMs: number, endMs: number): number {
  const initial = durationMs(retryPolicy?.initialInterval) || 1000;
  const coefficient = retryPolicy?.backoffCoefficient || 2;
  const maximum = durationMs(retryPolicy?.maximumInterval) || 100 * initial;
  const cap = retryPolicy?.maximumAttempts || Infinity;
  let attempts = 1;
  let at = scheduledMs;
  let delay = initial;
  // Bounded: a week of checks every second is 604,800 attempts.
  while (attempts < cap && attempts < 10_000_000) {
    at += Math.min(delay, maximum);
    if (at > endMs) break;
    attempts += 1;
    delay *= coefficient;
  }
  return attempts;
}

/** Temporal Cloud's billable actions in one run's history, by kind (see the top of this file). */
export function countActions(history: History): ActionCount {
  const events = history.events ?? [];
  const c = zero();
  const scheduled = new Map<string, { at: number | undefined; retry: temporal.api.common.v1.IRetryPolicy | null | undefined }>();
  const started = new Set<string>();
  const endOf = new Map<string, number | undefined>();
  const markerTasks = new Set<string>();
  let lastTaskCompleted: string | undefined;
  let lastEventAt: number | undefined;
  for (const e of events) {
    const at = timeMs(e.eventTime);
    if (at !== undefined) lastEventAt = at;
    switch (typeOf(e)) {
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        c.workflowStarts += 1;
        const fields = e.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ?? {};
        if ('TemporalScheduledById' in fields) c.other += 2;
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        c.activitySchedules += 1;
        scheduled.set(key(e.eventId), { at, retry: e.activityTaskScheduledEventAttributes?.retryPolicy });
        break;
      case ET.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = e.activityTaskStartedEventAttributes;
        c.activityRetries += Math.max(0, num(a?.attempt) - 1);
        started.add(key(a?.scheduledEventId));
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: {
        const id = key(e.activityTaskCancelRequestedEventAttributes?.scheduledEventId);
        if (!endOf.has(id)) endOf.set(id, at);
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const id = key(e.activityTaskCanceledEventAttributes?.scheduledEventId);
        if (!endOf.has(id)) endOf.set(id, at);
        break;
      }
      case ET.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const id = key(e.activityTaskTimedOutEventAttributes?.scheduledEventId);
        if (!endOf.has(id)) endOf.set(id, at);
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        lastTaskCompleted = key(e.eventId);
        c.localActivityRetries += num(e.workflowTaskCompletedEventAttributes?.meteringMetadata?.nonfirstLocalActivityExecutionAttempts);
        break;
      case ET.EVENT_TYPE_MARKER_RECORDED: {
        // A marker names the task that recorded it; an export without the field falls back to
        // the last completed task before it, which is the same task.
        const task = e.markerRecordedEventAttributes?.workflowTaskCompletedEventId;
        markerTasks.add(task != null && num(task) > 0 ? key(task) : (lastTaskCompleted ?? 'none'));
        break;
      }
      case ET.EVENT_TYPE_TIMER_STARTED:
        c.timers += 1;
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        c.signals += 1;
        break;
      case ET.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        c.signalsSent += 1;
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        c.updates += 1;
        break;
      case ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const names = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
        if (!(names.length === 1 && names[0] === 'TemporalChangeVersion')) c.searchAttributeUpserts += 1;
        break;
      }
      case ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        c.memoUpserts += 1;
        break;
      case ET.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        c.childWorkflows += 2;
        break;
      case ET.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        if (e.workflowTaskFailedEventAttributes?.cause === temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW)
          c.other += 1;
        break;
      case ET.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
      case ET.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
      case ET.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
        c.other += 1;
        break;
    }
  }
  c.markerBatches = markerTasks.size;
  for (const [id, s] of scheduled) {
    if (started.has(id) || s.at === undefined) continue;
    const end = endOf.has(id) ? endOf.get(id) : lastEventAt;
    if (end !== undefined) c.activityRetriesEstimated += attemptsBy(s.retry, s.at, end) - 1;
  }
  c.total = ACTION_KINDS.reduce((sum, k) => sum + c[k], 0);
  return c;
}

/** Every run's history of a workflow, following continue-as-new from the run given. */
async function runHistories(env: TestWorkflowEnvironment, workflowId: string, runId: string | undefined): Promise<History[]> {
  const out: History[] = [];
  let run = runId;
  for (;;) {
    const h = await env.client.workflow.getHandle(workflowId, run).fetchHistory();
    out.push(h);
    const next = h.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return out;
    run = next;
  }
}

/** Real time one measured rollout may take (the 20-region plan took 2–3 min on 2 busy cores). */
const RUN_LIMIT_MS = (QUICK ? 3 : 45) * 60_000;

/** The patch ids a workflow recorded (the SDK's core_patch markers carry {"id": ...}). */
function patchesOf(runs: History[]): string[] {
  const ids = new Set<string>();
  for (const e of runs.flatMap((r) => r.events ?? [])) {
    const m = e.markerRecordedEventAttributes;
    const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    if (!data) continue;
    try {
      const id = (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: unknown }).id;
      if (typeof id === 'string') ids.add(id);
    } catch {
      // Not ours to read: the count does not depend on it.
    }
  }
  return [...ids];
}

class StuckRun extends Error {}

/**
 * A pause held with env.sleep: now and then (1 run in 3 here) the time-skipping server leaves
 * the checks scheduled right after the resume "started" at their second attempt with no
 * worker running them, and its clock never moves again. Such a run is measured again, not
 * counted; a minute is plenty, a good run of this shape takes 2–3 s.
 */
async function measureOperator(
  shape: Shape,
  during: (env: TestWorkflowEnvironment, handle: { workflowId: string }) => Promise<void>,
): Promise<CloudActionsRow> {
  for (let tries = 1; ; tries++) {
    try {
      return await measure(shape, during, 60_000);
    } catch (e) {
      if (!(e instanceof StuckRun) || tries === 3) throw e;
      console.log(`  M11 ${(e as Error).message}; measuring it again`);
    }
  }
}

/** A plan as M11 runs it: the document and what it is called in the table. */
interface Shape {
  name: string;
  doc: (service: string) => Record<string, unknown>;
  regions: number;
  soak: string;
  interval: string;
}

export interface CloudActionsRow {
  plan: string;
  regions: number;
  soak: string;
  interval: string;
  /** The rollout's own history. */
  actions: ActionCount;
  /**
   * The fleet policy workflow of the rollout's task queue: every consult of a rollout (before
   * each deploy and each promotion) is an update to it, billed in its history. One rollout
   * per server here, so all of it is this rollout's (its start included).
   */
  policy: ActionCount;
  /** Rollout and policy: what the namespace is billed for one rollout. */
  total: number;
  perRegion: number;
  /** Activity attempts the worker ran (not local): what the history's schedules, retries and estimated retries should add up to. */
  workerAttempts: number;
  /** Local activities the worker ran. */
  workerLocalActivities: number;
  /** Every activity the worker ran (local ones too) by name, checks by phase: `checkRegion:soak`, `checkRegion:promoted`. */
  workerAttemptsByActivity: Record<string, number>;
  historyEvents: number;
  /** The patches the rollout recorded: which generation of the workflow these figures are of. */
  patches: string[];
  seconds: number;
}

/**
 * Runs one rollout of `shape` on a time-skipping server of its own and counts its actions;
 * `during` acts on it between start and end (an operator's pause and resume).
 */
async function measure(
  shape: Shape,
  during?: (env: TestWorkflowEnvironment, handle: { workflowId: string }) => Promise<void>,
  limitMs = RUN_LIMIT_MS,
): Promise<CloudActionsRow> {
  const t0 = Date.now();
  return onOwnTimeSkipping(async (env) => {
    const q = next('m11');
    const attempts = { remote: 0, local: 0 };
    const byActivity: Record<string, number> = {};
    // Every activity call the worker gets is one attempt the server dispatched: the count the
    // history-side figure is checked against.
    const scripted = scriptedActivities({}, [], { serverClock: true }) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const counted = Object.fromEntries(
      Object.entries(scripted).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          if (Context.current().info.isLocal) attempts.local += 1;
          else attempts.remote += 1;
          const phase = (args[0] as { phase?: unknown } | undefined)?.phase;
          const kind = typeof phase === 'string' ? `${name}:${phase}` : name;
          byActivity[kind] = (byActivity[kind] ?? 0) + 1;
          return fn(...args);
        },
      ]),
    );
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: q, workflowBundle: await workflowBundle(), activities: counted });
    return worker.runUntil(async () => {
      const h = await env.client.workflow.start('rolloutWorkflow', { taskQueue: q, workflowId: q, args: [{ plan: shape.doc(q), startedBy: 'bench' }] });
      if (during) await during(env, h);
      // A workflow task that keeps failing (workflow code that no longer compiles) leaves the
      // rollout open forever: say so rather than hang the benchmark.
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StuckRun(`M11: ${shape.name} did not end within ${limitMs / 1000} s: look at ${q} (workflow task failures?)`)),
          limitMs,
        );
      });
      try {
        await Promise.race([h.result(), stuck]);
      } finally {
        clearTimeout(timer);
      }
      const runs = await runHistories(env, q, h.firstExecutionRunId);
      const actions = addCounts(...runs.map(countActions));
      const policyId = policyWorkflowId(q);
      const policyFirstRun = await env.client.workflow
        .getHandle(policyId)
        .describe()
        .then((d) => d.raw.workflowExecutionInfo?.firstRunId || undefined)
        .catch(() => undefined);
      const policy = addCounts(...(await runHistories(env, policyId, policyFirstRun).catch(() => [])).map(countActions));
      return {
        plan: shape.name,
        regions: shape.regions,
        soak: shape.soak,
        interval: shape.interval,
        actions,
        policy,
        total: actions.total + policy.total,
        perRegion: (actions.total + policy.total) / shape.regions,
        workerAttempts: attempts.remote,
        workerLocalActivities: attempts.local,
        workerAttemptsByActivity: byActivity,
        historyEvents: runs.reduce((n, r) => n + (r.events?.length ?? 0), 0),
        patches: patchesOf(runs),
        seconds: (Date.now() - t0) / 1000,
      };
    });
  });
}

/** The plan `npm start` rolls out (examples/demo.yaml): its regions, soaks and check interval, our scripted activities. */
function demoShape(): Shape {
  const demo = loadPlanDocument(join(__dirname, '..', 'examples', 'demo.yaml')) as Record<string, unknown> & {
    defaults: { soak: string; checkInterval: string };
    regions: { soak?: string }[];
  };
  const soaks = [...new Set(demo.regions.map((r) => r.soak ?? demo.defaults.soak))].join('/');
  return {
    name: 'demo (examples/demo.yaml)',
    doc: (service) => ({ ...demo, service }),
    regions: demo.regions.length,
    soak: soaks,
    interval: demo.defaults.checkInterval,
  };
}

function gridShape(regions: number, soak: string, interval: string): Shape {
  return {
    name: `${regions} regions`,
    doc: (service) => planDoc({ service, defaults: { soak, checkInterval: interval, gate: TEST_GATE } }, regionsOf(regions)),
    regions,
    soak,
    interval,
  };
}

const who = { reason: 'bench: what a pause costs', by: 'bench' };

/**
 * A pause and a resume while the first region soaks, the resume before its soak ends: the
 * two updates and the state each publishes. `holdFor` instead lets the soak end while
 * paused, so the region is held (and watched) that long before the resume.
 */
function pauseAndResume(holdFor?: Duration) {
  return async (env: TestWorkflowEnvironment, h: { workflowId: string }) => {
    const handle = env.client.workflow.getHandle(h.workflowId);
    // The time-skipping server's clock stands still until something waits on it: the first
    // region reaches its soak in real milliseconds and stays there.
    for (let i = 0; ; i++) {
      const s = await handle.query(statusQuery).catch(() => undefined);
      if (s?.regions?.[0]?.status === 'soaking') break;
      if (i > 600) throw new Error('M11: the first region never reached its soak');
      await new Promise((r) => setTimeout(r, 50));
    }
    await handle.executeUpdate(actionUpdates.pause, { args: [who] });
    if (holdFor) await env.sleep(holdFor);
    await handle.executeUpdate(actionUpdates.resume, { args: [who] });
  };
}

const pct = (part: number, all: number) => `${((100 * part) / all).toFixed(0)}%`;

/**
 * The one-line model of a plan with R regions of one soak and check interval (k = soak ÷
 * interval): a + b·R + k·R(R+1)/2. Region j is checked through its own soak and, once
 * promoted, through the soaks of every region after it, so the checks of a rollout grow with
 * R(R+1)/2 soaks; a and b are the rest (starts, deploys, first attempts, upserts, markers),
 * fitted to the measured rows by least squares.
 */
export function fitModel(rows: { regions: number; k: number; total: number }[]): { a: number; b: number } {
  const pts = rows.map((r) => ({ x: r.regions, y: r.total - (r.k * r.regions * (r.regions + 1)) / 2 }));
  const n = pts.length;
  const mx = pts.reduce((s, p) => s + p.x, 0) / n;
  const my = pts.reduce((s, p) => s + p.y, 0) / n;
  const sxx = pts.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : pts.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { a: my - b * mx, b };
}

export async function m11(): Promise<void> {
  const [soak, interval] = ['60m', '15s'] as const;
  const grid = (QUICK ? [2, 3] : [5, 20]).map((n) => gridShape(n, soak, interval));
  const rows: CloudActionsRow[] = [];
  for (const s of [demoShape(), ...grid]) {
    const r = await measure(s);
    rows.push(r);
    console.log(
      `  M11 ${s.name} × ${s.soak} × ${s.interval}: ${r.total} actions (${r.perRegion.toFixed(0)}/region; ${r.policy.total} of them the policy's), worker ran ${r.workerAttempts} activity attempts (${r.seconds.toFixed(0)} s)`,
    );
  }
  const k = parseDuration(soak)! / parseDuration(interval)!;
  const model = { ...fitModel(grid.map((g) => rows.find((r) => r.plan === g.name)!).map((r) => ({ regions: r.regions, k, total: r.total }))), k };
  // What an operator adds, on a small plan whose baseline is measured beside it.
  const opShape = gridShape(3, '30m', '60s');
  const base = await measure(opShape);
  const quick = await measureOperator(opShape, pauseAndResume());
  const held = await measureOperator(opShape, pauseAndResume('60m'));
  const added = (r: CloudActionsRow): Record<string, number> =>
    Object.fromEntries(
      [
        ...ACTION_KINDS.map((kind): [string, number] => [kind, r.actions[kind] - base.actions[kind]]),
        ['policy workflow', r.policy.total - base.policy.total] as [string, number],
      ].filter(([, v]) => v !== 0),
    );
  const operator = {
    plan: `${opShape.name} × ${opShape.soak} × ${opShape.interval}`,
    baseline: base.total,
    pauseResume: quick.total - base.total,
    pauseResumeBreakdown: added(quick),
    pauseHeld30m: held.total - base.total,
    pauseHeld30mBreakdown: added(held),
  };
  results.m11 = { rows, model, operator };

  const t = table([
    'plan',
    'soak × check',
    'actions',
    '/ region',
    'wf start',
    'activity attempts (not in history)',
    'timers',
    'signals + updates',
    'SA / memo upserts',
    'LA / marker batches',
    'other',
    'policy workflow',
    'worker attempts',
    'run s',
  ]);
  for (const r of rows) {
    const a = r.actions;
    const activity = a.activitySchedules + a.activityRetries + a.activityRetriesEstimated;
    t.push([
      r.plan,
      `${r.soak} × ${r.interval}`,
      r.total,
      r.perRegion.toFixed(0),
      a.workflowStarts,
      `${activity} (${a.activityRetriesEstimated}) ${pct(activity, r.total)}`,
      a.timers,
      a.signals + a.signalsSent + a.updates,
      `${a.searchAttributeUpserts} / ${a.memoUpserts}`,
      a.markerBatches + a.localActivityRetries,
      a.childWorkflows + a.other,
      r.policy.total,
      r.workerAttempts,
      r.seconds.toFixed(0),
    ]);
  }
  console.log(
    "\nM11 Temporal Cloud actions per rollout, counted from its history and its fleet policy's (time-skipping server; https://docs.temporal.io/cloud/actions)",
  );
  console.log(t.toString());
  const o = table(['operator, on ' + operator.plan, 'actions added', 'by kind']);
  const kinds = (b: Record<string, number>) =>
    Object.entries(b)
      .map(([kind, v]) => `${kind} ${v > 0 ? '+' : ''}${v}`)
      .join(', ');
  o.push(
    ['none (baseline)', `${operator.baseline} in all`, ''],
    ['pause + resume while soaking', operator.pauseResume, kinds(operator.pauseResumeBreakdown)],
    ['pause, held 30 min past the soak, resume', operator.pauseHeld30m, kinds(operator.pauseHeld30mBreakdown)],
  );
  console.log(o.toString());
  console.log(
    `Model (${soak} soaks checked every ${interval}, k = ${k}): actions ≈ ${model.a.toFixed(0)} + ${model.b.toFixed(1)}·R + ${k}·R(R+1)/2 for R regions.`,
  );
  console.log(`Workflow generation measured (the patches its rollouts recorded): ${[...new Set(rows.flatMap((r) => r.patches))].join(', ') || 'none'}.`);
  console.log(
    'Not in history, so not above: each status query (mrcd status; every poll of deploy --wait / watch, 1 a second) and heartbeats that reach the server.',
  );
}
