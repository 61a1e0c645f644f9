// The contract between the workflow and its activities. Workflows import these with
// `import type` only; every value here travels through history, so it is plain JSON and
// never holds a secret (secrets are named by *Env fields and read by the activity).
import type { DeployWindow, Gate, NormalizedDeployer, NormalizedPlan, Notification, Owner } from '../plan';
import type { ConsultAnswer, ConsultRequest, FreezeCalendar } from './policy';

/** The four verdicts of a check. Only `pass` promotes. */
export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface CheckResult {
  name: string;
  verdict: Verdict;
  /** The measured value, when there was a finite one (NaN/Inf are reported in `detail`). */
  value?: number;
  comparator: '<' | '<=' | '>' | '>=';
  threshold: number;
  /** Requests counted by the check's minTraffic query, when it has one. */
  traffic?: number;
  /** The same query's value at the deploy time, when the check has a baseline and it was measured. */
  baseline?: number;
  /** Why this verdict, in words an on-call engineer can act on. */
  detail: string;
  /** Whether retrying could change an `error` (provider fault) or not (bad query/config). */
  retryable?: boolean;
  /** A shadow check: evaluated and recorded, never acted on (the gate's verdict leaves it out). */
  shadow?: boolean;
  /**
   * Undecided so far rather than short of evidence: a sequential comparison still collecting
   * it. Inconclusive at a gate like any other, but the watch does not count it toward
   * `maxInconclusive` while the soak runs.
   */
  pending?: boolean;
  /** What a comparison with a control region saw (docs/comparisons.md). */
  comparison?: ComparisonEvidence;
}

/** Errors and requests of one region over one period. */
export interface CountCell {
  errors: number;
  requests: number;
}

export interface ComparisonEvidence {
  control: string;
  /** The difference-in-differences error-rate ratio: region/control now, over region/control before the deploy. */
  ratio: number;
  /** Its fixed-sample interval at the check's 1 - alpha (for reading; the decision is the sequential test's). */
  interval: [number, number];
  /** Since the deploy, in whole intervals. */
  region: CountCell;
  controlCounts: CountCell;
  /** The pre-deploy window of both. */
  before: { region: CountCell; control: CountCell };
  /** Evidence against "no regression" (fails at 1/alpha) and against "a regression of the threshold" (passes at 1/(1 - power)). */
  eRegression: number;
  eSafe: number;
  /** The smallest ratio the evidence so far could tell from noise. */
  detectable: number;
  intervals: number;
  /** The latency comparison, when the check has one. */
  latency?: LatencyEvidence;
}

export interface LatencyEvidence {
  /** The Hodges–Lehmann shift of log(region/control) since the deploy against before it, as a ratio. */
  ratio: number;
  interval: [number, number];
  pValue: number;
  /** Intervals compared: since the deploy, and before it. */
  samples: [number, number];
  verdict: 'pass' | 'fail' | 'undecided';
}

export interface GateResult {
  verdict: Verdict;
  checks: CheckResult[];
  /** Epoch ms when the evaluation finished. */
  at: number;
  /** What the deployer says the region runs, when the gate was asked to confirm it. */
  deployment?: DeploymentCheck;
}

/**
 * The region runs the version (`pass`), runs another one (`fail`), could not be asked
 * (`error`, never a pass), or its deployer has no way to say (`unverified`: a command
 * deployer without a status command).
 */
export interface DeploymentCheck {
  verdict: 'pass' | 'fail' | 'error' | 'unverified';
  /** The version the deployer reported; null when the region runs nothing of the service. */
  running?: string | null;
  detail: string;
}

/** Which regions to read: what each runs, judged against `version`. */
export interface RegionVersionsInput {
  deployer: NormalizedDeployer;
  service: string;
  version: string;
  regions: string[];
}

/** A final gate evaluation; with `deployer`, it also confirms the region runs the version. */
export interface GateInput extends SloContext {
  deployer?: NormalizedDeployer;
}

export interface SloContext {
  rolloutId: string;
  service: string;
  version: string;
  region: string;
  gate: Gate;
  prometheus?: NormalizedPlan['prometheus'];
  /** Epoch ms of the deploy; the evaluation window is [deployedAt, now]. */
  since: number;
  /** A later start of the evaluation window (a promoted region's sliding look-back); the baseline stays at `since`. */
  windowStart?: number;
  /**
   * The version the region ran before the deploy, when the deployer reported it. Fills
   * {{version}} in the baseline query of checks with a `baseline`.
   */
  baselineVersion?: string;
}

export interface WatchInput extends SloContext {
  intervalMs: number;
  /** Consecutive inconclusive/error results tolerated before returning `inconclusive-limit`. */
  maxInconclusive: number;
  /**
   * Epoch ms at which the watch stops by itself with `ended`, so that a lost cancellation
   * cannot leave it running for ever; the workflow renews it while the region needs watching.
   * Absent in histories recorded before renewals existed.
   */
  until?: number;
  /** `soak` before the gate; `promoted` afterwards, when only a breach ends the watch. */
  phase?: 'soak' | 'promoted';
  /**
   * After promotion: judge the last this-many ms, not everything since the deploy, so that
   * days of healthy traffic cannot dilute a regression.
   */
  lookbackMs?: number;
  /**
   * The soak ends in this watch: the attempt at `until` (the soak's end) evaluates the final
   * gate, with the deployer's view of the region when `deployer` is set, and returns it as
   * `gated`. One activity then covers soak and gate (docs/architecture.md, "A soak ends in
   * its own watch"). Absent for promoted regions and in rollouts started before it.
   */
  finalGate?: { deployer?: NormalizedDeployer };
}

/**
 * What the SLO watch returns. While the region is healthy it returns only at `until`:
 * `gated` with the final gate when the input asked for one, else `ended`. The workflow
 * cancels it earlier when it no longer needs it.
 */
export type WatchOutcome =
  | { kind: 'breach'; result: GateResult; checksRun: number }
  | { kind: 'inconclusive-limit'; result: GateResult; checksRun: number }
  | { kind: 'gated'; result: GateResult; checksRun: number }
  | { kind: 'ended'; checksRun: number };

/** One deploy step; a deployer provider sees it with its own settings (`D`). */
export interface DeployInput<D extends NormalizedDeployer = NormalizedDeployer> {
  rolloutId: string;
  service: string;
  region: string;
  version: string;
  deployer: D;
  /**
   * Names one intended step: this rollout (its first run id), region, version, step and
   * attempt. Activity retries reuse it; a new rollout or an operator's retry never does.
   * Absent in histories recorded before the workflow built it.
   */
  idempotencyKey?: string;
}

export interface DeployResult {
  region: string;
  version: string;
  /** What the region ran before, when the deployer knows. */
  previousVersion?: string;
  idempotencyKey: string;
  /**
   * Rollbacks: what the region runs after it, as read from the region (null: nothing of the
   * service); absent where the deployer cannot say (a command deployer without `status`).
   */
  running?: string | null;
  /** Rollbacks: the region no longer ran the version when the rollback began, so no rollback call was made. */
  alreadyBack?: boolean;
  /** When the step ended, by the clock of the worker that ran it (epoch ms). */
  at?: number;
}

export interface RollbackInput<D extends NormalizedDeployer = NormalizedDeployer> extends DeployInput<D> {
  /** The version the region ran before this rollout, when known. */
  previousVersion?: string;
  /**
   * The region's deploy was interrupted (an abort, a regression elsewhere) or failed without
   * an answer: it may still be under way at the deployer, so what the region runs now says
   * nothing, and the rollback is sent for the deployer to order after it.
   */
  afterInterruptedDeploy?: boolean;
}

export type RolloutEventKind =
  | 'started'
  | 'paused'
  | 'resumed'
  | 'halted'
  | 'rollback'
  | 'rollback-failed'
  | 'succeeded'
  | 'rolled-back'
  | 'aborted'
  | 'override'
  /** The rollout is still held (paused, halted, rollback-failed, awaiting approval): someone must act. */
  | 'reminder'
  /** A hold outlasted the plan's escalateAfter: sent to its escalateTo targets too. */
  | 'escalation';

export interface NotifyInput {
  notifications: Notification[];
  owner: Owner;
  event: {
    kind: RolloutEventKind;
    rolloutId: string;
    service: string;
    version: string;
    region?: string;
    message: string;
    at: number;
    /** The runbook section for what to do now (docs/runbook.md#<cause>), when someone must act. */
    runbook?: string;
  };
}

export interface NotifyResult {
  target: string;
  ok: boolean;
  status?: number;
  error?: string;
}

export interface MigrationInput {
  rolloutId: string;
  service: string;
  version: string;
  name: string;
  phase: 'expand' | 'contract';
  direction: 'apply' | 'revert';
  run: string[];
  // Optional: histories recorded before the plan carried them have neither.
  /** Names of worker environment variables passed to the step. */
  passEnv?: string[];
  /** Per attempt; DEFAULT_MIGRATION_TIMEOUT_MS when absent. */
  timeoutMs?: number;
  /** One intended run of this step (see DeployInput.idempotencyKey); given to the step as IDEMPOTENCY_KEY. */
  idempotencyKey?: string;
}

export interface WindowInput {
  window: DeployWindow;
  /** Epoch ms the region would start. */
  now: number;
  /** The region must be able to finish its soak inside the same allowed period. */
  soakMs: number;
  /** Which region asks (for logs); absent in histories recorded before it was passed. */
  region?: string;
}

export interface WindowDecision {
  /** Epoch ms when the region may start (== now when it may start at once). */
  startAt: number;
  /** Why it waits, e.g. "outside Mon-Fri 09:00-17:00 Europe/Dublin" or "blackout 2026-12-24". */
  reason?: string;
}

export interface QuarantineQuery {
  service: string;
  version: string;
  /** The asking run, never counted against itself. */
  runId?: string;
}

/** The start of a rollout in one step: the plan as written, and who asks (its quarantine lookup never counts itself). */
export interface PrepareRolloutInput {
  plan: unknown;
  runId: string;
  /** The attempt that reports a failed quarantine lookup instead of failing, so the workflow decides (fail closed, or an override). */
  lastAttempt: number;
}

/** The plan normalized, and the quarantine records of its version or why they could not be read. */
export interface PreparedRollout {
  plan: NormalizedPlan;
  quarantine: { records: QuarantineRecord[] } | { error: string };
}

/** A rollout that rolled this version back for failing a gate. */
export interface QuarantineRecord {
  workflowId: string;
  runId: string;
  /** The region whose gate (or late regression) failed. */
  region: string;
  /** Epoch ms the rollout ended, when it has. */
  closedAt?: number;
  /** `aborted`, `rolled-back`, `halted`, ... as the rollout's state search attribute says. */
  state?: string;
}

/** Every activity the rollout workflow calls, by name. The worker registers exactly these. */
export interface RolloutActivities {
  preparePlan(doc: unknown): Promise<NormalizedPlan>;
  /** preparePlan and checkQuarantine in one local activity: a rollout's first workflow task schedules its first deploy. */
  prepareRollout(input: PrepareRolloutInput): Promise<PreparedRollout>;
  deployRegion(input: DeployInput): Promise<DeployResult>;
  rollbackRegion(input: RollbackInput): Promise<DeployResult>;
  /** The long-running watch of rollouts started before server-retried checks. */
  watchRegion(input: WatchInput): Promise<WatchOutcome>;
  /** One SLO check per attempt; healthy is a benign retryable failure, retried at the interval. */
  checkRegion(input: WatchInput): Promise<WatchOutcome>;
  evaluateGate(input: GateInput): Promise<GateResult>;
  /** What each region runs now, read from the region (at a promotion after a hold, and before a rollout may succeed). */
  readRegionVersions(input: RegionVersionsInput): Promise<DeploymentCheck[]>;
  notify(input: NotifyInput): Promise<NotifyResult[]>;
  runMigration(input: MigrationInput): Promise<void>;
  nextDeployWindow(input: WindowInput): Promise<WindowDecision>;
  /** Earlier rollouts that quarantined this version (visibility query). */
  checkQuarantine(input: QuarantineQuery): Promise<QuarantineRecord[]>;
  /** Whether the fleet policy lets a region's deploy or promotion go now (domain/policy.ts). */
  consultPolicy(input: ConsultRequest): Promise<ConsultAnswer>;
  /** For the policy workflow: which slot holders have ended without giving their slots back. */
  endedRollouts(rolloutIds: string[]): Promise<string[]>;
  /** For the policy workflow: the periods of its calendars in [from, to) (timezone arithmetic is no workflow code). */
  calendarPeriods(input: { calendars: FreezeCalendar[]; from: number; to: number }): Promise<{ calendar: string; key: string; from: number; until: number }[]>;
}

/** The activities the fleet policy workflow calls. */
export type PolicyActivities = Pick<RolloutActivities, 'endedRollouts' | 'calendarPeriods'>;
